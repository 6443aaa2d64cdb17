"""The gap rule's cut and the bounds the matcher relies on to skip estimating it."""

import numpy as np

from dea_core.matching.threshold import CUT_RANGE, cut_bounds, gap_threshold


def test_the_gap_rule_never_cuts_outside_its_bounds_whatever_the_scores():
    # The matcher skips estimating the cut when a wave's best score lies outside these bounds:
    # were any cut outside them, a wave would be judged empty (or not) wrongly.
    rng = np.random.default_rng(3)
    for _ in range(2000):
        scores = rng.uniform(0.3, 1.0, int(rng.integers(0, 40))).tolist()
        if rng.random() < 0.5:
            # A true group well above chance, as on a printed page.
            scores += rng.uniform(0.8, 0.99, int(rng.integers(1, 20))).tolist()
        fallback = float(rng.choice([0.55, 0.6, 0.75]))
        low, high = cut_bounds(fallback)
        assert low <= gap_threshold(scores, 0.3, fallback) <= high


def test_the_bounds_are_the_cut_range_widened_to_the_fallback():
    assert cut_bounds(0.6) == CUT_RANGE
    assert cut_bounds(0.9) == (CUT_RANGE[0], 0.9)
    assert cut_bounds(0.4) == (0.4, CUT_RANGE[1])
