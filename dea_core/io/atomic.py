"""Atomic file writes: a reader sees the old file or the new one, never half of either.

The data goes to a temporary file in the destination's folder (same file system, so the final
rename is atomic), is flushed to disk, then renamed over the destination. Any failure removes the
temporary file and leaves the destination as it was. A process killed mid-write (SIGKILL, power
cut) leaves its temporary file behind: the next write of ours into that folder removes it. See
docs/adr/0002-atomic-saves.md and docs/adr/0007-output-rule.md.
"""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import socket
import stat
import time
import zlib
from pathlib import Path
from typing import Final

from dea_core.errors import DeaError

# Our temporary files: ".NAME.HOST-PID-RANDOM.tmp" (HOST: 4 hex digits of the machine's name, so
# that on a shared cluster folder one machine never judges another's process dead).
_TEMP: Final = re.compile(r"\.(?P<name>.+)\.(?P<host>[0-9a-f]{4})-(?P<pid>\d+)-[0-9a-f]{6}\.tmp")
# Those of earlier versions (".NAME.RANDOM.tmp", no process id): stale once this old.
_LEGACY_TEMP: Final = re.compile(r"\..+\.[0-9a-f]{8}\.tmp")
LEGACY_TEMP_AGE_S: Final = 3600.0
# A temp file of a process on another machine is only judged stale after this long.
FOREIGN_TEMP_AGE_S: Final = 24 * 3600.0
_NAME_KEPT: Final = 120  # characters of the destination's name kept in the temp name (255 is the limit)
_cleaned: set[str] = set()


def atomic_write_bytes(path: str | os.PathLike[str], data: bytes, *, overwrite: bool = True) -> None:
    """Write `data` to `path` atomically.

    With `overwrite=False` an existing destination is refused with a DeaError, also when it
    appears while we write. Missing folders and OS failures raise DeaError naming the path.
    """
    path = Path(path)
    check_destination(path, overwrite)
    temp = write_temp_file(path, data)
    try:
        move_into_place(temp, path, overwrite)
    except BaseException:
        remove_quietly(temp)
        raise
    fsync_folder(path.parent)


def atomic_write_text(path: str | os.PathLike[str], text: str, *, overwrite: bool = True) -> None:
    """Write `text` to `path` atomically as UTF-8 (see atomic_write_bytes)."""
    atomic_write_bytes(path, text.encode("utf-8"), overwrite=overwrite)


def check_destination(path: Path, overwrite: bool) -> None:
    """Refuse a destination whose folder is missing, that is a folder, or exists without overwrite."""
    folder = path.parent
    if not folder.is_dir():
        problem = "is not a folder" if folder.exists() else "does not exist"
        raise DeaError(f"{path}: cannot be written: the folder {folder} {problem}")
    if path.is_dir():
        raise DeaError(f"{path}: is a folder; choose a file name")
    if not overwrite and os.path.lexists(path):
        raise exists_error(path)


def exists_error(path: Path) -> DeaError:
    return DeaError(f"{path}: already exists; choose another name or pass --overwrite")


def temp_path(path: Path) -> Path:
    """A new hidden temporary name beside `path`, recognisable as ours by clean_stale_temps."""
    return path.with_name(f".{path.name[:_NAME_KEPT]}.{_HOST}-{os.getpid()}-{secrets.token_hex(3)}.tmp")


def write_temp_file(path: Path, data: bytes) -> Path:
    """Write and fsync a hidden temporary file beside `path`; removed again if anything fails."""
    clean_stale_temps(path.parent)
    temp = temp_path(path)
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
        remove_quietly(temp)
        if isinstance(error, OSError):
            raise DeaError(f"{path}: cannot be written ({error.strerror or error})") from error
        raise
    return temp


def clean_stale_temps(folder: Path) -> list[Path]:
    """Remove the temporary files our killed processes left in `folder` (once per folder and process).

    A temp file is stale when the process that wrote it (its id is in the name) no longer runs on
    this machine; one from another machine, or from an earlier version (no id), when it is old.
    """
    key = os.path.abspath(folder)
    if key in _cleaned:
        return []
    _cleaned.add(key)
    removed = []
    with contextlib.suppress(OSError), os.scandir(folder) as entries:
        for entry in entries:
            if entry.name.startswith(".") and entry.name.endswith(".tmp") and _is_stale(entry):
                with contextlib.suppress(OSError):
                    os.unlink(entry.path)
                    removed.append(Path(entry.path))
    return removed


def _is_stale(entry: os.DirEntry) -> bool:
    found = _TEMP.fullmatch(entry.name)
    if found is None:
        return _LEGACY_TEMP.fullmatch(entry.name) is not None and _age(entry) > LEGACY_TEMP_AGE_S
    if found["host"] != _HOST:
        return _age(entry) > FOREIGN_TEMP_AGE_S
    pid = int(found["pid"])
    return pid != os.getpid() and not _process_runs(pid)


def _age(entry: os.DirEntry) -> float:
    return time.time() - entry.stat(follow_symlinks=False).st_mtime


def _process_runs(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError):
        return True  # another user's process, or an id we cannot ask about: leave it alone
    return True


def _copy_mode(path: Path, temp: Path) -> None:
    """Keep the permissions of a file we replace."""
    with contextlib.suppress(FileNotFoundError):
        os.chmod(temp, stat.S_IMODE(os.stat(path).st_mode))


def move_into_place(temp: Path, path: Path, overwrite: bool) -> None:
    """Rename `temp` to `path`; without `overwrite`, only if nothing is there (checked atomically)."""
    try:
        if overwrite:
            os.replace(temp, path)
        else:
            _link_without_clobbering(temp, path)
    except FileExistsError as error:
        raise exists_error(path) from error
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
        if os.path.lexists(path):
            raise FileExistsError(path) from None
        os.replace(temp, path)
        return
    remove_quietly(temp)


def fsync_folder(folder: Path) -> None:
    """Make the rename itself durable where the platform allows syncing a folder (not Windows)."""
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def remove_quietly(temp: Path) -> None:
    with contextlib.suppress(FileNotFoundError):
        os.unlink(temp)


_HOST: Final = f"{zlib.crc32(socket.gethostname().encode()) & 0xFFFF:04x}"
