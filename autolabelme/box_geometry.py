"""Moving and resizing a box by hand, as corners (4, 2) in page pixels: no Qt here.

A box keeps its corner order (the template's own: top-left, top-right, bottom-right, bottom-left
of the ornament), so a turned or flipped match stays turned or flipped when it is moved or resized.
A rotated box is resized by its corners along its own sides; an upright one also by its edges.
"""

from __future__ import annotations

import numpy as np

# The smallest side a resize leaves (page pixels), so a box never folds over itself.
MIN_SIDE = 4.0
CORNER, EDGE = "corner", "edge"
Handle = tuple[str, int]  # (CORNER, i): corner i; (EDGE, i): the middle of the side from corner i to i + 1


def is_upright(quad: np.ndarray) -> bool:
    """True when the box's sides run along the page's axes."""
    side = quad[1] - quad[0]
    return bool(abs(side[0]) < 1e-6 or abs(side[1]) < 1e-6)


def handles(quad: np.ndarray) -> list[tuple[Handle, np.ndarray]]:
    """Where a box can be taken to resize it: its corners, and the middle of each side when upright."""
    points = [((CORNER, i), quad[i]) for i in range(4)]
    if is_upright(quad):
        points += [((EDGE, i), (quad[i] + quad[(i + 1) % 4]) / 2) for i in range(4)]
    return points


def moved(quad: np.ndarray, dx: float, dy: float) -> np.ndarray:
    return np.asarray(quad, dtype=float) + np.array([dx, dy])


def resized(quad: np.ndarray, handle: Handle, point: tuple[float, float]) -> np.ndarray:
    """The box with `handle` dragged to `point`, the opposite corner (or side) staying where it is."""
    quad = np.asarray(quad, dtype=float)
    u = _unit(quad[1] - quad[0])
    v = _unit(quad[3] - quad[0])
    kind, index = handle
    if kind == CORNER:
        anchor = quad[(index + 2) % 4]
        local = (quad - anchor) @ np.stack([u, v]).T  # each corner's (along u, along v) from the anchor
        wanted = (np.asarray(point, dtype=float) - anchor) @ np.stack([u, v]).T
        factors = [_factor(wanted[axis], local[index][axis]) for axis in (0, 1)]
        return anchor + (local * factors) @ np.stack([u, v])
    start, end = quad[index], quad[(index + 1) % 4]
    along = _unit(end - start)
    normal = np.array([-along[1], along[0]])
    anchor = (quad[(index + 2) % 4] + quad[(index + 3) % 4]) / 2
    offsets = quad - anchor
    factor = _factor(float((np.asarray(point, dtype=float) - anchor) @ normal), float(((start + end) / 2 - anchor) @ normal))
    return anchor + np.outer(offsets @ along, along) + np.outer(factor * (offsets @ normal), normal)


def _unit(vector: np.ndarray) -> np.ndarray:
    length = float(np.hypot(*vector))
    return vector / length if length > 0 else np.array([1.0, 0.0])


def _factor(wanted: float, current: float) -> float:
    """How much a side grows for the handle to reach `wanted`; never below MIN_SIDE, never folded."""
    if abs(current) < 1e-9:
        return 1.0
    return max(wanted / current, MIN_SIDE / abs(current))
