"""Normalized cross-correlation maps and their peaks."""

from __future__ import annotations

import cv2
import numpy as np

# Windows flatter than this (grey levels, std) are blank paper: their NCC is noise, not a match.
FLAT_STD = 2.0


def ncc_map(image: np.ndarray, template: np.ndarray) -> np.ndarray:
    """NCC (OpenCV TM_CCOEFF_NORMED) of `template` at every top-left position in `image`.

    image: (H, W) float32, template: (h, w) float32 with h <= H, w <= W.
    Returns (H - h + 1, W - w + 1) float32 in [-1, 1]; blank-paper windows (and NaNs) score 0.
    """
    if template.std() < FLAT_STD:
        return np.zeros((image.shape[0] - template.shape[0] + 1, image.shape[1] - template.shape[1] + 1),
                        np.float32)
    scores = cv2.matchTemplate(image, template, cv2.TM_CCOEFF_NORMED)
    # In place and in one pass each (numpy's nan_to_num costs more than small correlations).
    cv2.patchNaNs(scores, 0.0)
    np.clip(scores, -1.0, 1.0, out=scores)
    return scores


def local_peaks(scores: np.ndarray, radius: tuple[int, int], floor: float) -> np.ndarray:
    """Positions (N, 2) as (x, y) of local maxima of `scores` at or above `floor`.

    radius: (rx, ry) half-size of the neighbourhood a peak must dominate, so one ornament
    gives one peak and not a plateau of them.
    """
    kernel = np.ones((2 * radius[1] + 1, 2 * radius[0] + 1), np.uint8)
    dilated = cv2.dilate(scores, kernel)
    ys, xs = np.nonzero((scores >= dilated) & (scores >= floor))
    return np.stack([xs, ys], axis=1)


# Renderings whose sides differ by more than this share cannot be compared: a long ornament
# turned a quarter is a different picture, a nearly square one is almost the same frame.
SIZE_TOLERANCE = 0.1


def self_similarity(a: np.ndarray, b: np.ndarray, shift: int = 2) -> float:
    """Best NCC of two nearly equally sized images over shifts of up to `shift` pixels.

    How alike a template looks in two poses: a hand-drawn box is rarely centred on the
    ornament's axis of symmetry, so the mirrored picture is a few pixels off, and a nearly square
    rosette turned a quarter is a pixel or two wider than tall. a, b: (H, W); returns -1 when
    their sides differ by more than SIZE_TOLERANCE.
    """
    if any(abs(p - q) > SIZE_TOLERANCE * max(p, q) for p, q in zip(a.shape[:2], b.shape[:2])):
        return -1.0
    h, w = min(a.shape[0], b.shape[0]), min(a.shape[1], b.shape[1])
    a, b = _centre_crop(np.float32(a), h, w), _centre_crop(np.float32(b), h, w)
    shift = min(shift, (min(h, w) - 1) // 2)
    core = b[shift:h - shift, shift:w - shift]
    if core.std() < FLAT_STD:
        return 1.0 if np.allclose(a, b) else 0.0
    return float(ncc_map(a, core).max())


def _centre_crop(image: np.ndarray, h: int, w: int) -> np.ndarray:
    top, left = (image.shape[0] - h) // 2, (image.shape[1] - w) // 2
    return image[top:top + h, left:left + w]
