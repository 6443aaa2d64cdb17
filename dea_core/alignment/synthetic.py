"""Pairs with a known answer, for tests and the benchmark: a real picture warped and re-inked.

The reference is the source seen through a random homography plus a smooth elastic field (a page
that bends), then changed as another copy or camera would change it: contrast, gamma, ink spread,
blur, noise and JPEG. The ground-truth mapping gives, for each reference pixel, its (x, y) in the
source, exactly what `align_pair` must recover.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from dea_core.alignment.mapping import PAPER_WHITE, homography_mapping, warp_image


@dataclass(frozen=True)
class WarpSpec:
    """How strong the random warp is: degrees, relative scale and shift, then the bend.

    The bend is a cubic interpolation of random vectors, its peak drawn in `elastic_pixels`
    (min, max); they sit `elastic_cells` to a side, or, with `elastic_feature_px` (min, max),
    one every so many pixels (a fine bend: features of 40-100 px on a 1200 px picture).
    """

    rotation_degrees: float = 4.0
    scale_change: float = 0.08
    shift_share: float = 0.04
    perspective: float = 0.03
    elastic_pixels: tuple[float, float] = (2.0, 4.0)
    elastic_cells: int = 4
    elastic_feature_px: tuple[float, float] | None = None


# Fine bends of the paper on a 1200 px picture: features of 40-100 px, peaks of 2-6 px.
FINE_BEND = WarpSpec(elastic_pixels=(2.0, 6.0), elastic_feature_px=(40.0, 100.0))


@dataclass(frozen=True)
class SyntheticPair:
    reference: np.ndarray
    mapping: np.ndarray

    def evaluation_mask(self, source_shape: tuple[int, ...]) -> np.ndarray:
        """(H, W) bool: reference pixels whose true source point lies inside the source picture."""
        x, y = self.mapping[..., 0], self.mapping[..., 1]
        return (x >= 0) & (y >= 0) & (x <= source_shape[1] - 1) & (y <= source_shape[0] - 1)


def random_homography(rng: np.random.Generator, height: int, width: int, spec: WarpSpec) -> np.ndarray:
    """A 3x3 reference-to-source homography: rotation, scale, shift and tilt about the centre."""
    angle = np.deg2rad(rng.uniform(-spec.rotation_degrees, spec.rotation_degrees))
    scale = 1.0 + rng.uniform(-spec.scale_change, spec.scale_change)
    centre = np.array([[1, 0, -width / 2], [0, 1, -height / 2], [0, 0, 1]])
    turn = np.array([[scale * np.cos(angle), -scale * np.sin(angle), 0],
                     [scale * np.sin(angle), scale * np.cos(angle), 0], [0, 0, 1]])
    tilt = np.eye(3)
    tilt[2, :2] = rng.uniform(-spec.perspective, spec.perspective, 2) / np.array([width, height])
    shift = rng.uniform(-spec.shift_share, spec.shift_share, 2) * np.array([width, height])
    back = np.array([[1, 0, width / 2 + shift[0]], [0, 1, height / 2 + shift[1]], [0, 0, 1]])
    return back @ tilt @ turn @ centre


def random_elastic_field(rng: np.random.Generator, height: int, width: int, spec: WarpSpec) -> np.ndarray:
    """(H, W, 2) float32 smooth displacement (cubic interpolation of random vectors)."""
    if spec.elastic_feature_px is None:
        rows = columns = max(2, spec.elastic_cells)
    else:
        feature = rng.uniform(*spec.elastic_feature_px)
        rows, columns = max(2, round(height / feature) + 1), max(2, round(width / feature) + 1)
    coarse = rng.normal(size=(rows, columns, 2)).astype(np.float32)
    field = cv2.resize(coarse, (width, height), interpolation=cv2.INTER_CUBIC)
    peak = np.abs(field).max()
    return field * (rng.uniform(*spec.elastic_pixels) / max(peak, 1e-6))


def change_printing(rng: np.random.Generator, image: np.ndarray) -> np.ndarray:
    """Another copy or camera: contrast, gamma, ink spread or thinning, blur, noise, then JPEG."""
    unit = image.astype(np.float32) / 255
    unit = np.clip((unit - 0.5) * rng.uniform(0.7, 1.2) + 0.5 + rng.uniform(-0.08, 0.08), 0, 1)
    unit = unit ** rng.uniform(0.7, 1.4)
    # Ink spreads (dark grows) or thins by a fraction of a pixel: a centred 3x3 step, partly blended.
    kernel = cv2.getStructuringElement(cv2.MORPH_CROSS, (3, 3))
    spread = cv2.erode(unit, kernel) if rng.random() < 0.5 else cv2.dilate(unit, kernel)
    share = rng.uniform(0.2, 0.6)
    unit = (1 - share) * unit + share * spread
    unit = cv2.GaussianBlur(unit, (0, 0), rng.uniform(0.3, 1.2))
    unit = unit + rng.normal(0, rng.uniform(0.005, 0.03), unit.shape).astype(np.float32)
    eight = np.clip(unit * 255 + 0.5, 0, 255).astype(np.uint8)
    ok, data = cv2.imencode(".jpg", eight, [cv2.IMWRITE_JPEG_QUALITY, int(rng.integers(60, 90))])
    return cv2.imdecode(data, cv2.IMREAD_UNCHANGED) if ok else eight


def synthetic_pair(rng: np.random.Generator, source: np.ndarray, spec: WarpSpec = WarpSpec()) -> SyntheticPair:
    """A reference made from `source` (H, W[, 3]) uint8, of the same size, with its true mapping."""
    height, width = source.shape[:2]
    mapping = homography_mapping(random_homography(rng, height, width, spec), height, width)
    mapping = mapping + random_elastic_field(rng, height, width, spec)
    reference = change_printing(rng, warp_image(source, mapping, PAPER_WHITE))
    return SyntheticPair(reference, mapping)
