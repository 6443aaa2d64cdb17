"""Poses of an ornament on the page (rotation, flip, scale) and how to render a template in one.

Conventions, used by the matcher, the page generator and the LabelMe output alike:
- a pose is applied to the template as: flip first, then rotation and scale about its centre;
- `rotation` is in degrees, counter-clockwise as the page is seen on screen (OpenCV's sign);
- `flip` is "none", "mirrored" (left-right, a horizontal flip) or "flipped" (upside-down,
  a vertical flip), the words of the original AutoLabelme.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from typing import Literal

import cv2
import numpy as np

Flip = Literal["none", "mirrored", "flipped"]
FLIPS: tuple[Flip, ...] = ("none", "mirrored", "flipped")


@dataclass(frozen=True, order=True)
class Pose:
    """How an occurrence differs from its template."""

    rotation: float = 0.0
    flip: Flip = "none"
    scale: float = 1.0

    def linear_map(self) -> np.ndarray:
        """The 2x2 matrix taking template offsets (x right, y down) to page offsets."""
        # A copy of the cached one: every match's corners need it, and building it costs more
        # than the arithmetic it serves.
        return _linear_map(self.rotation, self.flip, self.scale).copy()

    def same_transform(self, other: Pose, *, scale_tol: float = 0.08, angle_tol: float = 3.0) -> bool:
        """True when both poses move the template the same way (flipped = mirrored + 180)."""
        if abs(self.scale / other.scale - 1.0) > scale_tol:
            return False
        a = self.linear_map() / self.scale
        b = other.linear_map() / other.scale
        if np.linalg.det(a) * np.linalg.det(b) < 0:
            return False
        relative = a @ b.T
        angle = math.degrees(math.atan2(relative[0, 1], relative[0, 0]))
        return abs(angle) <= angle_tol

    def simplicity(self) -> tuple[int, int, float]:
        """Sort key: the pose a person would name first (no flip, no turn, true size)."""
        turned = 0 if self.rotation % 360 == 0 else 1
        return (0 if self.flip == "none" else 1, turned, abs(math.log(self.scale)))

    def describe(self) -> str:
        """A short human label such as 'mirrored, 90°, x1.12'."""
        parts = [] if self.flip == "none" else [self.flip]
        if self.rotation % 360:
            parts.append(f"{self.rotation:g}°")
        if abs(self.scale - 1.0) > 1e-6:
            parts.append(f"x{self.scale:.2f}")
        return ", ".join(parts) or "plain"


@functools.lru_cache(maxsize=1024)
def _linear_map(rotation: float, flip: Flip, scale: float) -> np.ndarray:
    signs = {"none": (1.0, 1.0), "mirrored": (-1.0, 1.0), "flipped": (1.0, -1.0)}[flip]
    theta = math.radians(rotation)
    c, s = math.cos(theta), math.sin(theta)
    # Counter-clockwise on screen, where y points down.
    rotation_matrix = np.array([[c, s], [-s, c]])
    return scale * rotation_matrix * np.array(signs)


def normalise_angle(angle: float) -> float:
    """Angle in [0, 360)."""
    return float(angle) % 360.0


def rotation_range(minimum: float, maximum: float | None, step: float = 5.0) -> tuple[float, ...]:
    """The original tool's rule: min alone is that one angle; min and max, every `step` degrees."""
    if maximum is None:
        return (normalise_angle(minimum),)
    if maximum < minimum:
        minimum, maximum = maximum, minimum
    count = math.floor((maximum - minimum) / step + 1e-9) + 1
    return tuple(normalise_angle(minimum + i * step) for i in range(count))


def scale_steps(minimum: float, maximum: float, count: int) -> tuple[float, ...]:
    """`count` scales spaced evenly in log space from `minimum` to `maximum`."""
    if count <= 1:
        return (float(math.sqrt(minimum * maximum)),)
    return tuple(float(v) for v in np.geomspace(minimum, maximum, count))


@functools.lru_cache(maxsize=64)
def _pose_bank(rotations: tuple[float, ...], flip: bool, scales: tuple[float, ...]) -> tuple[Pose, ...]:
    flips: tuple[Flip, ...] = FLIPS if flip else ("none",)
    candidates = sorted(
        {Pose(normalise_angle(r), f, float(s)) for r in rotations for f in flips for s in scales},
        key=lambda p: (p.simplicity(), p.rotation, p.flip, p.scale),
    )
    kept: list[Pose] = []
    for pose in candidates:
        if not any(pose.same_transform(k, scale_tol=1e-6, angle_tol=1e-6) for k in kept):
            kept.append(pose)
    return tuple(kept)


def pose_bank(
    rotations: tuple[float, ...] = (0.0,),
    flip: bool = False,
    scales: tuple[float, ...] = (1.0,),
) -> list[Pose]:
    """Every distinct pose to search, simplest first; duplicates such as flipped = mirrored + 180 dropped.

    Cached: each match asks for it, and comparing every pair of poses costs more than a correlation.
    """
    return list(_pose_bank(tuple(rotations), flip, tuple(scales)))


