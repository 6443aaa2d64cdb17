"""Dense coarse alignment: phase correlation on small copies, then ECC, for when features mislead.

A row of identical casts gives SIFT matches that land on the wrong cast, and two renderings of one
picture may share too few features; a shift found from the whole picture (phase correlation) and
refined by maximising the correlation (Evangelidis and Psarakis' ECC, OpenCV) needs neither.
Homographies map reference pixels to source pixels, as everywhere in the coarse stage.
"""

from __future__ import annotations

from typing import Final

import cv2
import numpy as np

from dea_core.alignment.homographies import is_plausible
from dea_core.alignment.mapping import homography_mapping, inside_source, warp_image
from dea_core.alignment.quality import ink_agreement, ink_share

# Long side of the small copies the dense search and the scoring run at.
DENSE_SIDE: Final = 400
_ECC_ITERATIONS: Final = 100
_ECC_EPSILON: Final = 1e-5


def _scaling(s: float) -> np.ndarray:
    # Pixel centres at integers: x' = s (x + 0.5) - 0.5.
    return np.array([[s, 0, (s - 1) / 2], [0, s, (s - 1) / 2], [0, 0, 1]], np.float64)


def _small(gray: np.ndarray, scale: float) -> np.ndarray:
    return cv2.resize(gray, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA).astype(np.float32) / 255


def dense_homographies(reference: np.ndarray, source: np.ndarray) -> list[np.ndarray]:
    """Reference-to-source homographies (3, 3) of two grayscale uint8 pictures, from two starts.

    Both are brought to one scale (the larger one's long side at DENSE_SIDE), so that a shift
    relates them; ECC refines, to an affine map and then a homography, the shift that phase
    correlation finds and no shift at all (a periodic row correlates as well one cast further on).
    Implausible or failed refinements are left out.
    """
    scale = min(1.0, DENSE_SIDE / max(*reference.shape, *source.shape))
    ref, src = _small(reference, scale), _small(source, scale)
    height, width = max(ref.shape[0], src.shape[0]), max(ref.shape[1], src.shape[1])
    # Ink positive, paper zero, padded with paper: the shift is the ink's.
    padded = [cv2.copyMakeBorder(1 - image, 0, height - image.shape[0], 0, width - image.shape[1],
                                 cv2.BORDER_CONSTANT, value=0) for image in (ref, src)]
    window = cv2.createHanningWindow((width, height), cv2.CV_32F)
    (dx, dy), _ = cv2.phaseCorrelate(padded[0], padded[1], window)
    found = []
    for shift in ((dx, dy), (0.0, 0.0)):
        matrix = _refined(ref, src, shift)
        if matrix is None:
            continue
        full = np.linalg.inv(_scaling(scale)) @ matrix @ _scaling(scale)
        full /= full[2, 2]
        if is_plausible(full, (reference.shape[1], reference.shape[0])):
            found.append(full)
    return found


def _refined(ref: np.ndarray, src: np.ndarray, shift: tuple[float, float]) -> np.ndarray | None:
    """ECC from a shift: affine, then homography (3, 3), on small float pictures; None if it fails."""
    warp = np.array([[1, 0, shift[0]], [0, 1, shift[1]]], np.float32)
    criteria = (cv2.TERM_CRITERIA_EPS | cv2.TERM_CRITERIA_COUNT, _ECC_ITERATIONS, _ECC_EPSILON)
    try:
        _, warp = cv2.findTransformECC(ref, src, warp, cv2.MOTION_AFFINE, criteria, None, 5)
        matrix = np.vstack([warp, [0, 0, 1]]).astype(np.float32)
        _, matrix = cv2.findTransformECC(ref, src, matrix, cv2.MOTION_HOMOGRAPHY, criteria, None, 5)
    except cv2.error:
        return None
    small = matrix.astype(np.float64)
    return None if abs(small[2, 2]) < 1e-12 else small / small[2, 2]


def agreement_score(reference: np.ndarray, source: np.ndarray, matrix: np.ndarray) -> float:
    """Share of the reference's inked area that correlates with the source under `matrix`, on small
    copies (grayscale uint8 pictures, a reference-to-source homography).

    Ink sent outside the source counts as not agreeing, so that a periodic row shifted by one cast
    (ten casts of eleven agree) scores below the right map.
    """
    ref_scale = min(1.0, DENSE_SIDE / max(reference.shape))
    src_scale = min(1.0, DENSE_SIDE / max(source.shape))
    ref, src = _small(reference, ref_scale), _small(source, src_scale)
    small = _scaling(src_scale) @ matrix @ np.linalg.inv(_scaling(ref_scale))
    mapping = homography_mapping(small, *ref.shape)
    warped = warp_image(src, mapping, border_value=1)
    inside = inside_source(mapping, *src.shape)
    return ink_agreement(ref, warped, inside) * ink_share(ref, inside)
