"""Annotation transfer: LabelMe shapes drawn on the reference carried onto a source, and back.

A mapping sends reference points to the source (`sample_mapping`); the way back inverts it point
by point (`invert_points`). Shapes keep their type where the mapped points still describe one:
a rectangle becomes the bounding box of its mapped outline (LabelMe rectangles are upright),
a circle keeps its mapped centre and a radius point, all point lists map point by point. Masks
cannot be resampled by their corners, so they are left out and named in the result.
"""

from __future__ import annotations

import copy
import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final

import numpy as np

from dea_core.alignment.mapping import invert_points, sample_mapping
from dea_core.io.labelme_json import LabelFile, Shape, new_label_file

# Points along each rectangle side that are mapped, so a bent page still gets a box around the ornament.
_OUTLINE_STEPS: Final = 8

PointMap = Callable[[np.ndarray], np.ndarray]


@dataclass(frozen=True)
class TransferredLabels:
    """The shapes on the other picture, and the labels of the shapes that could not be carried."""

    label_file: LabelFile
    skipped: tuple[str, ...]


def to_source(label_file: LabelFile, mapping: np.ndarray, source_path: str | os.PathLike[str],
              source_size: tuple[int, int]) -> TransferredLabels:
    """Shapes drawn on the reference, placed on the source picture (`source_size` = (width, height))."""
    return _transfer(label_file, lambda points: sample_mapping(mapping, points), source_path, source_size)


def to_reference(label_file: LabelFile, mapping: np.ndarray, reference_path: str | os.PathLike[str]
                 ) -> TransferredLabels:
    """Shapes drawn on the source, placed on the reference picture (the mapping's grid)."""
    height, width = mapping.shape[:2]
    return _transfer(label_file, lambda points: invert_points(mapping, points), reference_path, (width, height))


def _transfer(label_file: LabelFile, send: PointMap, image_path: str | os.PathLike[str],
              size: tuple[int, int]) -> TransferredLabels:
    width, height = size
    shapes, skipped = [], []
    for shape in label_file.shapes:
        moved = _moved_shape(shape, send, width, height)
        if moved is None:
            skipped.append(shape.label)
        else:
            shapes.append(moved)
    result = new_label_file(image_path, width, height, shapes)
    result.flags = copy.deepcopy(label_file.flags)
    return TransferredLabels(result, tuple(skipped))


def _moved_shape(shape: Shape, send: PointMap, width: int, height: int) -> Shape | None:
    points = np.asarray(shape.points, np.float64).reshape(-1, 2)
    if shape.shape_type == "mask":
        return None
    if shape.shape_type == "rectangle":
        outline = send(_rectangle_outline(points))
        low, high = _clip(outline.min(axis=0), width, height), _clip(outline.max(axis=0), width, height)
        new_points = [low, high]
    elif shape.shape_type == "circle":
        centre = send(points[:1])[0]
        radius = np.linalg.norm(points[1] - points[0])
        # The mean distance to four mapped rim points keeps the circle's size under rotation and scale.
        rim = points[0] + radius * np.array([[1, 0], [0, 1], [-1, 0], [0, -1]])
        new_radius = np.linalg.norm(send(rim) - centre, axis=1).mean()
        new_points = [centre, centre + np.array([new_radius, 0.0])]
    else:
        new_points = list(send(points))
    moved = copy.deepcopy(shape)
    moved.points = [[round(float(x), 2), round(float(y), 2)] for x, y in new_points]
    return moved


def _rectangle_outline(corners: np.ndarray) -> np.ndarray:
    (x0, y0), (x1, y1) = corners.min(axis=0), corners.max(axis=0)
    steps = np.linspace(0.0, 1.0, _OUTLINE_STEPS + 1)
    xs, ys = x0 + (x1 - x0) * steps, y0 + (y1 - y0) * steps
    return np.concatenate([np.stack([xs, np.full_like(xs, y0)], 1), np.stack([xs, np.full_like(xs, y1)], 1),
                           np.stack([np.full_like(ys, x0), ys], 1), np.stack([np.full_like(ys, x1), ys], 1)])


def _clip(point: np.ndarray, width: int, height: int) -> np.ndarray:
    return np.array([np.clip(point[0], 0, width - 1), np.clip(point[1], 0, height - 1)])
