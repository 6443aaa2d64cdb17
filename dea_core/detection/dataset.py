"""Training data from LabelMe pages: random crops at the detector's scale, split by page.

A page is ~3000 x 2000 pixels and SSD sees 300 x 300, so the page is never shrunk whole: `prepare`
takes N random 640 x 640 crops of each page (default 100), keeps a box when at least 75% of it lies
inside the crop (clipped to it), and resizes the crop to 300 x 300. Pages, not crops, are split
between training and validation, so that no validation ornament was seen in training.

A prepared dataset is a folder:

    dataset.json             classes, options, the pages of each split and every crop's boxes
    images/<split>/*.png     the 300 x 300 crops
    coco_<split>.json        the same boxes in COCO format          (see `export`)
    labels/<split>/*.txt     and as YOLO text, with classes.txt, data.yaml

`dataset.json` is written last: a folder without it is an interrupted preparation.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path, PurePosixPath, PureWindowsPath
from typing import Any, Final

import cv2
import numpy as np
import torch

from dea_core.detection import export
from dea_core.detection.errors import DatasetError, DetectionCancelled
from dea_core.detection.transforms import image_to_tensor, mirror, pad_to, photometric
from dea_core.errors import DeaError, ImageLoadError
from dea_core.io import (
    atomic_write_bytes,
    atomic_write_text,
    encode_png,
    load_label_file,
    load_label_image,
    read_image,
)
from dea_core.io.label_notes import split_label_note
from dea_core.io.reading import read_json

MANIFEST: Final = "dataset.json"
FORMAT: Final = "dea-detection-dataset"
FORMAT_VERSION: Final = 1
SPLITS: Final = ("train", "val")
# Crops are a few hundred pixels wide: a box coordinate beyond this is damage, not data.
_MAX_CROP_SIDE: Final = 100_000.0
# Shapes that outline an ornament: their points' bounds are its box.
BOX_SHAPES: Final = ("rectangle", "polygon", "oriented_rectangle", "mask")
# Keys under which a shape may carry the ornament's pose: AutoLabelme's match record, or "pose".
POSE_KEYS: Final = ("match", "pose")

Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class PrepareOptions:
    """How crops are cut; saved in dataset.json and, through it, in every checkpoint."""

    crops_per_page: int = 4  # the change benchmark's; 100 made a CPU run of the detector take hours
    crop_size: int = 640
    image_size: int = 300
    min_visible: float = 0.75
    val_fraction: float = 0.2
    seed: int = 0

    def __post_init__(self) -> None:
        if self.crops_per_page < 1 or self.crop_size < 32 or self.image_size < 32:
            raise DatasetError("crops per page must be at least 1, crop and image sizes at least 32 pixels")
        if not 0.0 < self.min_visible <= 1.0 or not 0.0 <= self.val_fraction < 1.0:
            raise DatasetError("the visible part must lie in (0, 1] and the validation share in [0, 1)")


@dataclass
class PageBoxes:
    """The ornaments of one LabelMe page. boxes: (N, 4) float64 xyxy pixels; poses: dict or None."""

    json_path: Path
    width: int
    height: int
    boxes: np.ndarray
    labels: list[str]
    poses: list[dict[str, Any] | None] = field(default_factory=list)


@dataclass
class Crop:
    """One training picture: its file (relative to the dataset), boxes in its pixels, labels."""

    file: str
    page: str
    origin: tuple[int, int]  # the crop's top-left corner on the page
    boxes: list[list[float]]
    labels: list[str]
    poses: list[dict[str, Any] | None]


@dataclass
class PreparedDataset:
    """What dataset.json holds."""

    root: Path
    classes: list[str]
    options: PrepareOptions
    pages: dict[str, list[str]]  # split -> LabelMe files (absolute paths)
    crops: dict[str, list[Crop]]  # split -> crops

    def boxes_per_class(self, split: str) -> dict[str, int]:
        counts = dict.fromkeys(self.classes, 0)
        for crop in self.crops[split]:
            for label in crop.labels:
                counts[label] += 1
        return counts


def read_page_boxes(path: str | os.PathLike[str], labels: Sequence[str] | None = None) -> PageBoxes:
    """The ornament boxes of a LabelMe file; a label's note ("0 This is a Sun") is dropped.

    Only outlining shapes count (rectangles, polygons, oriented rectangles, masks); `labels`, when
    given, keeps those labels only.
    """
    label_file = load_label_file(path)
    boxes, names, poses = [], [], []
    for shape in label_file.shapes:
        label = split_label_note(shape.label)[0]
        if shape.shape_type not in BOX_SHAPES or (labels is not None and label not in labels):
            continue
        points = np.asarray(shape.points, dtype=np.float64)
        low, high = points.min(axis=0), points.max(axis=0)
        if np.any(high - low < 1.0):
            continue
        boxes.append([*low, *high])
        names.append(label)
        poses.append(next((dict(shape.extra[k]) for k in POSE_KEYS if isinstance(shape.extra.get(k), dict)), None))
    if label_file.image_width is None or label_file.image_height is None:
        height, width = load_label_image(label_file).shape[:2]
    else:
        width, height = label_file.image_width, label_file.image_height
    return PageBoxes(Path(path), width, height, np.asarray(boxes, dtype=np.float64).reshape(-1, 4), names, poses)


def split_pages(paths: Sequence[Path], val_fraction: float, seed: int) -> dict[str, list[Path]]:
    """Pages shuffled by `seed`, the first round(fraction x n) (at least one of two or more) for validation."""
    order = list(paths)
    np.random.default_rng(seed).shuffle(order)
    count = 0 if val_fraction == 0 or len(order) < 2 else min(len(order) - 1, max(1, round(val_fraction * len(order))))
    return {"val": sorted(order[:count]), "train": sorted(order[count:])}


def crop_boxes(boxes: np.ndarray, window: tuple[int, int, int, int], min_visible: float) -> tuple[np.ndarray, np.ndarray]:
    """Boxes (N, 4) seen through window (x0, y0, x1, y1): (kept indices, boxes clipped, in window pixels).

    A box is kept when at least `min_visible` of its area lies inside the window.
    """
    x0, y0, x1, y1 = window
    clipped = np.stack([np.clip(boxes[:, 0], x0, x1), np.clip(boxes[:, 1], y0, y1),
                        np.clip(boxes[:, 2], x0, x1), np.clip(boxes[:, 3], y0, y1)], axis=1)
    area = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
    inside = np.clip(clipped[:, 2] - clipped[:, 0], 0, None) * np.clip(clipped[:, 3] - clipped[:, 1], 0, None)
    kept = np.flatnonzero(inside >= min_visible * area)
    return kept, clipped[kept] - np.array([x0, y0, x0, y0], dtype=np.float64)


def random_crops(image: np.ndarray, page: PageBoxes, options: PrepareOptions,
                 rng: np.random.Generator) -> list[tuple[np.ndarray, tuple[int, int], np.ndarray, np.ndarray]]:
    """`crops_per_page` crops of a page: (picture image_size^2, origin, kept indices, boxes in its pixels).

    A page smaller than the crop is padded with its median colour (paper) on the right and bottom.
    """
    size, out = options.crop_size, options.image_size
    padded = pad_to(image, size)
    height, width = padded.shape[:2]
    scale = out / size
    crops = []
    for _ in range(options.crops_per_page):
        x0, y0 = int(rng.integers(0, width - size + 1)), int(rng.integers(0, height - size + 1))
        kept, boxes = crop_boxes(page.boxes, (x0, y0, x0 + size, y0 + size), options.min_visible)
        picture = cv2.resize(padded[y0:y0 + size, x0:x0 + size], (out, out), interpolation=cv2.INTER_AREA)
        crops.append((picture, (x0, y0), kept, boxes * scale))
    return crops


def prepare_dataset(json_paths: Sequence[str | os.PathLike[str]], out_dir: str | os.PathLike[str],
                    options: PrepareOptions = PrepareOptions(), labels: Sequence[str] | None = None,
                    overwrite: bool = False, progress: Progress | None = None,
                    cancel: Callable[[], bool] | None = None) -> PreparedDataset:
    """Cut crops from LabelMe pages into a dataset folder with dataset.json, COCO and YOLO files."""
    out = Path(out_dir)
    if (out / MANIFEST).exists() and not overwrite:
        raise DatasetError(f"{out}: already holds a prepared dataset; choose another folder or pass overwrite")
    pages = [read_page_boxes(p, labels) for p in json_paths]
    if not pages:
        raise DatasetError("no LabelMe pages given")
    classes = sorted({label for page in pages for label in page.labels})
    if not classes:
        raise DatasetError(f"{pages[0].json_path}: no ornament boxes in any page"
                           + (f" with labels {', '.join(labels)}" if labels else ""))
    by_path = {page.json_path: page for page in pages}
    split = split_pages(list(by_path), options.val_fraction, options.seed)
    for name in SPLITS:
        (out / "images" / name).mkdir(parents=True, exist_ok=True)
    crops: dict[str, list[Crop]] = {name: [] for name in SPLITS}
    done, total = 0, len(pages)
    for name in SPLITS:
        for path in split[name]:
            if cancel is not None and cancel():
                raise DetectionCancelled("preparation cancelled; dataset.json was not written")
            crops[name] += _write_page_crops(by_path[path], out, name, options)
            done += 1
            if progress is not None:
                progress(done, total)
    dataset = PreparedDataset(out, classes, options, {k: [str(p.resolve()) for p in v] for k, v in split.items()},
                              crops)
    export.write_coco(dataset, out)
    export.write_yolo(dataset, out)
    atomic_write_text(out / MANIFEST, json.dumps(_manifest(dataset), indent=1) + "\n")
    return dataset


def _write_page_crops(page: PageBoxes, out: Path, split: str, options: PrepareOptions) -> list[Crop]:
    # Each page gets its own stream from (seed, page name): adding a page changes no other page's crops.
    page_key = int.from_bytes(hashlib.blake2b(page.json_path.name.encode(), digest_size=8).digest(), "little")
    rng = np.random.default_rng([options.seed, page_key])
    image = load_label_image(load_label_file(page.json_path))
    stem = _safe_stem(page.json_path)
    crops = []
    for index, (picture, origin, kept, boxes) in enumerate(random_crops(image, page, options, rng)):
        file = f"images/{split}/{stem}_c{index:03d}.png"
        atomic_write_bytes(out / file, encode_png(picture))
        crops.append(Crop(file, str(page.json_path.resolve()), origin, np.round(boxes, 2).tolist(),
                          [page.labels[i] for i in kept], [page.poses[i] for i in kept]))
    return crops


def _safe_stem(path: Path) -> str:
    """The page's name, file-system safe, with a short hash of its full path (two folders may share names)."""
    digest = hashlib.blake2b(str(path.resolve()).encode(), digest_size=3).hexdigest()
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in path.stem) + f"-{digest}"


