"""The pictures the compare views show, made from the engine's arrays (no Qt here)."""

from __future__ import annotations

from typing import Final

import cv2
import numpy as np

from dea_core.alignment.products import difference_picture
from dea_core.alignment.quality import MATCHABLE_CONFIDENCE

# BGR colours of the matchability picture.
NOT_MATCHABLE_BGR: Final = (40, 40, 230)
OUTSIDE_BGR: Final = (150, 150, 150)
# Ink colours of the colour overlay, as in the difference picture: red the reference, blue a source.
REFERENCE_INK_BGR: Final = (0, 0, 255)
SOURCE_INK_BGR: Final = (255, 0, 0)
# The difference view's wash over paper where the mapping was interpolated, not measured.
INTERPOLATED_BGR: Final = (120, 225, 255)
_WASH: Final = 0.35
# Darkening below this share of the paper's tone is grain and show-through, drawn as white paper.
PAPER_GRAIN: Final = 0.12
_TINT: Final = 0.55


def pair_difference(reference: np.ndarray, aligned: np.ndarray, inside: np.ndarray,
                    observed: np.ndarray | None = None) -> np.ndarray:
    """(H, W, 3) uint8: red where only the reference has ink, blue where only the source has (engine's rule);
    with `observed` (H, W) in [0, 1], washed pale yellow where the mapping was interpolated (below 0.5)."""
    picture = difference_picture(reference, [aligned], [inside])
    if observed is None:
        return picture
    interpolated = (observed < 0.5) & inside
    washed = picture[interpolated].astype(np.float32) * (1 - _WASH) + np.array(INTERPOLATED_BGR, np.float32) * _WASH
    picture[interpolated] = np.clip(washed + 0.5, 0, 255).astype(np.uint8)
    return picture


def matchability_picture(aligned: np.ndarray, confidence: np.ndarray, inside: np.ndarray) -> np.ndarray:
    """(H, W, 3) uint8 BGR: the aligned source in grey, tinted red where its alignment cannot be
    trusted (confidence below the engine's matchable level), flat grey where it has no pixels."""
    grey = cv2.cvtColor(aligned, cv2.COLOR_BGR2GRAY)
    picture = cv2.cvtColor(grey, cv2.COLOR_GRAY2BGR).astype(np.float32)
    doubtful = (confidence < MATCHABLE_CONFIDENCE) & inside
    picture[doubtful] = picture[doubtful] * (1 - _TINT) + np.array(NOT_MATCHABLE_BGR, np.float32) * _TINT
    picture[~inside] = OUTSIDE_BGR
    return np.clip(picture + 0.5, 0, 255).astype(np.uint8)


def tinted(image: np.ndarray, ink_bgr: tuple[int, int, int]) -> np.ndarray:
    """(H, W, 3) uint8 BGR: `image` with its paper made white and its ink drawn in `ink_bgr`.

    The paper's tone (the 95th percentile of grey) is stretched to white first and its grain
    dropped, so that two scans on differently toned paper blend to white and only ink shows colour.
    """
    grey = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY).astype(np.float32)
    paper = max(float(np.percentile(grey, 95)), 1.0)
    ink = np.clip((1 - grey / paper - PAPER_GRAIN) / (1 - PAPER_GRAIN), 0, 1)  # 0 on paper, 1 on black ink
    white = np.full(3, 255, np.float32)
    picture = white - ink[..., None] * (white - np.array(ink_bgr, np.float32))
    return np.clip(picture + 0.5, 0, 255).astype(np.uint8)
