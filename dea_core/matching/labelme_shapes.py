"""Between LabelMe shapes and matches: one shape per match, and the match a shape we wrote stands for."""

from __future__ import annotations

import numpy as np

from dea_core.io.labelme_json import Shape
from dea_core.matching.poses import Pose, pose_quad
from dea_core.matching.result import Match

# The extra shape key holding a match's pose and score; LabelMe keeps keys it does not know.
MATCH_KEY = "match"


def match_to_shape(match: Match, *, is_template: bool = False, description: str | None = None,
                   polygon: bool = False) -> Shape:
    """One LabelMe shape for one match.

    Upright poses give a `rectangle`; oblique ones an `oriented_rectangle` (LabelMe 6.2+)
    or, with `polygon`, a four-point `polygon` that older LabelMe versions open.
    """
    record = {"score": round(match.score, 4), "rotation": match.pose.rotation, "flip": match.pose.flip,
              "scale": round(match.pose.scale, 4), "template": is_template}
    if match.is_upright:
        x0, y0, x1, y1 = match.box
        points = [[round(x0, 2), round(y0, 2)], [round(x1, 2), round(y1, 2)]]
        shape_type = "rectangle"
    else:
        points = [[round(float(x), 2), round(float(y), 2)] for x, y in match.quad]
        shape_type = "polygon" if polygon else "oriented_rectangle"
    return Shape(label=match.label, points=points, shape_type=shape_type, description=description,
                 extra={MATCH_KEY: record})


def shape_to_match(shape: Shape) -> Match | None:
    """The match a shape we wrote stands for, or None for a shape drawn by hand."""
    record = shape.extra.get(MATCH_KEY)
    if not isinstance(record, dict):
        return None
    pose = Pose(float(record.get("rotation", 0.0)), record.get("flip", "none"), float(record.get("scale", 1.0)))
    points = np.asarray(shape.points, dtype=float)
    if shape.shape_type == "rectangle":
        points = _quad_of_upright_box(points.min(axis=0), points.max(axis=0), pose)
    return Match(shape.label, float(record.get("score", 0.0)), pose, points)


def _quad_of_upright_box(low: np.ndarray, high: np.ndarray, pose: Pose) -> np.ndarray:
    """The corners, in the template's own order, of an occurrence stored as an upright box.

    A rectangle keeps no corner order; the pose says where the template's top-left went, which
    de-rotating a crop needs.
    """
    width, height = high - low
    if round(pose.rotation / 90) % 2:
        width, height = height, width
    return pose_quad(width / pose.scale, height / pose.scale, pose, tuple((low + high) / 2))
