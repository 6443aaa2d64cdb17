"""Pairs that do not align are reported as failed, with a message, never silently 'aligned'."""

import itertools

import numpy as np
import pytest

from dea_core.alignment.errors import AlignmentCancelled, AlignmentError
from dea_core.alignment.pipeline import PAIR_STEPS, AlignOptions, align_batch, align_pair
from dea_core.alignment.quality import MIN_INK_AGREEMENT, ink_agreement
from dea_core.io.images import read_image


def test_a_pair_with_nothing_in_common_fails_with_the_source_named(headpiece_f39, data_dir):
    church = read_image(data_dir / "megadepth_2_1.jpg")
    with pytest.raises(AlignmentError, match=r"^church\.jpg: "):
        align_pair(headpiece_f39, church, AlignOptions(fine=None), name="church.jpg")


def test_two_different_pages_fail(data_dir, headpiece_f39):
    page = read_image(data_dir / "1696_regnard_f11_page.jpg")
    with pytest.raises(AlignmentError):
        align_pair(page, headpiece_f39, AlignOptions(fine=None))


def test_ink_agreement_tells_the_right_overlay_from_one_shifted_by_a_few_pixels(headpiece_f39):
    gray = headpiece_f39.mean(axis=2).astype(np.float32) / 255
    inside = np.ones(gray.shape, bool)
    assert ink_agreement(gray, gray, inside) > 0.95
    shifted = np.roll(gray, 9, axis=1)
    assert ink_agreement(gray, shifted, inside) < MIN_INK_AGREEMENT


def test_a_batch_reports_the_failed_source_and_aligns_the_others(headpiece_f39, headpiece_f85, data_dir):
    church = read_image(data_dir / "megadepth_2_1.jpg")
    steps = []
    outcomes = align_batch(headpiece_f39, [("church", church), ("f85", headpiece_f85),
                                           ("missing", data_dir / "no-such-file.png")],
                           AlignOptions(fine=None), progress=lambda done, total: steps.append((done, total)))
    assert [o.ok for o in outcomes] == [False, True, False]
    assert "too few matching features" in outcomes[0].error
    assert "file not found" in outcomes[2].error
    assert steps[-1] == (3 * PAIR_STEPS, 3 * PAIR_STEPS)
    assert all(a[0] <= b[0] for a, b in itertools.pairwise(steps))


def test_cancel_stops_the_batch_with_a_typed_error(headpiece_f39, headpiece_f85):
    calls = []

    def cancel() -> bool:
        calls.append(1)
        return len(calls) > 3  # let the coarse stage start, stop inside the fine stage

    with pytest.raises(AlignmentCancelled):
        align_batch(headpiece_f39, [("f85", headpiece_f85)], AlignOptions(), cancel=cancel)

