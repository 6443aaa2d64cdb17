"""Filling a flow into the pixels where it was not observed, from the nearest reliable flow.

A bend of the paper leaves no trace on blank paper, and an optical flow computed there follows
grain and noise. So the flow is kept where it was observed (weight 1) and replaced elsewhere by a
normalised interpolation of the observed flow: push-pull on an image pyramid (Gortler et al.,
"The Lumigraph", 1996), the multi-scale form of normalised convolution (Knutsson and Westin,
1993). Each level averages the weighted flow and the weights; coming back up, a pixel keeps its
own level's average where that level saw enough weight and takes the coarser one elsewhere. A gap
of any size is filled smoothly from the flow around it, and nothing unobserved pulls on it.
"""

from __future__ import annotations

from typing import Final

import cv2
import numpy as np

# A pyramid level's average is trusted fully once its weight reaches this (a quarter of a pixel
# observed among the pixels it averages); below, the coarser level fills in.
_TRUSTED_WEIGHT: Final = 0.25
_SMALLEST_LEVEL: Final = 4


def fill_unobserved(values: np.ndarray, weight: np.ndarray) -> np.ndarray:
    """(H, W, C) float32: `values` (H, W, C) kept where `weight` in [0, 1] is 1, interpolated where it is 0.

    `weight` is (H, W), or (H, W, C) for one weight per channel; in between 0 and 1 the result
    blends both by the weight. Where nothing at all is observed it is 0.
    """
    values = _channels(values.astype(np.float32))
    weight = _channels(np.clip(weight.astype(np.float32), 0.0, 1.0))
    weight = np.broadcast_to(weight, values.shape).copy()
    filled = _push_pull(values * weight, weight)
    return weight * values + (1 - weight) * filled


def _push_pull(weighted: np.ndarray, weight: np.ndarray) -> np.ndarray:
    """(H, W, C): the normalised interpolation of `weighted` (values times weight) over `weight` (H, W, C)."""
    sums, weights = [weighted], [weight]
    while min(weights[-1].shape[:2]) >= 2 * _SMALLEST_LEVEL:
        sums.append(_channels(cv2.pyrDown(sums[-1])))
        weights.append(_channels(cv2.pyrDown(weights[-1])))
    # The smallest level's empty cells take the mean of all observed flow.
    overall = weighted.sum(axis=(0, 1)) / np.maximum(weight.sum(axis=(0, 1)), 1e-6)
    filled = np.where(weights[-1] > 1e-6, sums[-1] / np.maximum(weights[-1], 1e-6), overall)
    for level_sum, level_weight in zip(reversed(sums[:-1]), reversed(weights[:-1])):
        height, width = level_weight.shape[:2]
        coarser = _channels(cv2.pyrUp(filled, dstsize=(width, height)))
        trust = np.clip(level_weight / _TRUSTED_WEIGHT, 0.0, 1.0)
        filled = trust * level_sum / np.maximum(level_weight, 1e-6) + (1 - trust) * coarser
    return filled


def _channels(image: np.ndarray) -> np.ndarray:
    """OpenCV drops the channel axis of one-channel pictures: put it back."""
    return image[..., None] if image.ndim == 2 else image
