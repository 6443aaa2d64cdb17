"""The original AutoLabelme's "label note" convention.

Users typed a short label followed by a free note in LabelMe's label box: `0 This is a Sun` is
label `0` with the note `This is a Sun`. We move the note into the shape's description (where
LabelMe shows it) and keep a separate label-to-note JSON beside the results: {"0": "This is a Sun"}.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from dea_core.errors import LabelFileError
from dea_core.io.atomic import atomic_write_text
from dea_core.io.labelme_json import LabelFile
from dea_core.io.reading import read_json


def split_label_note(text: str) -> tuple[str, str | None]:
    """('0', 'This is a Sun') from '0 This is a Sun'; a label without a space has no note."""
    parts = text.split(maxsplit=1)
    if len(parts) < 2:
        return text, None
    return parts[0], parts[1].strip()


def apply_label_notes(label_file: LabelFile) -> dict[str, str]:
    """Move each shape's note into its description, keep the short label; return label -> note.

    Changes `label_file` in place. An existing description is kept, the note is added on a new
    line. When one label carries different notes, the mapping keeps the first; every shape still
    keeps its own note in its description.
    """
    notes: dict[str, str] = {}
    for shape in label_file.shapes:
        label, note = split_label_note(shape.label)
        if note is None:
            continue
        shape.label = label
        shape.description = _joined(shape.description, note)
        notes.setdefault(label, note)
    return notes


def write_label_notes(
    notes: dict[str, str], path: str | os.PathLike[str], *, overwrite: bool = False
) -> Path:
    """Write the label-to-note JSON atomically (UTF-8, indent 2) and return its path."""
    path = Path(path)
    atomic_write_text(path, label_notes_text(notes), overwrite=overwrite)
    return path


def label_notes_text(notes: dict[str, str]) -> str:
    """The label-to-note JSON as written (UTF-8 text, indent 2)."""
    return json.dumps(notes, ensure_ascii=False, indent=2) + "\n"


def read_label_notes(path: str | os.PathLike[str]) -> dict[str, str]:
    """Read a label-to-note JSON written by write_label_notes (or by the original AutoLabelme)."""
    path = Path(path)
    data: Any = read_json(path, "label-to-note file", LabelFileError)
    if not isinstance(data, dict) or not all(isinstance(note, str) for note in data.values()):
        raise LabelFileError(f'{path}: is not a label-to-note file (expected {{"label": "note", ...}})')
    return data


def _joined(description: str | None, note: str) -> str:
    """The description with the note added, unless it already holds it."""
    if not description:
        return note
    if note in description.splitlines():
        return description
    return f"{description}\n{note}"
