"""Benchmark metrics against values worked out by hand on tiny arrays, and against brute force."""

import numpy as np
import pytest

from dea_core.anomaly.metrics import auroc, best_threshold_miou, change_metrics, pixel_auroc

# Two changed 2 x 2 images. Over the set scores run 0..3, so the levels are 3k/99. A's IoU is
# 1/2 at t=0, 2/3 for t in (0, 1], 1 for t in (1, 2], 1/2 for t in (2, 3]; B's is 1/4 at t=0 and 1 above.
A_SCORE, A_MASK = np.array([[0.0, 1.0], [2.0, 3.0]]), np.array([[False, False], [True, True]])
B_SCORE, B_MASK = np.array([[0.0, 0.0], [0.0, 3.0]]), np.array([[False, False], [False, True]])
FIRST_LEVEL_ABOVE_1 = 3 * 34 / 99


def test_best_threshold_miou_on_changed_images():
    best = best_threshold_miou([A_SCORE, B_SCORE], [A_MASK, B_MASK])
    assert best.miou == pytest.approx(1.0)
    assert best.threshold == pytest.approx(FIRST_LEVEL_ABOVE_1)


def test_an_unchanged_image_without_false_alarm_scores_one():
    quiet = np.array([[0.0, 0.5], [0.0, 0.0]])
    best = best_threshold_miou([A_SCORE, B_SCORE, quiet], [A_MASK, B_MASK, np.zeros((2, 2), bool)])
    assert best.miou == pytest.approx(1.0)


def test_a_false_alarm_on_an_unchanged_image_scores_zero():
    # Its 3 is predicted at every level, so it scores 0 everywhere: best mean (1 + 1 + 0) / 3 at t in (1, 2].
    loud = np.array([[3.0, 0.0], [0.0, 0.0]])
    best = best_threshold_miou([A_SCORE, B_SCORE, loud], [A_MASK, B_MASK, np.zeros((2, 2), bool)])
    assert best.miou == pytest.approx(2 / 3)
    assert best.threshold == pytest.approx(FIRST_LEVEL_ABOVE_1)


def test_miou_matches_brute_force_over_the_thresholds():
    rng = np.random.default_rng(5)
    scores = [rng.random((7, 9)) ** 2 for _ in range(4)]
    masks = [rng.random((7, 9)) < 0.3 for _ in range(3)] + [np.zeros((7, 9), bool)]
    levels = np.linspace(min(s.min() for s in scores), max(s.max() for s in scores), 100)

    def iou(score: np.ndarray, mask: np.ndarray, t: float) -> float:
        predicted = score >= t
        union = (predicted | mask).sum()
        return 1.0 if union == 0 else (predicted & mask).sum() / union

    means = [np.mean([iou(s, m, t) for s, m in zip(scores, masks)]) for t in levels]
    best = best_threshold_miou(scores, masks)
    assert best.miou == pytest.approx(max(means))
    assert best.threshold == pytest.approx(levels[int(np.argmax(means))])


def test_miou_refuses_mismatched_inputs():
    with pytest.raises(ValueError):
        best_threshold_miou([A_SCORE], [])
    with pytest.raises(ValueError):
        best_threshold_miou([A_SCORE], [np.zeros((3, 3), bool)])


def test_auroc_by_hand():
    # Positive 0.35 beats one of two negatives, positive 0.8 beats both: 3 of 4 pairs.
    assert auroc(np.array([0.1, 0.4, 0.35, 0.8]), np.array([0, 0, 1, 1])) == pytest.approx(0.75)
    assert auroc(np.array([1.0, 1.0]), np.array([False, True])) == pytest.approx(0.5)  # a tie counts half
    assert auroc(np.array([0.0, 1.0, 2.0]), np.array([True, False, False])) == pytest.approx(0.0)


def test_auroc_needs_both_classes():
    with pytest.raises(ValueError):
        auroc(np.array([0.2, 0.3]), np.array([True, True]))


def test_pixel_auroc_pools_every_pixel():
    # Positives 2, 3 (A) and 3 (B) against negatives 0, 1 (A) and 0, 0, 0 (B): every pair is won.
    assert pixel_auroc([A_SCORE, B_SCORE], [A_MASK, B_MASK]) == pytest.approx(1.0)
    # Now a negative 2.5: positive 2 loses to it, 3 and 3 win: 14 of 15 pairs.
    a = A_SCORE.copy()
    a[0, 1] = 2.5
    assert pixel_auroc([a, B_SCORE], [A_MASK, B_MASK]) == pytest.approx(14 / 15)


def test_change_metrics_splits_changed_from_unchanged():
    loud = np.array([[3.0, 0.0], [0.0, 0.0]])
    empty = np.zeros((2, 2), bool)
    metrics = change_metrics([A_SCORE, B_SCORE, loud], [0.9, 0.8, 0.85], [A_MASK, B_MASK, empty])
    assert metrics.miou_changed == pytest.approx(1.0)
    assert metrics.miou_all == pytest.approx(2 / 3)
    assert metrics.image_auroc == pytest.approx(0.5)  # 0.9 beats 0.85, 0.8 does not
    assert 0.0 < metrics.pixel_auroc < 1.0
