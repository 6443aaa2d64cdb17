"""Change-localisation metrics of the Rey's Ornaments benchmark (Chaki et al., ICDAR 2024).

- mIoU at the best global threshold: one threshold for the whole set, the best of `THRESHOLDS`
  values spaced linearly from the lowest to the highest pixel score of the images evaluated; a
  pixel is predicted changed when its score is >= the threshold; IoU per image, then the mean.
  "C": changed images only. "CU": changed and unchanged images, so false alarms count; an image
  whose true mask is empty scores IoU 1 when nothing is predicted in it and 0 otherwise.
- Pixel AUROC over every pixel of every image, image AUROC over one score per image (changed or
  not), both with ties counted half (the Mann-Whitney statistic).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

import numpy as np
from scipy.stats import rankdata

THRESHOLDS: Final = 100


@dataclass(frozen=True)
class BestIoU:
    """The mean IoU at the best global threshold, and that threshold."""

    miou: float
    threshold: float


@dataclass(frozen=True)
class ChangeMetrics:
    """The benchmark's four numbers for one method on one set."""

    miou_changed: float  # mIoU C
    miou_all: float  # mIoU CU
    pixel_auroc: float
    image_auroc: float


def best_threshold_miou(scores: Sequence[np.ndarray], masks: Sequence[np.ndarray],
                        thresholds: int = THRESHOLDS) -> BestIoU:
    """mIoU of `scores` ((H, W) float each) against `masks` ((H, W) bool each) at the best global threshold.

    Empty masks follow the CU convention (IoU 1 if nothing is predicted, else 0). Pass the changed
    images only for mIoU C, all images for mIoU CU.
    """
    if not scores or len(scores) != len(masks):
        raise ValueError(f"need one mask per score map and at least one image, got {len(scores)} and {len(masks)}")
    low = min(float(np.min(s)) for s in scores)
    high = max(float(np.max(s)) for s in scores)
    levels = np.linspace(low, high, thresholds)
    total = np.zeros(thresholds)
    for score, mask in zip(scores, masks):
        total += _iou_per_threshold(np.asarray(score, np.float64), np.asarray(mask, bool), levels)
    mean = total / len(scores)
    best = int(np.argmax(mean))
    return BestIoU(float(mean[best]), float(levels[best]))


def _iou_per_threshold(score: np.ndarray, mask: np.ndarray, levels: np.ndarray) -> np.ndarray:
    """IoU of (score >= level) with `mask` for every level (ascending): (T,) float."""
    if score.shape != mask.shape:
        raise ValueError(f"score map {score.shape} and mask {mask.shape} differ in size")
    # Pixel i is predicted at level k exactly when k < reached[i] (the number of levels <= its score).
    reached = np.searchsorted(levels, score.ravel(), side="right")
    inside = mask.ravel()
    count = len(levels) + 1
    true_pos = np.cumsum(np.bincount(reached[inside], minlength=count)[::-1])[::-1][1:]
    false_pos = np.cumsum(np.bincount(reached[~inside], minlength=count)[::-1])[::-1][1:]
    positives = int(inside.sum())
    if positives == 0:
        return (false_pos == 0).astype(np.float64)
    return true_pos / (positives + false_pos)


def auroc(scores: np.ndarray, labels: np.ndarray) -> float:
    """Area under the ROC curve of `scores` (N,) for boolean `labels` (N,); ties count half.

    Raises ValueError when one class is missing (the area is undefined then).
    """
    scores, labels = np.ravel(scores), np.ravel(labels).astype(bool)
    positives, negatives = int(labels.sum()), int((~labels).sum())
    if positives == 0 or negatives == 0:
        raise ValueError(f"AUROC needs both classes; got {positives} positive and {negatives} negative")
    ranks = rankdata(scores)
    return float((ranks[labels].sum() - positives * (positives + 1) / 2) / (positives * negatives))


def pixel_auroc(scores: Sequence[np.ndarray], masks: Sequence[np.ndarray]) -> float:
    """AUROC over all pixels of all images: score maps (H, W) against masks (H, W) bool."""
    return auroc(np.concatenate([np.ravel(s) for s in scores]), np.concatenate([np.ravel(m) for m in masks]))


def change_metrics(pixel_scores: Sequence[np.ndarray], image_scores: Sequence[float],
                   masks: Sequence[np.ndarray]) -> ChangeMetrics:
    """mIoU C, mIoU CU, pixel and image AUROC of one method on a set; an image is changed when its mask is not empty."""
    changed = [bool(np.any(m)) for m in masks]
    changed_scores = [s for s, c in zip(pixel_scores, changed) if c]
    changed_masks = [m for m, c in zip(masks, changed) if c]
    return ChangeMetrics(
        miou_changed=best_threshold_miou(changed_scores, changed_masks).miou,
        miou_all=best_threshold_miou(pixel_scores, masks).miou,
        pixel_auroc=pixel_auroc(pixel_scores, masks),
        image_auroc=auroc(np.asarray(image_scores, np.float64), np.asarray(changed)),
    )
