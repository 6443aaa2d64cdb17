"""Ink-level maps and per-pixel error maps between an observed ornament and what was expected there.

Both error maps work on paper-normalised ink (`ink_darkness`), so another copy's paper tint,
lighter inking or scanner contrast is not an error; only where the ink lies is.
"""

from __future__ import annotations

from typing import Final

import cv2
import numpy as np
from skimage.metrics import structural_similarity

# Percentiles taken as paper and as full ink: paper covers more than a tenth of an ornament's
# picture and ink more than a fiftieth (the DEA's vignette targets use the same two).
PAPER_PERCENTILE: Final = 90.0
INK_PERCENTILE: Final = 2.0
# A picture with less contrast than this (of 255) is blank paper: its noise is not stretched to ink.
MIN_CONTRAST: Final = 32.0
SSIM_WINDOW: Final = 7
OVERLAY_LOW: Final = 0.2


def to_gray(image: np.ndarray) -> np.ndarray:
    """(H, W) as it is, or (H, W, 3) BGR converted to grey (uint8 stays uint8, other types become float32)."""
    if image.ndim == 2:
        return image
    if image.ndim == 3 and image.shape[2] == 3:
        return cv2.cvtColor(image if image.dtype == np.uint8 else image.astype(np.float32), cv2.COLOR_BGR2GRAY)
    raise ValueError(f"expected (H, W) or (H, W, 3) BGR, got {image.shape}")


def ink_darkness(gray: np.ndarray) -> np.ndarray:
    """Ink in [0, 1] (0 paper, 1 full ink) of an (H, W) grey or (H, W, 3) BGR picture; (H, W) float32.

    Paper is the PAPER_PERCENTILE-th grey level and full ink the INK_PERCENTILE-th, so the map
    does not depend on the paper's tint or the scan's contrast. Pictures are uint8, or float in
    [0, 1] (floats above 1 are read as 0-255); one with less contrast than MIN_CONTRAST is blank.
    """
    values = to_gray(gray).astype(np.float32)
    scale = 255.0 if gray.dtype == np.uint8 or values.max(initial=0.0) > 1.0 else 1.0
    paper, ink = np.percentile(values, [PAPER_PERCENTILE, INK_PERCENTILE])
    contrast = max(float(paper - ink), MIN_CONTRAST / 255.0 * scale)
    return np.clip((paper - values) / contrast, 0.0, 1.0).astype(np.float32)


def _same_size(observed: np.ndarray, expected: np.ndarray) -> None:
    if observed.shape[:2] != expected.shape[:2]:
        raise ValueError(f"observed {observed.shape[:2]} and expected {expected.shape[:2]} differ in size")


def pixel_error_map(observed: np.ndarray, expected: np.ndarray) -> np.ndarray:
    """|ink darkness of observed - of expected|: (H, W) float32 in [0, 1]; both (H, W) grey or (H, W, 3) BGR."""
    _same_size(observed, expected)
    return np.abs(ink_darkness(observed) - ink_darkness(expected))


def ssim_error_map(observed: np.ndarray, expected: np.ndarray, window: int = SSIM_WINDOW) -> np.ndarray:
    """(1 - local SSIM) / 2 of the two ink-darkness maps: (H, W) float32 in [0, 1], 0 where they agree.

    SSIM compares local structure, so a uniformly lighter or darker inking costs little; pictures
    smaller than `window` on a side are compared with a window that fits.
    """
    _same_size(observed, expected)
    window = min(window, *(s - (1 - s % 2) for s in observed.shape[:2]))
    if window < 3:
        raise ValueError(f"pictures of {observed.shape[:2]} are too small for SSIM (3 x 3 at least)")
    _, local = structural_similarity(ink_darkness(observed), ink_darkness(expected), win_size=window,
                                     data_range=1.0, full=True)
    return np.clip((1.0 - local) / 2.0, 0.0, 1.0).astype(np.float32)


def overlay_heatmap(image_bgr: np.ndarray, heatmap: np.ndarray, *, low: float = OVERLAY_LOW,
                    opacity: float = 0.65, full: float = 1.0) -> np.ndarray:
    """The picture (H, W, 3) uint8 BGR with `heatmap` (H, W), 0 where nothing is wrong, laid over it in colour:
    (H, W, 3) uint8.

    Heat is shown as a share of `full` (a scorer's alarm threshold, so that a vignette's worst pixels at the
    threshold stand out in full colour whatever the decoder's error scale): at or below `low` of it the
    picture is left as it is; above, the colour (inferno: dark red to yellow) grows opaque up to `opacity`.
    """
    if not full > 0:
        raise ValueError(f"the heat shown in full colour must be positive, not {full}")
    _same_size(image_bgr, heatmap)
    heat = np.clip(np.asarray(heatmap, np.float32) / full, 0.0, 1.0)
    colour = cv2.applyColorMap(np.round(heat * 255).astype(np.uint8), cv2.COLORMAP_INFERNO).astype(np.float32)
    weight = (opacity * np.clip((heat - low) / max(1.0 - low, 1e-6), 0.0, 1.0))[:, :, None]
    base = cv2.cvtColor(to_gray(image_bgr), cv2.COLOR_GRAY2BGR) if image_bgr.ndim == 2 else image_bgr
    return np.round(base * (1.0 - weight) + colour * weight).astype(np.uint8)
