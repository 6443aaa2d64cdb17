"""Where the windows may write: never into the system, the home folder itself or the suite's own files.

A person choosing a results folder in a dialog can slip (the RANSAC GUI once wrote 11 files into
`/`), and the bundled sample files are read by `dea demo`: saving over them would change the next
demo. These checks are plain path rules, so the CLI and both windows share them.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from dea_core.errors import DeaError
from dea_core.paths import RESOURCES

_SUITE = RESOURCES.parent
# The suite's own folders: its packages and bundled resources.
BUNDLED_FOLDERS = tuple(_SUITE / name for name in ("resources", "dea_core", "autolabelme", "ransac_gui"))
# Folders that only hold the system: nothing of the person's is written inside them.
_SYSTEM_TREES = ("/bin", "/boot", "/dev", "/etc", "/lib", "/lib32", "/lib64", "/proc", "/run", "/sbin",
                 "/sys", "/usr")
# Folders whose own top level is the system's, though the person's files may lie deeper.
_SYSTEM_TOPS = ("/", "/home", "/media", "/mnt", "/opt", "/srv", "/tmp", "/var", "/Users", "/Volumes")


def _resolved(path: Path) -> Path:
    return Path(os.path.abspath(os.path.expanduser(path))).resolve()


def _inside(path: Path, folder: Path) -> bool:
    try:
        return path == folder or path.is_relative_to(folder.resolve())
    except OSError:
        return False


def _installed_trees() -> list[Path]:
    """The Python installation and the virtual environment the suite runs in."""
    trees = {Path(sys.prefix), Path(sys.base_prefix), Path(sys.exec_prefix)}
    for name in ("SystemRoot", "ProgramFiles", "ProgramFiles(x86)"):  # Windows
        if os.environ.get(name):
            trees.add(Path(os.environ[name]))
    return [tree.resolve() for tree in trees]


def is_bundled(path: str | os.PathLike[str]) -> bool:
    """True for a file or folder of the suite itself (the sample page, the packages) or of the
    Python installation: the windows read these but save edits of them elsewhere."""
    where = _resolved(Path(path))
    return any(_inside(where, tree) for tree in (*BUNDLED_FOLDERS, *_installed_trees()))


def check_output_folder(folder: str | os.PathLike[str]) -> Path:
    """The folder, absolute, if results may be written into it; else a DeaError saying why.

    Refused: a file, the file system's root and other system folders, the home folder itself
    (results go in a folder of their own inside it), and the suite's or Python's own files.
    """
    where = _resolved(Path(folder))
    if where.exists() and not where.is_dir():
        raise DeaError(f"{where}: is a file; choose a folder for the results")
    home = _resolved(Path.home())
    if where == home:
        raise DeaError(f"{where}: is your home folder itself; choose or name a folder inside it for the results")
    if str(where) in _SYSTEM_TOPS or where.parent == where or any(_inside(where, Path(t)) for t in _SYSTEM_TREES):
        raise DeaError(f"{where}: is a system folder; choose a folder of your own (for example inside {home})")
    if is_bundled(where):
        raise DeaError(f"{where}: belongs to the installed suite or Python; choose a folder of your own "
                       f"(for example inside {home})")
    return where


def other_files(folder: str | os.PathLike[str]) -> list[str]:
    """The names of what `folder` already holds (hidden files left out), in name order; [] when missing."""
    where = Path(folder)
    if not where.is_dir():
        return []
    try:
        return sorted(entry.name for entry in where.iterdir() if not entry.name.startswith("."))
    except OSError as error:
        raise DeaError(f"{where}: cannot be read ({error.strerror or error})") from error
