"""Small crops of the real pages in ../shared/data/pages (beside the repository, as in CI)."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

PAGES = Path(__file__).resolve().parents[3].parent / "shared" / "data" / "pages"
CINNA = "1643_corneille_cinna_btv1b8610802d_f11.jpg"
# The headpiece of Corneille's Cinna (1643), left two thirds: a row of lily fleurons, two rows of
# scrolls (plain, turned and separately cut mirror sorts) and a row of small fleurons.
CINNA_CROP = (245, 265, 1250, 525)
# Counted by eye in that crop (the hand-checked truth, benchmarks/data/matching).
CINNA_LILIES, CINNA_SCROLLS, CINNA_MIRROR_SORTS = 33, 28, 16
# Boxes as a person draws them, in crop pixels: a lily, another lily, a plain scroll, a mirror-sort scroll.
LILY, OTHER_LILY = (434, 11, 486, 62), (320, 13, 372, 64)
SCROLL, MIRROR_SORT_SCROLL = (93, 72, 156, 136), (909, 63, 973, 126)


def page_crop(name: str, box: tuple[int, int, int, int]) -> np.ndarray:
    """(H, W) uint8 gray: `box` (x0, y0, x1, y1) of a real page; the test is skipped without the pages."""
    path = PAGES / name
    if not path.exists():
        pytest.skip(f"{path} not found: the real pages live in ../shared/data/pages")
    x0, y0, x1, y1 = box
    return np.ascontiguousarray(cv2.imread(str(path), cv2.IMREAD_GRAYSCALE)[y0:y1, x0:x1])
