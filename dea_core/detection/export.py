"""A prepared dataset in the formats other tools read: COCO JSON and YOLO text.

- `coco_<split>.json`: images, annotations (bbox as [x, y, width, height] in pixels, area,
  iscrowd 0, the pose under `attributes` when the page had one), categories numbered from 1;
- `labels/<split>/<crop>.txt`: one line `class cx cy w h` per box, class from 0, coordinates as
  fractions of the picture, beside `images/<split>/` (the layout YOLO tools expect), with
  `classes.txt` and `data.yaml`.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dea_core.io import atomic_write_text

if TYPE_CHECKING:  # only for annotations: dataset imports this module
    from dea_core.detection.dataset import PreparedDataset


def coco_dict(dataset: PreparedDataset, split: str) -> dict[str, Any]:
    """The COCO object for one split of a prepared dataset."""
    size = dataset.options.image_size
    category = {name: i + 1 for i, name in enumerate(dataset.classes)}
    images, annotations = [], []
    for image_id, crop in enumerate(dataset.crops[split], start=1):
        images.append({"id": image_id, "file_name": crop.file, "width": size, "height": size,
                       "page": crop.page, "origin": list(crop.origin)})
        for (x0, y0, x1, y1), label, pose in zip(crop.boxes, crop.labels, crop.poses):
            annotation = {"id": len(annotations) + 1, "image_id": image_id, "category_id": category[label],
                          "bbox": [x0, y0, round(x1 - x0, 2), round(y1 - y0, 2)],
                          "area": round((x1 - x0) * (y1 - y0), 2), "iscrowd": 0}
            if pose is not None:
                annotation["attributes"] = pose
            annotations.append(annotation)
    return {"info": {"description": f"printer's ornaments, {split} crops"}, "images": images,
            "annotations": annotations,
            "categories": [{"id": i, "name": name, "supercategory": "ornament"} for name, i in category.items()]}


def write_coco(dataset: PreparedDataset, out: Path) -> list[Path]:
    """Write coco_train.json and coco_val.json; returns their paths."""
    paths = []
    for split in dataset.crops:
        path = out / f"coco_{split}.json"
        atomic_write_text(path, json.dumps(coco_dict(dataset, split)) + "\n")
        paths.append(path)
    return paths


def yolo_lines(boxes: list[list[float]], labels: list[str], classes: list[str], size: int) -> list[str]:
    """`class cx cy w h` lines (class from 0, fractions of the picture's side `size`)."""
    lines = []
    for (x0, y0, x1, y1), label in zip(boxes, labels):
        cx, cy, w, h = ((x0 + x1) / 2 / size, (y0 + y1) / 2 / size, (x1 - x0) / size, (y1 - y0) / size)
        lines.append(f"{classes.index(label)} {cx:.6f} {cy:.6f} {w:.6f} {h:.6f}")
    return lines


def write_yolo(dataset: PreparedDataset, out: Path) -> None:
    """Write labels/<split>/*.txt, classes.txt and data.yaml next to images/<split>/."""
    for split, crops in dataset.crops.items():
        folder = out / "labels" / split
        folder.mkdir(parents=True, exist_ok=True)
        for crop in crops:
            lines = yolo_lines(crop.boxes, crop.labels, dataset.classes, dataset.options.image_size)
            atomic_write_text(folder / (Path(crop.file).stem + ".txt"), "".join(line + "\n" for line in lines))
    atomic_write_text(out / "classes.txt", "".join(name + "\n" for name in dataset.classes))
    names = "".join(f"  {i}: {json.dumps(name)}\n" for i, name in enumerate(dataset.classes))
    atomic_write_text(out / "data.yaml", f"path: {json.dumps(str(out.resolve()))}\ntrain: images/train\n"
                                         f"val: images/val\nnames:\n{names}")
