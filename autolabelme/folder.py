"""Folder mode: the pages of a folder, and the templates carried from page to page."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from dea_core.io.labelme_json import IMAGE_SUFFIXES


def pages_in_folder(folder: Path) -> list[Path]:
    """The pages of `folder`, in name order: each picture's LabelMe JSON if it has one, else the
    picture; JSON files without a picture of the same name too (their picture may be embedded).
    Hidden files (autosaves, temporary files) and label-note files are left out."""
    files = sorted(p for p in Path(folder).iterdir() if p.is_file() and not p.name.startswith("."))
    jsons = {p.stem: p for p in files
             if p.suffix.lower() == ".json" and not p.name.endswith(".label_notes.json")}
    pages: list[Path] = []
    for path in files:
        if path.suffix.lower() in IMAGE_SUFFIXES:
            pages.append(jsons.pop(path.stem, path))
    pages.extend(jsons.values())
    return sorted(pages, key=lambda p: p.name.lower())


@dataclass
class FolderSession:
    """The folder being stepped through and the page now open."""

    folder: Path
    pages: list[Path]
    index: int = 0

    @property
    def current(self) -> Path:
        return self.pages[self.index]

    def position(self) -> str:
        return f"page {self.index + 1} of {len(self.pages)}"

    def replace_current(self, path: Path) -> None:
        """The open page was saved as `path` (a picture's new JSON)."""
        self.pages[self.index] = path


@dataclass(frozen=True)
class CarriedTemplate:
    """A label's template pictures, cut from the page where they were drawn."""

    note: str | None
    crops: tuple[np.ndarray, ...]
    page_name: str


@dataclass
class TemplateLibrary:
    """Templates drawn on one page of a folder, to look for on every other page."""

    templates: dict[str, CarriedTemplate] = field(default_factory=dict)

    def learn(self, label: str, note: str | None, crops: list[np.ndarray], page_name: str) -> None:
        if crops:
            self.templates[label] = CarriedTemplate(note, tuple(crops), page_name)

    def get(self, label: str) -> CarriedTemplate | None:
        return self.templates.get(label)

    def labels(self) -> list[str]:
        return list(self.templates)

    def clear(self) -> None:
        self.templates.clear()