def _manifest(dataset: PreparedDataset) -> dict[str, Any]:
    return {"format": FORMAT, "version": FORMAT_VERSION, "classes": dataset.classes,
            "options": asdict(dataset.options), "pages": dataset.pages,
            "crops": {name: [asdict(c) for c in crops] for name, crops in dataset.crops.items()}}


def load_dataset(root: str | os.PathLike[str]) -> PreparedDataset:
    """Read a folder written by `prepare_dataset`; DatasetError says what is wrong with it."""
    root = Path(root)
    path = root / MANIFEST
    if not path.is_file():
        raise DatasetError(f"{root}: no {MANIFEST}; prepare the dataset first with `dea prepare`")
    raw = read_json(path, "dataset file", DatasetError)
    try:
        if not isinstance(raw, dict) or raw.get("format") != FORMAT:
            raise DatasetError(f"{path}: not a detection dataset written by `dea prepare`")
        if raw.get("version") != FORMAT_VERSION:
            raise DatasetError(f"{path}: dataset format {raw.get('version')} is not {FORMAT_VERSION}; prepare it again")
        classes = raw["classes"]
        if not isinstance(classes, list) or not classes or not all(isinstance(c, str) for c in classes):
            raise DatasetError(f"{path}: 'classes' must list the label names, got {_short(classes)}")
        crops = {name: [_crop(c, path, index) for index, c in enumerate(raw["crops"][name])] for name in SPLITS}
        unknown = sorted({label for split in crops.values() for crop in split for label in crop.labels} - set(classes))
        if unknown:
            raise DatasetError(f"{path}: crops carry labels {', '.join(unknown)} that are not among its classes")
        return PreparedDataset(root, list(classes), PrepareOptions(**raw["options"]), raw["pages"], crops)
    except (ValueError, KeyError, TypeError, AttributeError) as error:
        if isinstance(error, DeaError):
            raise
        raise DatasetError(f"{path}: damaged dataset file ({type(error).__name__}: {_short(error)})") from error


