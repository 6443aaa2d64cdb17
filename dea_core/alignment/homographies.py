"""Several homographies fitted one after another with MAGSAC on the matches the previous ones left.

A page that bends at the gutter, or two ornaments pasted at slightly different places, do not fit
one homography; RANSAC-Flow fits them in turn on the remaining matches. Every homography here maps
reference pixels to source pixels (3x3, H[2, 2] = 1).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

import cv2
import numpy as np

from dea_core.alignment.features import Correspondences

# Fewer agreeing matches than this is as likely chance as a real overlap.
DEFAULT_MIN_INLIERS: Final = 15
DEFAULT_MAX_HOMOGRAPHIES: Final = 4
# How far (pixels of the source) a match may fall from the model and still count, for MAGSAC.
DEFAULT_REPROJECTION_THRESHOLD: Final = 3.0
# A homography that shrinks or grows areas more than this is degenerate, not a scan of the same page.
MAX_AREA_CHANGE: Final = 25.0


@dataclass(frozen=True)
class Homography:
    """One model: `matrix` (3, 3) reference to source, and its inlier reference points (N, 2)."""

    matrix: np.ndarray
    inlier_points: np.ndarray

    @property
    def inliers(self) -> int:
        return len(self.inlier_points)


def fit_homography(matches: Correspondences, threshold: float = DEFAULT_REPROJECTION_THRESHOLD,
                   ) -> tuple[np.ndarray, np.ndarray] | None:
    """MAGSAC homography (reference to source) and its inlier mask (N,) bool, or None."""
    if len(matches) < 4:
        return None
    matrix, mask = cv2.findHomography(matches.reference.astype(np.float64), matches.source.astype(np.float64),
                                      cv2.USAC_MAGSAC, threshold, maxIters=5000, confidence=0.999)
    if matrix is None or mask is None or abs(matrix[2, 2]) < 1e-12:
        return None
    return matrix / matrix[2, 2], mask.ravel().astype(bool)


def is_plausible(matrix: np.ndarray, reference_size: tuple[int, int]) -> bool:
    """True when `matrix` keeps the reference's corners a convex, unmirrored, not collapsed quad."""
    width, height = reference_size
    corners = np.array([[0, 0], [width, 0], [width, height], [0, height]], np.float64).reshape(-1, 1, 2)
    with np.errstate(all="ignore"):
        mapped = cv2.perspectiveTransform(corners, matrix).reshape(-1, 2)
        # The projective denominator must keep one sign over the picture, or the quad wraps round.
        w = corners.reshape(-1, 2) @ matrix[2, :2] + matrix[2, 2]
    if not np.all(np.isfinite(mapped)) or np.any(w <= 0):
        return False
    area = cv2.contourArea(mapped.astype(np.float32), oriented=True)
    if not cv2.isContourConvex(mapped.astype(np.float32)) or area <= 0:
        return False
    change = area / float(width * height)
    return 1.0 / MAX_AREA_CHANGE < change < MAX_AREA_CHANGE


def fit_homographies(matches: Correspondences, reference_size: tuple[int, int], *,
                     max_homographies: int = DEFAULT_MAX_HOMOGRAPHIES, min_inliers: int = DEFAULT_MIN_INLIERS,
                     threshold: float = DEFAULT_REPROJECTION_THRESHOLD) -> list[Homography]:
    """Up to `max_homographies` models, best first, each fitted on the matches the others left.

    `reference_size` is (width, height); models that are implausible for it end the search.
    """
    found: list[Homography] = []
    remaining = matches
    while len(found) < max_homographies and len(remaining) >= min_inliers:
        fitted = fit_homography(remaining, threshold)
        if fitted is None:
            break
        matrix, inliers = fitted
        if inliers.sum() < min_inliers or not is_plausible(matrix, reference_size):
            break
        found.append(Homography(matrix, remaining.reference[inliers]))
        remaining = remaining.subset(~inliers)
    return found
