"""Run a trained detector over held-out data and score it (AP in `evaluation`).

Two ways: on the prepared crops of a split (what the network sees in training, as in the report),
or on whole LabelMe pages with tiled inference (what a user gets from `dea detect`).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence

from dea_core.detection.dataset import CropDataset, PreparedDataset, read_page_boxes
from dea_core.detection.errors import DatasetError
from dea_core.detection.evaluation import APReport, Prediction, Truth, evaluate
from dea_core.detection.inference import EVAL_SCORE_THRESHOLD, Detector
from dea_core.io import load_label_file, load_label_image

Progress = Callable[[int, int], None]


def evaluate_on_crops(detector: Detector, dataset: PreparedDataset, split: str = "val", batch_size: int = 8,
                      progress: Progress | None = None) -> APReport:
    """AP of the detector on the crops of one split of a prepared dataset."""
    crops = CropDataset(dataset, split, detector.config.classes)
    if len(crops) == 0:
        raise DatasetError(f"{dataset.root}: the {split} split has no crops (prepare with a validation share)")
    predictions, truths = [], []
    for start in range(0, len(crops), batch_size):
        indices = range(start, min(start + batch_size, len(crops)))
        pictures = []
        for index in indices:
            picture, _, _ = crops.load(index)
            pictures.append(picture)
            crop = dataset.crops[split][index]
            truths += [Truth(index, label, tuple(box)) for box, label in zip(crop.boxes, crop.labels)]
        for index, found in zip(indices, detector.detect_pictures(pictures, EVAL_SCORE_THRESHOLD, batch_size)):
            predictions += [Prediction(index, d.label, d.score, d.box) for d in found]
        if progress is not None:
            progress(indices.stop, len(crops))
    return evaluate(predictions, truths, detector.config.classes)


def evaluate_on_pages(detector: Detector, json_paths: Sequence[str | os.PathLike[str]],
                      progress: Progress | None = None) -> APReport:
    """AP of the detector on whole LabelMe pages, found tile by tile as `dea detect` does."""
    predictions, truths = [], []
    for number, path in enumerate(json_paths):
        page = read_page_boxes(path)
        truths += [Truth(number, label, tuple(box)) for box, label in zip(page.boxes.tolist(), page.labels)]
        image = load_label_image(load_label_file(path))
        found = detector.detect_page(image, EVAL_SCORE_THRESHOLD)
        predictions += [Prediction(number, d.label, d.score, d.box) for d in found]
        if progress is not None:
            progress(number + 1, len(json_paths))
    return evaluate(predictions, truths, detector.config.classes)
