import os
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import pytest

# Qt windows run without a screen in tests and CI.
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


@pytest.fixture(scope="session")
def labelme_reader():
    """labelme's own loader (imported late: it pulls in Qt and onnxruntime)."""
    from labelme import LabelFile

    return LabelFile


Box = tuple[int, int, int, int]
# Crops of real pages (../shared/data/pages), committed with their sources (tests/data/pages/SOURCES.md),
# so the tests run on a clone alone: page name -> (crop file, its top-left corner on the page).
REAL_CROPS = Path(__file__).resolve().parent / "data" / "pages"
CROP_FILES: dict[str, tuple[str, tuple[int, int]]] = {
    "1643_corneille_cinna_btv1b8610802d_f11.jpg": ("1643_cinna_f11_headpiece.png", (245, 265)),
    "1696_regnard_foire-st-germain_bpt6k1281160s_f11.jpg": ("1696_regnard_f11_headpiece.png", (224, 216)),
}


@dataclass(frozen=True)
class RealCrop:
    """A crop of a real page, what was counted on it by eye, and boxes as a person draws them
    (crop pixels); the counts come from the hand-checked truth, benchmarks/data/matching."""

    name: str
    crop: Box
    image: np.ndarray
    lily: Box = (434, 11, 486, 62)
    other_lily: Box = (320, 13, 372, 64)
    scroll: Box = (93, 72, 156, 136)
    mirror_sort_scroll: Box = (909, 63, 973, 126)
    lilies: int = 33
    scrolls: int = 28
    mirror_sorts: int = 16


def real_page_crop(name: str, box: Box) -> np.ndarray:
    """(H, W) uint8 gray: `box` (x0, y0, x1, y1, page pixels) of a real page, from its committed crop."""
    file, (left, top) = CROP_FILES[name]
    crop = cv2.imread(str(REAL_CROPS / file), cv2.IMREAD_GRAYSCALE)
    x0, y0, x1, y1 = box
    assert left <= x0 < x1 <= left + crop.shape[1] and top <= y0 < y1 <= top + crop.shape[0], (name, box)
    return np.ascontiguousarray(crop[y0 - top:y1 - top, x0 - left:x1 - left])


@pytest.fixture(scope="session")
def cinna_headpiece() -> RealCrop:
    """The headpiece of Corneille's Cinna (1643), left two thirds: a row of lily fleurons, two rows
    of scrolls (plain, turned and separately cut mirror sorts) and a row of small fleurons."""
    name, crop = "1643_corneille_cinna_btv1b8610802d_f11.jpg", (245, 265, 1250, 525)
    return RealCrop(name, crop, real_page_crop(name, crop))
