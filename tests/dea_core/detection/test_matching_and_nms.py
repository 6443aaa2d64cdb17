"""Matching priors to ornaments, hard negative mining and NMS against brute-force references."""

import numpy as np
import torch

from dea_core.detection.matching import hard_negative_mask, match_priors
from dea_core.detection.nms import batched_nms, nms


def test_matching_takes_iou_above_half_and_each_truths_best_prior():
    # Priors as (cx, cy, w, h): 0 sits on truth 0, 1 half-overlaps it, 2 barely touches truth 1, 3 is far.
    priors = torch.tensor([[0.2, 0.2, 0.2, 0.2], [0.25, 0.2, 0.2, 0.2], [0.75, 0.75, 0.1, 0.1], [0.5, 0.9, 0.1, 0.1]])
    truths = torch.tensor([[0.1, 0.1, 0.3, 0.3], [0.6, 0.6, 0.9, 0.9]])
    boxes, labels = match_priors(truths, torch.tensor([3, 5]), priors)
    # prior 1: intersection 0.15 x 0.2 = 0.03, union 0.08 - 0.03 = 0.05, IoU 0.6 > 0.5
    # prior 2: IoU 0.01 / 0.09 with truth 1, yet truth 1's best prior, so positive anyway
    assert labels.tolist() == [3, 3, 5, 0]
    assert torch.equal(boxes[2], truths[1])


def test_matching_without_truth_is_all_background():
    boxes, labels = match_priors(torch.zeros(0, 4), torch.zeros(0, dtype=torch.int64), torch.rand(5, 4))
    assert labels.tolist() == [0] * 5 and boxes.shape == (5, 4)


def test_hard_negative_mining_keeps_the_three_worst_negatives_per_positive():
    generator = torch.Generator().manual_seed(3)
    loss = torch.rand(3, 50, generator=generator)
    positives = torch.zeros(3, 50, dtype=torch.bool)
    positives[0, [1, 7]] = True
    positives[1, 4] = True  # image 2 has none: it still gives 3 negatives
    chosen = hard_negative_mask(loss, positives)
    for image in range(3):
        wanted = 3 * max(int(positives[image].sum()), 1)
        negatives = [i for i in range(50) if not positives[image, i]]
        worst = sorted(negatives, key=lambda i: -float(loss[image, i]))[:wanted]
        assert sorted(torch.nonzero(chosen[image]).flatten().tolist()) == sorted(worst)


def brute_force_nms(boxes: np.ndarray, scores: np.ndarray, threshold: float) -> list[int]:
    def iou(a, b):
        w = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
        h = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
        inter = w * h
        return inter / ((a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter)

    kept: list[int] = []
    for i in sorted(range(len(scores)), key=lambda i: -scores[i]):
        if all(iou(boxes[i], boxes[k]) <= threshold for k in kept):
            kept.append(i)
    return kept


def random_boxes(rng: np.random.Generator, count: int) -> np.ndarray:
    low = rng.uniform(0, 80, size=(count, 2))
    return np.concatenate([low, low + rng.uniform(5, 30, size=(count, 2))], axis=1)


def test_nms_equals_brute_force():
    rng = np.random.default_rng(11)
    for _ in range(20):
        boxes, scores = random_boxes(rng, 60), rng.random(60)
        kept = nms(torch.tensor(boxes), torch.tensor(scores), 0.45).tolist()
        assert kept == brute_force_nms(boxes, scores, 0.45)


def test_batched_nms_suppresses_within_a_class_only():
    rng = np.random.default_rng(5)
    boxes, scores, classes = random_boxes(rng, 80), rng.random(80), rng.integers(1, 4, size=80)
    kept = set(batched_nms(torch.tensor(boxes), torch.tensor(scores), torch.tensor(classes), 0.45).tolist())
    expected = set()
    for c in (1, 2, 3):
        members = np.flatnonzero(classes == c)
        expected |= {int(members[i]) for i in brute_force_nms(boxes[members], scores[members], 0.45)}
    assert kept == expected