def _crop(raw: dict[str, Any], path: Path, index: int) -> Crop:
    """One crop's record, checked: a picture inside the dataset folder, finite boxes inside the crop."""
    where = f"{path}: crop {index}"
    file = raw["file"]
    if not isinstance(file, str) or PurePosixPath(file).is_absolute() or ".." in PurePosixPath(file).parts \
            or PureWindowsPath(file).drive:
        raise DatasetError(f"{where}: its file {_short(file)} is not a picture inside the dataset folder")
    boxes, labels = raw["boxes"], raw["labels"]
    if not isinstance(labels, list) or not all(isinstance(label, str) for label in labels):
        raise DatasetError(f"{where}: 'labels' must be a list of label names")
    if not isinstance(boxes, list) or len(boxes) != len(labels):
        raise DatasetError(f"{where}: {_count(boxes)} boxes but {len(labels)} labels; prepare the dataset again")
    for box in boxes:
        if not _is_box(box, _MAX_CROP_SIDE):
            raise DatasetError(f"{where}: box {_short(box)} is not [x0, y0, x1, y1] with finite pixel "
                               "coordinates, x0 < x1 and y0 < y1; prepare the dataset again")
    return Crop(file, raw["page"], tuple(raw["origin"]), boxes, labels, raw["poses"])


