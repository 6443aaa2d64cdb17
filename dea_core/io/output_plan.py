"""Several output files of one command, checked before anything is written and committed together.

A command declares every file it will write (`plan.add`) as soon as it knows the names, before the
long work; each is checked against the command's inputs (the same file, a hard link or a symbolic
link to one), against existing files (refused without `--overwrite`), against folders and
read-only places, and against links that would lead a subfolder of an output folder elsewhere.
After the work, each file's bytes go to a hidden temporary name beside it (`plan.stage`); only
when all are staged does `plan.commit` rename them into place. If anything fails, the staged
files are removed, the files already renamed are put back as they were, and the folders the plan
made are removed again: an error leaves the disk as it was. See docs/adr/0007-output-rule.md.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Self

from dea_core.errors import DeaError
from dea_core.io.atomic import (
    exists_error,
    fsync_folder,
    move_into_place,
    remove_quietly,
    temp_path,
    write_temp_file,
)


@dataclass
class _Output:
    path: Path
    replaces_input: bool
    temp: Path | None = None


class OutputPlan:
    """The outputs of one run: declare with `add`, write with `stage`, then `commit` (or `discard`).

    Use as a context manager: leaving the block by an exception discards what was staged.
    `inputs` are the files the command reads; no output may be one of them, except one added
    with `replaces_input=True` when `overwrite` is set (`dea match -o PAGE.json --overwrite`).
    """

    def __init__(self, inputs: Iterable[str | os.PathLike[str]] = (), *, overwrite: bool = False) -> None:
        self.overwrite = overwrite
        self._inputs: dict[tuple[int, int], Path] = {}
        self._outputs: dict[str, _Output] = {}
        self._made_folders: list[Path] = []
        for path in inputs:
            self.add_input(path)

    def add_input(self, path: str | os.PathLike[str]) -> None:
        """One more file the command reads (known only once a first input is open, e.g. a page's picture)."""
        with contextlib.suppress(OSError):
            info = os.stat(path)
            self._inputs.setdefault((info.st_dev, info.st_ino), Path(path))

    @property
    def paths(self) -> list[Path]:
        return [output.path for output in self._outputs.values()]

    def add(self, path: str | os.PathLike[str], *, within: str | os.PathLike[str] | None = None,
            replaces_input: bool = False) -> Path:
        """Declare and check one output; its folder may be missing only below `within` (a folder we create).

        Raises DeaError naming the file when it would be written twice, is an input, exists without
        --overwrite, is a folder, or its folder cannot hold it.
        """
        path = Path(path)
        key = os.path.abspath(path)
        if key in self._outputs:
            raise DeaError(f"{path}: would be written twice by this command; choose distinct output names")
        if within is not None:
            _check_inside(path, Path(within))
        self._check_folder(path, within is not None)
        if os.path.isdir(path):
            raise DeaError(f"{path}: is a folder; choose a file name")
        self._check_against_inputs(path, replaces_input)
        if os.path.lexists(path) and not self.overwrite:
            raise exists_error(path)
        self._outputs[key] = _Output(path, replaces_input)
        return path

    def add_folder(self, folder: str | os.PathLike[str]) -> Path:
        """Check early a folder that will hold outputs named later (made at staging when missing)."""
        folder = Path(folder)
        if os.path.lexists(folder) and not folder.is_dir():
            raise DeaError(f"{folder}: is a file; give a folder for the results")
        self._check_folder(folder / "_", may_be_made=True)
        return folder

    def stage(self, path: str | os.PathLike[str], data: bytes | str) -> Path:
        """Write the declared output's bytes (or UTF-8 text) to its temporary name."""
        output = self._outputs.get(os.path.abspath(path))
        if output is None:
            raise DeaError(f"{path}: was not declared as an output of this command")
        if output.temp is not None:
            raise DeaError(f"{path}: is already written by this command")
        self._make_folder(output.path.parent)
        output.temp = write_temp_file(output.path, data.encode("utf-8") if isinstance(data, str) else data)
        return output.path

    def commit(self) -> list[Path]:
        """Rename every staged file into place; on a failure undo the renames done and raise."""
        staged = [output for output in self._outputs.values() if output.temp is not None]
        done: list[tuple[_Output, Path | None]] = []
        try:
            for output in staged:
                self._check_against_inputs(output.path, output.replaces_input)  # a link planted meanwhile
                backup = _backup(output.path)
                done.append((output, backup))
                assert output.temp is not None
                move_into_place(output.temp, output.path, self.overwrite)
                output.temp = None
        except BaseException:
            for output, backup in reversed(done):
                _restore(output.path, backup, output.temp is None)
            self.discard()
            raise
        for _, backup in done:
            if backup is not None:
                remove_quietly(backup)
        for folder in {output.path.parent for output in staged}:
            fsync_folder(folder)
        self._made_folders.clear()
        return [output.path for output in staged]

    def discard(self) -> None:
        """Remove every staged temporary file and the folders this plan made."""
        for output in self._outputs.values():
            if output.temp is not None:
                remove_quietly(output.temp)
                output.temp = None
        for folder in reversed(self._made_folders):
            with contextlib.suppress(OSError):
                folder.rmdir()  # only if empty: never what someone else put there
        self._made_folders.clear()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 traceback: TracebackType | None) -> None:
        self.discard()

    def _check_folder(self, path: Path, may_be_made: bool) -> None:
        folder = path.parent
        existing = folder
        while may_be_made and not os.path.lexists(existing) and existing != existing.parent:
            existing = existing.parent
        if not existing.is_dir():
            problem = "does not exist" if not os.path.lexists(existing) else "is not a folder"
            raise DeaError(f"{path}: cannot be written: the folder {existing} {problem}")
        if not os.access(existing, os.W_OK | os.X_OK):
            raise DeaError(f"{path}: cannot be written: the folder {existing} is read-only")

    def check_not_input(self, path: str | os.PathLike[str]) -> None:
        """Refuse `path` if it is (or is a link to) one of the inputs; nothing is declared."""
        self._check_against_inputs(Path(path), replaces_input=False)

    def _check_against_inputs(self, path: Path, replaces_input: bool) -> None:
        try:
            info = os.stat(path)
        except OSError:
            return
        source = self._inputs.get((info.st_dev, info.st_ino))
        if source is None or (replaces_input and self.overwrite and not os.path.islink(path)):
            return
        same = "is" if os.path.abspath(source) == os.path.abspath(path) else f"is the same file as the input {source}:"
        hint = " or pass --overwrite to replace it" if replaces_input else ""
        raise DeaError(f"{path}: {same} an input of this command; choose another output name{hint}")

    def _make_folder(self, folder: Path) -> None:
        missing = []
        while not os.path.lexists(folder) and folder != folder.parent:
            missing.append(folder)
            folder = folder.parent
        for made in reversed(missing):
            try:
                made.mkdir()
            except OSError as error:
                raise DeaError(f"{made}: cannot create the folder ({error.strerror or error})") from error
            self._made_folders.append(made)


def _check_inside(path: Path, root: Path) -> None:
    """Refuse a path below `root` that a symbolic link leads out of it."""
    real_root = os.path.realpath(root)
    real_folder = os.path.realpath(path.parent)
    if os.path.commonpath([real_root, real_folder]) != real_root:
        raise DeaError(f"{path}: a symbolic link leads out of the output folder {root} (to {real_folder}); "
                       "remove the link or choose another folder")


def _backup(path: Path) -> Path | None:
    """A hard link to the file `path` holds now, to put it back if the commit fails (None: nothing there)."""
    if not os.path.isfile(path) or os.path.islink(path):
        return None
    backup = temp_path(path)
    try:
        os.link(path, backup)
    except OSError:
        return None  # no hard links here: that file cannot be restored, the others still are
    return backup


def _restore(path: Path, backup: Path | None, renamed: bool) -> None:
    if not renamed:
        if backup is not None:
            remove_quietly(backup)
        return
    with contextlib.suppress(OSError):
        if backup is not None:
            os.replace(backup, path)
        else:
            os.unlink(path)