def is_right_angle(rotation: float) -> bool:
    """True for 0, 90, 180 and 270 degrees, which turn a box into a box."""
    return normalise_angle(rotation) % 90.0 == 0.0


def render_pose(template: np.ndarray, pose: Pose, border_value: float | tuple = 0) -> tuple[np.ndarray, np.ndarray]:
    """The template as it appears in `pose`, on the smallest upright canvas that holds it.

    template: (H, W) or (H, W, C). Returns the rendered image and a uint8 mask (255 where the
    template lies, 0 in corners uncovered by a rotation), both of the canvas size.
    """
    image = template
    if pose.flip == "mirrored":
        image = image[:, ::-1]
    elif pose.flip == "flipped":
        image = image[::-1, :]
    if is_right_angle(pose.rotation):
        image = np.ascontiguousarray(np.rot90(image, int(normalise_angle(pose.rotation) // 90)))
        if pose.scale != 1.0:
            size = (max(1, round(image.shape[1] * pose.scale)), max(1, round(image.shape[0] * pose.scale)))
            shrinking = pose.scale < 1.0
            image = cv2.resize(image, size, interpolation=cv2.INTER_AREA if shrinking else cv2.INTER_LINEAR)
        return image, np.full(image.shape[:2], 255, np.uint8)
    image = np.ascontiguousarray(image)
    h, w = image.shape[:2]
    matrix, size = _canvas_affine(w, h, pose)
    warped = cv2.warpAffine(image, matrix, size, flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT,
                            borderValue=border_value)
    mask = cv2.warpAffine(np.full((h, w), 255, np.uint8), matrix, size, flags=cv2.INTER_NEAREST,
                          borderMode=cv2.BORDER_CONSTANT, borderValue=0)
    return warped, mask


def _canvas_affine(w: int, h: int, pose: Pose) -> tuple[np.ndarray, tuple[int, int]]:
    """Affine map (2x3) from the upright template (already flipped) onto its pose's canvas."""
    rotation_only = Pose(pose.rotation, "none", pose.scale)
    linear = rotation_only.linear_map()
    corners = np.array([[-w / 2, -h / 2], [w / 2, -h / 2], [w / 2, h / 2], [-w / 2, h / 2]]) @ linear.T
    cw = max(1, math.ceil(corners[:, 0].max() - corners[:, 0].min() - 1e-6))
    ch = max(1, math.ceil(corners[:, 1].max() - corners[:, 1].min() - 1e-6))
    centre_in = np.array([(w - 1) / 2, (h - 1) / 2])
    centre_out = np.array([(cw - 1) / 2, (ch - 1) / 2])
    matrix = np.hstack([linear, (centre_out - linear @ centre_in)[:, None]])
    return matrix, (cw, ch)


def pose_quad(width: float, height: float, pose: Pose, centre: tuple[float, float]) -> np.ndarray:
    """Page corners (4, 2) of a `width` x `height` template in `pose` centred at `centre`.

    Corners are the template's own top-left, top-right, bottom-right, bottom-left, so the
    quadrilateral carries the orientation (useful for de-rotating crops and LabelMe's
    oriented rectangles).
    """
    local = np.array([[-width / 2, -height / 2], [width / 2, -height / 2],
                      [width / 2, height / 2], [-width / 2, height / 2]])
    return local @ pose.linear_map().T + np.asarray(centre, dtype=float)


def posed_size(width: float, height: float, pose: Pose) -> tuple[float, float]:
    """Width and height of the upright box around a `width` x `height` template in `pose`."""
    quad = pose_quad(width, height, pose, (0.0, 0.0))
    return float(np.ptp(quad[:, 0])), float(np.ptp(quad[:, 1]))


def compose(outer: Pose, inner: Pose) -> Pose:
    """The pose of a template moved by `inner`, then by `outer`, as the simplest equivalent pose.

    A second template cut from a mirrored occurrence looks like the first in `inner`; an
    occurrence found in `outer` of that second template is then the first one in this pose.
    """
    linear = outer.linear_map() @ inner.linear_map()
    scale = math.sqrt(abs(np.linalg.det(linear)))
    unit = linear / scale
    flip: Flip = "none"
    if np.linalg.det(unit) < 0:
        flip = "mirrored"
        unit = unit @ np.diag([-1.0, 1.0])
    angle = normalise_angle(round(math.degrees(math.atan2(unit[0, 1], unit[0, 0])), 6))
    pose = Pose(0.0 if angle >= 360.0 - 1e-6 else angle, flip, round(scale, 6))
    if flip == "mirrored":
        # Mirrored and turned 180 is flipped (upside down), which a person names more simply.
        flipped = Pose(normalise_angle(pose.rotation - 180.0), "flipped", pose.scale)
        pose = min((pose, flipped), key=Pose.simplicity)
    return pose
