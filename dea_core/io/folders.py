"""Output folders: created when missing, with a clear message when they cannot be."""

from __future__ import annotations

from pathlib import Path

from dea_core.errors import DeaError


def prepare_folder(out_dir: Path) -> None:
    """Create an output folder, or say clearly why it cannot be one."""
    if out_dir.exists() and not out_dir.is_dir():
        raise DeaError(f"{out_dir}: is a file; give a folder for the results")
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise DeaError(f"{out_dir}: cannot create the output folder ({error.strerror or error})") from error
