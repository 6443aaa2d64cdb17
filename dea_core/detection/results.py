"""Detections as a LabelMe file: one rectangle per ornament found, its score under "detection"."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Final

from dea_core.detection.inference import Detection
from dea_core.io import LabelFile, Shape, new_label_file, save_label_file

DETECTION_KEY: Final = "detection"


def detections_to_label_file(detections: list[Detection], image_path: str | os.PathLike[str],
                             width: int, height: int) -> LabelFile:
    """A new LabelMe file for the picture at `image_path` holding the detections (best first)."""
    shapes = [Shape(label=d.label, points=[[round(d.box[0], 2), round(d.box[1], 2)], [round(d.box[2], 2), round(d.box[3], 2)]],
                    extra={DETECTION_KEY: {"score": round(d.score, 4)}}) for d in detections]
    return new_label_file(image_path, width, height, shapes)


def write_detections(detections: list[Detection], image_path: str | os.PathLike[str], width: int, height: int,
                     out_path: str | os.PathLike[str], overwrite: bool = False) -> Path:
    """Save the detections of one page as LabelMe JSON at `out_path` (atomic; refuses to replace
    an existing file unless `overwrite`)."""
    return save_label_file(detections_to_label_file(detections, image_path, width, height), out_path,
                           overwrite=overwrite)