def _is_box(box: Any, side: float) -> bool:
    if not isinstance(box, list) or len(box) != 4:
        return False
    if not all(type(v) in (int, float) and math.isfinite(v) and -side <= v <= side for v in box):
        return False
    return box[0] < box[2] and box[1] < box[3]


def _count(value: Any) -> str:
    return str(len(value)) if isinstance(value, list) else "no list of"


def _short(value: Any) -> str:
    text = repr(value) if not isinstance(value, BaseException) else str(value)
    return text if len(text) <= 80 else text[:77] + "..."


class CropDataset(torch.utils.data.Dataset):
    """Crops of one split as network input: (image (3, S, S), boxes (G, 4) xyxy in [0, 1], labels (G,)).

    With `augment`, each item is changed photometrically (and mirrored half the time) by a
    generator seeded from (seed, epoch, index): any epoch can be replayed exactly (`set_epoch`).
    Labels are class numbers from 1, in the order of `classes`.
    """

    def __init__(self, dataset: PreparedDataset, split: str, classes: Sequence[str], augment: bool = False,
                 seed: int = 0, mirror_too: bool = True) -> None:
        unknown = sorted({label for c in dataset.crops[split] for label in c.labels} - set(classes))
        if unknown:
            raise DatasetError(f"{dataset.root}: labels {', '.join(unknown)} are not classes of the model "
                               f"({', '.join(classes)})")
        self.dataset, self.split, self.augment, self.seed, self.mirror_too = dataset, split, augment, seed, mirror_too
        self.class_index = {name: i + 1 for i, name in enumerate(classes)}
        self.epoch = 0

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def __len__(self) -> int:
        return len(self.dataset.crops[self.split])

    def load(self, index: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The crop as stored: BGR uint8 (S, S, 3), boxes (G, 4) pixels, labels (G,) int64."""
        crop = self.dataset.crops[self.split][index]
        try:
            picture = read_image(self.dataset.root / crop.file)
        except ImageLoadError as error:
            raise DatasetError(f"{error}; prepare the dataset again") from error
        boxes = np.asarray(crop.boxes, dtype=np.float64).reshape(-1, 4)
        labels = np.asarray([self.class_index[label] for label in crop.labels], dtype=np.int64)
        return picture, boxes, labels

    def __getitem__(self, index: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        picture, boxes, labels = self.load(index)
        if self.augment:
            rng = np.random.default_rng([self.seed, self.epoch, index])
            picture = photometric(picture, rng)
            if self.mirror_too and rng.random() < 0.5:
                picture, boxes = mirror(picture, boxes)
        height, width = picture.shape[:2]
        scale = np.array([width, height, width, height], dtype=np.float64)
        return image_to_tensor(picture), torch.from_numpy(boxes / scale).float(), torch.from_numpy(labels)


def collate(batch: list[tuple[torch.Tensor, torch.Tensor, torch.Tensor]]
            ) -> tuple[torch.Tensor, list[torch.Tensor], list[torch.Tensor]]:
    """Stack pictures; keep boxes and labels as per-image lists (their counts differ)."""
    return torch.stack([b[0] for b in batch]), [b[1] for b in batch], [b[2] for b in batch]

