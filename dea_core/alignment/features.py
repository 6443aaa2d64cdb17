"""SIFT keypoints and ratio-tested matches between a reference and a source (grayscale uint8)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

import cv2
import numpy as np

# Lowe's ratio: a match is kept when its best descriptor distance is below this share of the second.
DEFAULT_RATIO: Final = 0.8
DEFAULT_MAX_FEATURES: Final = 6000


@dataclass(frozen=True)
class Features:
    """Keypoints (N, 2) float32 as (x, y) in the picture's own pixels, their orientations (N,) in
    degrees, and descriptors (N, 128)."""

    points: np.ndarray
    descriptors: np.ndarray
    angles: np.ndarray

    def __len__(self) -> int:
        return len(self.points)


@dataclass(frozen=True)
class Correspondences:
    """Matched points: reference (N, 2) and source (N, 2), (x, y) pixels, and how much the source
    keypoint is turned from the reference one (N,), degrees in (-180, 180]."""

    reference: np.ndarray
    source: np.ndarray
    turn: np.ndarray

    def __len__(self) -> int:
        return len(self.reference)

    def subset(self, keep: np.ndarray) -> Correspondences:
        return Correspondences(self.reference[keep], self.source[keep], self.turn[keep])


def detect_sift(gray: np.ndarray, scale: float = 1.0, max_features: int = DEFAULT_MAX_FEATURES) -> Features:
    """SIFT on `gray` (H, W) uint8 resized by `scale`; points are returned in unscaled pixels."""
    image = gray if scale == 1.0 else cv2.resize(gray, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    keypoints, descriptors = cv2.SIFT_create(nfeatures=max_features).detectAndCompute(image, None)
    if descriptors is None or not keypoints:
        return Features(np.zeros((0, 2), np.float32), np.zeros((0, 128), np.float32), np.zeros(0, np.float32))
    points = np.array([k.pt for k in keypoints], np.float32)
    angles = np.array([k.angle for k in keypoints], np.float32)
    # SIFT's pixel centres sit at integer coordinates, like ours; rescale around them.
    return Features((points + 0.5) / scale - 0.5, descriptors, angles)


def no_correspondences() -> Correspondences:
    return Correspondences(np.zeros((0, 2), np.float32), np.zeros((0, 2), np.float32), np.zeros(0, np.float32))


def match_features(reference: Features, source: Features, ratio: float = DEFAULT_RATIO,
                   max_turn: float | None = None) -> Correspondences:
    """Nearest-neighbour matches from reference to source that pass Lowe's ratio test.

    With `max_turn` (degrees), only matches whose keypoints are turned by at most that much are
    kept, for sources known to be upright: ornaments are often symmetric under a half turn.
    """
    if len(reference) < 2 or len(source) < 2:
        return no_correspondences()
    pairs = cv2.BFMatcher(cv2.NORM_L2).knnMatch(reference.descriptors, source.descriptors, k=2)
    kept = [(best.queryIdx, best.trainIdx) for best, second in (p for p in pairs if len(p) == 2)
            if best.distance < ratio * second.distance]
    if not kept:
        return no_correspondences()
    ref_index, src_index = np.array(kept).T
    # OpenCV measures keypoint angles clockwise in image coordinates; only the difference matters.
    turn = (source.angles[src_index] - reference.angles[ref_index] + 180.0) % 360.0 - 180.0
    matches = Correspondences(reference.points[ref_index], source.points[src_index], turn)
    return matches if max_turn is None else matches.subset(np.abs(turn) <= max_turn)
