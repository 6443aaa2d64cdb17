"""One open page: its LabelMe file, picture, matcher and review. No widgets here."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from autolabelme.anomaly_review import PageScores
from dea_core.errors import DeaError
from dea_core.io.images import read_image
from dea_core.io.label_notes import write_label_notes
from dea_core.io.labelme_json import (
    IMAGE_SUFFIXES,
    LabelFile,
    load_label_file,
    load_label_image,
    new_label_file,
    save_label_file,
)
from dea_core.io.safe_folders import is_bundled
from dea_core.matching.cross_page import template_crop
from dea_core.matching.job import notes_path, save_crops
from dea_core.matching.matcher import PageMatcher
from dea_core.matching.review import PageReview, review_from_label_file, review_to_label_file


@dataclass
class PageDocument:
    """A page being annotated.

    source: the file that was opened (a LabelMe JSON or a picture); json_path: where Save JSON
    writes without asking (None: ask; always for the suite's bundled files, which are read-only to
    the window: `dea demo` reads them); base: the LabelMe file holding the shapes this window
    does not edit (polygons, points...), written back unchanged. scores: the DEA's verdicts on
    the page, saved with it (anomaly_review.py).
    """

    source: Path
    json_path: Path | None
    base: LabelFile
    image: np.ndarray
    review: PageReview
    matcher: PageMatcher
    recovered: bool = False
    scores: PageScores | None = None

    @classmethod
    def open(cls, path: str | os.PathLike[str]) -> PageDocument:
        """A LabelMe JSON or a picture; DeaError (naming the file) when it cannot be used."""
        path = Path(path).absolute()
        if path.suffix.lower() == ".json":
            label_file = load_label_file(path)
            image = load_label_image(label_file)
            json_path: Path | None = path
        else:
            image = read_image(path)
            label_file = new_label_file(path, image.shape[1], image.shape[0])
            beside = path.with_suffix(".json")
            json_path = None if beside.exists() else beside
        if is_bundled(path):
            json_path = None
        review, base = review_from_label_file(label_file)
        return cls(path, json_path, base, image, review, PageMatcher(image), scores=PageScores.read(label_file))

    @classmethod
    def recover(cls, autosaved: Path, source: Path, json_path: Path | None) -> PageDocument:
        """The page as autosaved, to be saved where the lost session would have saved it."""
        document = cls.open(autosaved)
        document.source, document.json_path, document.recovered = source, json_path, True
        return document

    @property
    def bundled(self) -> bool:
        """The page is one of the suite's own files (the sample): edits are saved to a copy."""
        return is_bundled(self.source)

    @property
    def name(self) -> str:
        return (self.json_path or self.source).name

    @property
    def stem(self) -> str:
        return (self.json_path or self.source).stem

    @property
    def image_file(self) -> Path | None:
        """The picture on disk, when there is one (not for pictures embedded in the JSON)."""
        if self.base.image_data is not None:
            return None
        if self.source.suffix.lower() in IMAGE_SUFFIXES:
            return self.source
        return self.base.image_file()

    def label_file(self) -> LabelFile:
        """The page as LabelMe JSON: the other shapes, every template and every accepted box, and the
        DEA's verdicts when the page was scored."""
        label_file = review_to_label_file(self.base, self.review)
        return label_file if self.scores is None else self.scores.annotate(label_file)

    def save_json(self, path: str | os.PathLike[str]) -> Path:
        """Write the LabelMe JSON atomically (and the label notes beside it); the new save target."""
        path = Path(path).absolute()
        if is_bundled(path):
            raise DeaError(f"{path}: is one of the suite's own files (read-only to AutoLabelme); save a copy "
                           "in a folder of yours")
        save_label_file(self.label_file(), path, overwrite=True)
        notes = self.review.notes()
        if notes:
            write_label_notes(notes, notes_path(path), overwrite=True)
        self.json_path = path
        self.recovered = False
        return path

    def save_crops(self, folder: str | os.PathLike[str]) -> list[Path]:
        """Every accepted box cut out and turned back upright, in a folder per label."""
        if is_bundled(folder):
            raise DeaError(f"{folder}: belongs to the installed suite; choose a folder of yours for the pictures")
        matches = [m for entry in self.review.labels for m in entry.accepted()]
        return save_crops(self.image, matches, Path(folder), self.stem)

    def template_crops(self, label: str) -> list[np.ndarray]:
        """The pictures inside `label`'s template boxes (to use them on other pages)."""
        return [template_crop(self.image, box) for box in self.review.get(label).templates]
