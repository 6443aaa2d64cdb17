"""Dense mappings: for each reference pixel, its (x, y) in the source, as float32 (H, W, 2).

Pixel centres are at integer coordinates (OpenCV's and LabelMe's convention for sampling), so a
mapping that is the identity holds (x, y) at pixel (row y, column x).
"""

from __future__ import annotations

import cv2
import numpy as np
from scipy.spatial import cKDTree

# Aligned pictures are shown on paper: where the source has no pixel, we paint white.
PAPER_WHITE = 255
_REMAP_ROWS = 32_000  # OpenCV requires fewer than 32767


def identity_mapping(height: int, width: int) -> np.ndarray:
    """(H, W, 2) float32 holding each pixel's own (x, y)."""
    xs, ys = np.meshgrid(np.arange(width, dtype=np.float32), np.arange(height, dtype=np.float32))
    return np.dstack([xs, ys])


def homography_mapping(homography: np.ndarray, height: int, width: int) -> np.ndarray:
    """(H, W, 2) float32: each reference pixel sent through the 3x3 `homography` (reference to source)."""
    grid = identity_mapping(height, width).reshape(-1, 1, 2)
    mapped = cv2.perspectiveTransform(grid.astype(np.float64), homography.astype(np.float64))
    return mapped.reshape(height, width, 2).astype(np.float32)


def warp_image(source: np.ndarray, mapping: np.ndarray, border_value: int = PAPER_WHITE) -> np.ndarray:
    """The source resampled on the reference grid: (H, W[, C]) with the mapping's H, W (bilinear)."""
    border = (border_value,) * (source.shape[2] if source.ndim == 3 else 1)
    return cv2.remap(source, np.ascontiguousarray(mapping[..., 0]), np.ascontiguousarray(mapping[..., 1]),
                     cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=border)


def inside_source(mapping: np.ndarray, source_height: int, source_width: int) -> np.ndarray:
    """(H, W) bool: the reference pixels whose mapped point falls inside the source picture."""
    x, y = mapping[..., 0], mapping[..., 1]
    return (x >= 0) & (y >= 0) & (x <= source_width - 1) & (y <= source_height - 1)


def resize_mapping(mapping: np.ndarray, height: int, width: int, source_scale: float = 1.0) -> np.ndarray:
    """A mapping computed on a resized reference, brought to a (height, width) reference grid.

    `source_scale` is how much the source was resized when the mapping was computed: the mapped
    coordinates are divided by it to give original source pixels.
    """
    h, w = mapping.shape[:2]
    if (h, w) == (height, width) and source_scale == 1.0:
        return mapping
    # Sample the small mapping at the big grid's pixel centres (pixel-centre-aligned resize).
    xs = (np.arange(width, dtype=np.float32) + 0.5) * (w / width) - 0.5
    ys = (np.arange(height, dtype=np.float32) + 0.5) * (h / height) - 0.5
    map_x, map_y = np.meshgrid(xs, ys)
    big = cv2.remap(mapping, map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    return ((big + 0.5) / source_scale - 0.5).astype(np.float32)


def sample_mapping(mapping: np.ndarray, points: np.ndarray) -> np.ndarray:
    """Reference points (N, 2) as (x, y) sent to the source: (N, 2), bilinear between pixels."""
    points = np.asarray(points, np.float32).reshape(-1, 2)
    if len(points) == 0:
        return np.zeros((0, 2), np.float32)
    # OpenCV's remap takes maps of fewer than 32767 rows: longer point lists go in slices.
    slices = [points[i:i + _REMAP_ROWS, None] for i in range(0, len(points), _REMAP_ROWS)]
    sampled = [cv2.remap(mapping, part[..., 0], part[..., 1], cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
               for part in slices]
    return np.concatenate(sampled).reshape(-1, 2)


def invert_points(mapping: np.ndarray, points: np.ndarray, iterations: int = 5) -> np.ndarray:
    """Source points (N, 2) sent back to the reference: (N, 2), the inverse of `sample_mapping`.

    The nearest mapped pixel on a coarse grid gives a start; Gauss-Newton steps with the mapping's
    local Jacobian then solve mapping(p) = q to a fraction of a pixel where the mapping is smooth.
    """
    points = np.asarray(points, np.float64).reshape(-1, 2)
    if len(points) == 0:
        return np.zeros((0, 2), np.float32)
    height, width = mapping.shape[:2]
    stride = max(1, int(round(np.sqrt(height * width / 250_000))))
    grid = mapping[::stride, ::stride].reshape(-1, 2)
    _, nearest = cKDTree(grid).query(points)
    columns = mapping[::stride, ::stride].shape[1]
    estimate = np.stack([(nearest % columns) * stride, (nearest // columns) * stride], axis=1).astype(np.float64)
    for _ in range(iterations):
        estimate[:, 0] = np.clip(estimate[:, 0], 0, width - 1)
        estimate[:, 1] = np.clip(estimate[:, 1], 0, height - 1)
        here = sample_mapping(mapping, estimate).astype(np.float64)
        unit_x, unit_y = np.array([1.0, 0.0]), np.array([0.0, 1.0])
        dx = sample_mapping(mapping, estimate + unit_x) - sample_mapping(mapping, estimate - unit_x)
        dy = sample_mapping(mapping, estimate + unit_y) - sample_mapping(mapping, estimate - unit_y)
        jacobian = np.stack([dx, dy], axis=2).astype(np.float64) / 2.0  # (N, 2 outputs, 2 inputs)
        residual = points - here
        determinant = np.linalg.det(jacobian)
        solvable = np.abs(determinant) > 1e-6
        step = np.zeros_like(residual)
        step[solvable] = np.linalg.solve(jacobian[solvable], residual[solvable][..., None])[..., 0]
        estimate += np.clip(step, -stride * 2.0, stride * 2.0)
    return estimate.astype(np.float32)
