"""Crops of matched ornaments, turned back into the template's own pose."""

from __future__ import annotations

import cv2
import numpy as np

from dea_core.matching.result import Match


def crop_in_template_pose(page: np.ndarray, match: Match) -> np.ndarray:
    """The page under `match`, de-rotated and de-flipped so it lies as the template does.

    page: (H, W) or (H, W, C) uint8. Returns an upright crop at the occurrence's own
    resolution (template size times the match scale), ready to compare with the template.
    """
    top_left, top_right, bottom_right = match.quad[0], match.quad[1], match.quad[2]
    width = max(1, round(float(np.linalg.norm(top_right - top_left))))
    height = max(1, round(float(np.linalg.norm(bottom_right - top_right))))
    # Continuous corner coordinates; pixel centres sit half a pixel inside them.
    source = np.float32([top_left, top_right, bottom_right]) - 0.5
    target = np.float32([[0, 0], [width, 0], [width, height]]) - 0.5
    affine = cv2.getAffineTransform(target, source)
    return cv2.warpAffine(page, affine, (width, height), flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
                          borderMode=cv2.BORDER_REPLICATE)
