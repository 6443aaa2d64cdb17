"""A page given either as its picture or as a LabelMe file: the batch commands accept both."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from dea_core.io.images import read_image
from dea_core.io.labelme_json import load_label_file, load_label_image


def is_label_file(path: str | os.PathLike[str]) -> bool:
    return Path(path).suffix.lower() == ".json"


def page_image_path(path: str | os.PathLike[str]) -> Path:
    """The picture of a page: the file itself, or the one a LabelMe file names."""
    path = Path(path)
    return load_label_file(path).image_file() if is_label_file(path) else path


def read_page(path: str | os.PathLike[str]) -> tuple[np.ndarray, Path]:
    """A page's picture, BGR uint8 (H, W, 3), and its file (the LabelMe file's picture for a .json)."""
    path = Path(path)
    if is_label_file(path):
        label_file = load_label_file(path)
        return load_label_image(label_file), label_file.image_file()
    return read_image(path), path
