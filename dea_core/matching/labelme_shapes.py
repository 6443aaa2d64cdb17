"""Between LabelMe shapes and matching: template boxes in, one shape per match out."""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from dea_core.io.labelme_json import LabelFile, Shape
from dea_core.matching.poses import Pose, pose_quad
from dea_core.matching.result import Match, MatchResult

# The extra shape key holding a match's pose and score; LabelMe keeps keys it does not know.
MATCH_KEY = "match"
Box = tuple[float, float, float, float]


def template_boxes(label_file: LabelFile, labels: list[str] | None = None) -> dict[str, list[Box]]:
    """The boxes the user drew, by label: shapes that are not themselves match results.

    A file we wrote holds one shape per match; only those flagged as the template count, so
    matching a matched file again starts from the user's boxes, not from every occurrence.
    """
    boxes: dict[str, list[Box]] = {}
    for shape in label_file.shapes:
        if labels is not None and shape.label not in labels:
            continue
        if shape.shape_type not in ("rectangle", "polygon", "oriented_rectangle"):
            continue
        record = shape.extra.get(MATCH_KEY)
        if isinstance(record, dict) and not record.get("template", False):
            continue
        xs = [p[0] for p in shape.points]
        ys = [p[1] for p in shape.points]
        boxes.setdefault(shape.label, []).append((min(xs), min(ys), max(xs), max(ys)))
    return boxes


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


def with_matches(label_file: LabelFile, results: dict[str, MatchResult], *,
                 notes: dict[str, str] | None = None, polygon: bool = False) -> LabelFile:
    """A copy of `label_file` whose matched labels hold one shape per match above its threshold.

    Shapes of labels that were not matched stay as they were, so nothing the user drew is lost.
    """
    notes = notes or {}
    kept = [s for s in label_file.shapes if s.label not in results]
    for label, result in results.items():
        for match in result.above():
            is_template = any(is_template_match(match, box) for box in result.template_boxes)
            kept.append(match_to_shape(match, is_template=is_template, description=notes.get(label),
                                       polygon=polygon))
    return replace(label_file, shapes=kept)


def is_template_match(match: Match, template_box: Box) -> bool:
    """True for the match that is the user's own box (it scores 1 where it was drawn)."""
    return match.pose == Pose() and all(abs(a - b) <= 1.0 for a, b in zip(match.box, template_box))
