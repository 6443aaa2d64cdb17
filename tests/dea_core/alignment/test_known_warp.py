"""The mapping recovers a warp we made ourselves (homography + smooth bend + re-inking)."""

import cv2
import numpy as np
import pytest

from dea_core.alignment.fine import FineOptions
from dea_core.alignment.pipeline import AlignOptions, align_pair
from dea_core.alignment.synthetic import change_printing, synthetic_pair
from dea_core.io.images import read_image


def end_point_errors(found: np.ndarray, truth: np.ndarray, mask: np.ndarray) -> np.ndarray:
    return np.linalg.norm(found.astype(np.float64) - truth, axis=2)[mask]


@pytest.mark.parametrize("seed", [1, 2])
def test_headpiece_warp_is_recovered_to_a_fraction_of_a_pixel(headpiece_f39, seed):
    rng = np.random.default_rng(seed)
    pair = synthetic_pair(rng, headpiece_f39)
    mask = pair.evaluation_mask(headpiece_f39.shape)
    result = align_pair(pair.reference, headpiece_f39, AlignOptions())
    errors = end_point_errors(result.mapping, pair.mapping, mask)
    # Tolerance: mean under 0.6 px and 85% of pixels within 1 px at this small size (measured 0.44 and
    # 0.93 for seed 2); the benchmark holds the 1200 px figures.
    assert errors.mean() < 0.6
    assert (errors <= 1.0).mean() > 0.85
    assert result.mapping.shape == (*pair.reference.shape[:2], 2) and result.mapping.dtype == np.float32


def test_fine_stage_beats_the_homographies_on_a_bent_page(data_dir):
    page = read_image(data_dir / "1696_regnard_f11_page.jpg")
    pair = synthetic_pair(np.random.default_rng(3), page)
    mask = pair.evaluation_mask(page.shape)
    coarse = align_pair(pair.reference, page, AlignOptions(fine=None))
    fine = align_pair(pair.reference, page, AlignOptions(fine=FineOptions()))
    coarse_errors = end_point_errors(coarse.mapping, pair.mapping, mask)
    fine_errors = end_point_errors(fine.mapping, pair.mapping, mask)
    assert fine_errors.mean() < coarse_errors.mean()
    assert np.median(fine_errors) < 0.5  # measured 0.25 (homographies alone: 0.70)
    assert fine.quality.ssim_after > fine.quality.ssim_before


def test_two_parts_moved_apart_get_a_homography_each(data_dir):
    """The headpiece block moved by (10, 6) px against the text, as if pasted on its own."""
    page = read_image(data_dir / "1696_regnard_f11_page.jpg")
    height, width = page.shape[:2]
    cut = 200  # between the headpiece and title (y < 200) and the text below
    moved = page.copy()
    moved[:cut] = 255
    top = cv2.warpAffine(page[:cut], np.float32([[1, 0, 10], [0, 1, 6]]), (width, cut + 6),
                         borderValue=(255, 255, 255))
    moved[:cut + 6] = np.minimum(moved[:cut + 6], top)
    moved = change_printing(np.random.default_rng(0), moved)
    truth = np.dstack(np.meshgrid(np.arange(width, dtype=np.float32), np.arange(height, dtype=np.float32)))
    truth[:cut] += [10, 6]

    result = align_pair(page, moved, AlignOptions())
    assert len(result.homographies) >= 2
    errors = np.linalg.norm(result.mapping - truth, axis=2)
    rows = np.arange(height)[:, None]
    inked = cv2.dilate(cv2.Canny(page, 50, 150), np.ones((7, 7), np.uint8)) > 0
    for part in (rows < cut - 12, rows > cut + 12):
        chosen = part & inked & result.inside
        assert errors[chosen].mean() < 1.0  # measured 0.44 above, 0.68 below (homographies alone 1.8, 2.7)
