"""Atomic file writes: a reader sees the old file or the new one, never half of either.

The data goes to a temporary file in the destination's folder (same file system, so the final
rename is atomic), is flushed to disk, then renamed over the destination. Any failure removes the
temporary file and leaves the destination as it was. See docs/adr/0002-atomic-saves.md.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import stat
from pathlib import Path

from dea_core.errors import DeaError


def atomic_write_bytes(path: str | os.PathLike[str], data: bytes, *, overwrite: bool = True) -> None:
    """Write `data` to `path` atomically.

    With `overwrite=False` an existing destination is refused with a DeaError, also when it
    appears while we write. Missing folders and OS failures raise DeaError naming the path.
    """
    path = Path(path)
    _check_destination(path, overwrite)
    temp = _write_temp_file(path, data)
    try:
        _move_into_place(temp, path, overwrite)
    except BaseException:
        _remove_quietly(temp)
        raise
    _fsync_folder(path.parent)


def atomic_write_text(path: str | os.PathLike[str], text: str, *, overwrite: bool = True) -> None:
    """Write `text` to `path` atomically as UTF-8 (see atomic_write_bytes)."""
    atomic_write_bytes(path, text.encode("utf-8"), overwrite=overwrite)


def _check_destination(path: Path, overwrite: bool) -> None:
    folder = path.parent
    if not folder.is_dir():
        problem = "is not a folder" if folder.exists() else "does not exist"
        raise DeaError(f"{path}: cannot be written: the folder {folder} {problem}")
    if path.is_dir():
        raise DeaError(f"{path}: is a folder; choose a file name")
    if not overwrite and path.exists():
        raise _exists_error(path)


def _exists_error(path: Path) -> DeaError:
    return DeaError(f"{path}: already exists; choose another name or pass overwrite")


def _write_temp_file(path: Path, data: bytes) -> Path:
    """Write and fsync a hidden temporary file beside `path`; removed again if anything fails."""
    temp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    try:
        # os.open with 0o666 lets the umask decide the mode, as for any new file.
        fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o666)
    except OSError as error:
        raise DeaError(f"{path}: cannot be written ({error.strerror})") from error
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        _copy_mode(path, temp)
    except BaseException as error:
        _remove_quietly(temp)
        if isinstance(error, OSError):
            raise DeaError(f"{path}: cannot be written ({error.strerror or error})") from error
        raise
    return temp


def _copy_mode(path: Path, temp: Path) -> None:
    """Keep the permissions of a file we replace."""
    with contextlib.suppress(FileNotFoundError):
        os.chmod(temp, stat.S_IMODE(os.stat(path).st_mode))


def _move_into_place(temp: Path, path: Path, overwrite: bool) -> None:
    try:
        if overwrite:
            os.replace(temp, path)
        else:
            _link_without_clobbering(temp, path)
    except FileExistsError as error:
        raise _exists_error(path) from error
    except OSError as error:
        raise DeaError(f"{path}: cannot be written ({error.strerror or error})") from error


def _link_without_clobbering(temp: Path, path: Path) -> None:
    """Put `temp` at `path` only if nothing is there: os.link fails on an existing name.

    File systems without hard links (FAT, some network shares) fall back to check-then-rename.
    """
    try:
        os.link(temp, path)
    except FileExistsError:
        raise
    except OSError:
        if path.exists():
            raise FileExistsError(path) from None
        os.replace(temp, path)
        return
    _remove_quietly(temp)


def _fsync_folder(folder: Path) -> None:
    """Make the rename itself durable where the platform allows syncing a folder (not Windows)."""
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _remove_quietly(temp: Path) -> None:
    with contextlib.suppress(FileNotFoundError):
        os.unlink(temp)
