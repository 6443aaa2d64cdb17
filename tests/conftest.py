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


# The real pages, beside the repository as in CI (../shared/data/pages).
REAL_PAGES = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "pages"
Box = tuple[int, int, int, int]


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
    """(H, W) uint8 gray: `box` (x0, y0, x1, y1) of a real page; the test is skipped without the pages."""
    path = REAL_PAGES / name
    if not path.exists():
        pytest.skip(f"{path} not found: the real pages live in ../shared/data/pages")
    x0, y0, x1, y1 = box
    return np.ascontiguousarray(cv2.imread(str(path), cv2.IMREAD_GRAYSCALE)[y0:y1, x0:x1])


@pytest.fixture(scope="session")
def cinna_headpiece() -> RealCrop:
    """The headpiece of Corneille's Cinna (1643), left two thirds: a row of lily fleurons, two rows
    of scrolls (plain, turned and separately cut mirror sorts) and a row of small fleurons."""
    name, crop = "1643_corneille_cinna_btv1b8610802d_f11.jpg", (245, 265, 1250, 525)
    return RealCrop(name, crop, real_page_crop(name, crop))
