"""Folders of vignette crops as training pages: the DEA (and the detector) can learn from the crops
that `dea match --save-crops` and AutoLabelme's Save Images write, not only from boxed pages.

Those folders hold one subfolder per label, each crop named `<page>_<NNN>_<pose>.png` and turned
back into its template's pose. The crops of one source page are set in rows on paper, with a gap
of half a vignette, on a new page with a LabelMe box around each; `prepare_dataset` then cuts
training crops from these pages as from any other, and its split by page keeps every crop of a
source page on one side. A crop whose name does not follow the pattern is a page of its own.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Final

import numpy as np

from dea_core.detection.errors import DatasetError
from dea_core.errors import ImageLoadError
from dea_core.io import Shape, atomic_write_bytes, encode_png, new_label_file, read_image, save_label_file
from dea_core.io.labelme_json import IMAGE_SUFFIXES

ROW_WIDTH: Final = 1600  # pixels: a row of vignettes wraps beyond this
_SOURCE_PAGE: Final = re.compile(r"^(?P<page>.+)_\d{3}_")


def vignette_crops(folder: str | os.PathLike[str]) -> dict[str, list[tuple[str, Path]]]:
    """Source page name -> its (label, crop file) pairs, from a folder with one subfolder per label."""
    folder = Path(folder)
    if not folder.is_dir():
        raise DatasetError(f"{folder}: not a folder of vignette crops")
    pages: dict[str, list[tuple[str, Path]]] = {}
    for label_dir in sorted(p for p in folder.iterdir() if p.is_dir()):
        for crop in sorted(p for p in label_dir.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES):
            match = _SOURCE_PAGE.match(crop.stem)
            pages.setdefault(match["page"] if match else crop.stem, []).append((label_dir.name, crop))
    if not pages:
        raise DatasetError(f"{folder}: no crops found; it should hold one subfolder of pictures per label "
                           "(as `dea match --save-crops` writes)")
    return pages


def write_vignette_pages(folder: str | os.PathLike[str], out_dir: str | os.PathLike[str]) -> list[Path]:
    """One LabelMe page per source page of the crops in `folder`, written in `out_dir`; their paths."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for page, crops in vignette_crops(folder).items():
        pictures = [(label, _read_crop(path)) for label, path in crops]
        image, boxes = set_in_rows([picture for _, picture in pictures])
        stem = "".join(c if c.isalnum() or c in "-_." else "_" for c in page)
        atomic_write_bytes(out_dir / f"{stem}.png", encode_png(image))
        shapes = [Shape(label=label, points=[[x0, y0], [x1, y1]]) for (label, _), (x0, y0, x1, y1) in zip(pictures, boxes)]
        label_file = new_label_file(out_dir / f"{stem}.png", image.shape[1], image.shape[0], shapes)
        written.append(save_label_file(label_file, out_dir / f"{stem}.json", overwrite=True))
    return written


def set_in_rows(pictures: list[np.ndarray]) -> tuple[np.ndarray, list[tuple[int, int, int, int]]]:
    """BGR pictures set left to right in rows on their paper colour: the page (H, W, 3) and each box xyxy."""
    gap = max(8, int(np.median([p.shape[0] for p in pictures])) // 2)
    boxes, x, y, row_height = [], gap, gap, 0
    for picture in pictures:
        height, width = picture.shape[:2]
        if x > gap and x + width + gap > ROW_WIDTH:
            x, y, row_height = gap, y + row_height + gap, 0
        boxes.append((x, y, x + width, y + height))
        x, row_height = x + width + gap, max(row_height, height)
    page = np.empty((y + row_height + gap, max(b[2] for b in boxes) + gap, 3), np.uint8)
    page[:] = _paper(pictures)
    for picture, (x0, y0, x1, y1) in zip(pictures, boxes):
        page[y0:y1, x0:x1] = picture
    return page, boxes


def _paper(pictures: list[np.ndarray]) -> np.ndarray:
    """The median colour of the crops' outer pixels: the paper around the vignettes."""
    rims = [np.concatenate([p[0], p[-1], p[:, 0], p[:, -1]]) for p in pictures]
    return np.median(np.concatenate(rims), axis=0).astype(np.uint8)


def _read_crop(path: Path) -> np.ndarray:
    try:
        return read_image(path)
    except ImageLoadError as error:
        raise DatasetError(f"{error}; remove it from the crops folder or replace it") from error
