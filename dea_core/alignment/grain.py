"""Shared paper grain: where a flow on blank paper can be trusted because the grain really matches.

Two scans of one sheet, or a picture and a warped copy of it, share the paper's grain: it is real
structure, and a flow that follows it is measured, not guessed. Two printings on two sheets share
none, and a flow there follows noise. The test is local: with shading removed (the picture minus
its Gaussian blur), the zero-mean correlation of the reference with the flow-warped source in a
window must be clearly positive and clearly above its correlation with that warp moved by a few
pixels either way, which a grain shows only when it is the same grain in the same place.
"""

from __future__ import annotations

from typing import Final

import cv2
import numpy as np

from dea_core.alignment.fine_options import FineOptions
from dea_core.alignment.similarity import window_mean

# Keeps the correlation defined on perfectly flat paper (bitonal scans), where it is then 0.
_EPSILON: Final = 1e-10


def shared_grain(reference: np.ndarray, moved: np.ndarray, options: FineOptions = FineOptions()) -> np.ndarray:
    """(H, W) float32 in [0, 1]: how surely the reference and the flow-`moved` source, (H, W) float32
    in [0, 1], share their fine structure at each pixel.

    0 up to a local correlation of `options.grain_correlation`, 1 from `options.grain_span` above
    it; times a ramp to 1 as it exceeds, by up to `options.grain_margin`, its best with `moved`
    shifted by `options.grain_shift` px along x or y (a correlation that shifting does not lower
    is shading or a smooth tone, not a grain).
    """
    ref, mov = _fine_structure(reference, options), _fine_structure(moved, options)
    window = options.grain_window
    mean_ref, mean_mov = window_mean(ref, window), window_mean(mov, window)
    spread_ref = np.maximum(window_mean(ref * ref, window) - mean_ref * mean_ref, 0)
    spread_mov = np.maximum(window_mean(mov * mov, window) - mean_mov * mean_mov, 0)

    def correlation(dx: int, dy: int) -> np.ndarray:
        """NCC of the reference with `mov` sampled (dx, dy) px further on; its box sums shift with it."""
        cov = window_mean(ref * _shifted(mov, dx, dy), window) - mean_ref * _shifted(mean_mov, dx, dy)
        return cov / np.sqrt(spread_ref * _shifted(spread_mov, dx, dy) + _EPSILON)

    step = options.grain_shift
    here = correlation(0, 0)
    beside = np.max([correlation(dx, dy) for dx, dy in ((step, 0), (-step, 0), (0, step), (0, -step))], axis=0)
    strength = np.clip((here - options.grain_correlation) / options.grain_span, 0.0, 1.0)
    return (strength * np.clip((here - beside) / options.grain_margin, 0.0, 1.0)).astype(np.float32)


def _fine_structure(image: np.ndarray, options: FineOptions) -> np.ndarray:
    """The picture less its shading: what is left is ink edges, grain and noise."""
    return image - cv2.GaussianBlur(image, (0, 0), options.grain_shading_sigma)


def _shifted(image: np.ndarray, dx: int, dy: int) -> np.ndarray:
    """`image` sampled at (x + dx, y + dy), edges repeated."""
    matrix = np.float32([[1, 0, -dx], [0, 1, -dy]])
    return cv2.warpAffine(image, matrix, image.shape[::-1], flags=cv2.INTER_NEAREST, borderMode=cv2.BORDER_REPLICATE)
