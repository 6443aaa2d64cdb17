"""Average precision the way COCO computes it, at the IoU thresholds the report tabulates.

For each class and IoU threshold: detections of all pictures sorted by score, each matched greedily
to the unmatched ground-truth box it overlaps most (at least the threshold), precision made
monotone, then averaged at the 101 recall points 0, 0.01, ..., 1 (pycocotools' rule; at most 100
detections per picture and class count). mAP is the mean over the classes that have ground truth;
COCO's mAP@[.5:.95] the mean over the thresholds 0.5, 0.55, ..., 0.95. The tests check these
numbers against pycocotools itself.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

import numpy as np

REPORT_THRESHOLDS: Final = (0.5, 0.75, 0.8, 0.85, 0.9, 0.95, 0.99)
COCO_THRESHOLDS: Final = tuple(round(0.5 + 0.05 * i, 2) for i in range(10))
RECALL_POINTS: Final = np.linspace(0.0, 1.0, 101)
MAX_DETECTIONS: Final = 100


@dataclass(frozen=True)
class Truth:
    image: int | str
    label: str
    box: tuple[float, float, float, float]


@dataclass(frozen=True)
class Prediction:
    image: int | str
    label: str
    score: float
    box: tuple[float, float, float, float]


@dataclass
class APReport:
    """AP per class and threshold (None where a class has no ground truth) and the means."""

    per_class: dict[str, dict[float, float | None]]
    mean: dict[float, float]
    coco_map: float
    counts: dict[str, int]  # ground-truth boxes per class

    def table(self, thresholds: Sequence[float] = REPORT_THRESHOLDS) -> str:
        """A plain-text table: one row per class and one for the mean."""
        head = f"{'class':<28}{'boxes':>7}" + "".join(f"{'AP' + _short(t):>9}" for t in thresholds) + f"{'mAP.5:.95':>11}"
        rows = [head]
        for label, values in self.per_class.items():
            cells = "".join(f"{_cell(values.get(t)):>9}" for t in thresholds)
            coco = [values.get(t) for t in COCO_THRESHOLDS]
            coco_cell = _cell(float(np.mean(coco)) if all(v is not None for v in coco) else None)
            rows.append(f"{label[:27]:<28}{self.counts.get(label, 0):>7}{cells}{coco_cell:>11}")
        rows.append(f"{'mean':<28}{sum(self.counts.values()):>7}"
                    + "".join(f"{_cell(self.mean.get(t)):>9}" for t in thresholds) + f"{_cell(self.coco_map):>11}")
        return "\n".join(rows)

    def to_dict(self) -> dict:
        return {"per_class": {k: {str(t): v for t, v in d.items()} for k, d in self.per_class.items()},
                "mean": {str(t): v for t, v in self.mean.items()}, "coco_map": self.coco_map, "counts": self.counts}


def evaluate(predictions: Sequence[Prediction], truths: Sequence[Truth], classes: Sequence[str] | None = None,
             thresholds: Sequence[float] = REPORT_THRESHOLDS) -> APReport:
    """AP per class at `thresholds` and COCO's mAP@[.5:.95]."""
    every = sorted(set(thresholds) | set(COCO_THRESHOLDS))
    classes = list(classes) if classes is not None else sorted({t.label for t in truths})
    per_class: dict[str, dict[float, float | None]] = {}
    counts = {label: 0 for label in classes}
    for truth in truths:
        if truth.label in counts:
            counts[truth.label] += 1
    for label in classes:
        aps = class_average_precision([p for p in predictions if p.label == label],
                                      [t for t in truths if t.label == label], every)
        per_class[label] = dict(zip(every, aps))
    mean = {t: _mean([per_class[c][t] for c in classes]) for t in every}
    coco = _mean([mean[t] for t in COCO_THRESHOLDS])
    return APReport({c: {t: v for t, v in d.items()} for c, d in per_class.items()},
                    {t: mean[t] for t in every}, coco, counts)


def class_average_precision(predictions: Sequence[Prediction], truths: Sequence[Truth],
                            thresholds: Sequence[float]) -> list[float | None]:
    """AP of one class at each threshold; None when the class has no ground truth."""
    if not truths:
        return [None for _ in thresholds]
    truth_by_image: dict[int | str, list[Truth]] = defaultdict(list)
    for truth in truths:
        truth_by_image[truth.image].append(truth)
    found_by_image: dict[int | str, list[Prediction]] = defaultdict(list)
    for prediction in predictions:
        found_by_image[prediction.image].append(prediction)
    scores, hits = [], [[] for _ in thresholds]
    for image, found in found_by_image.items():
        found = sorted(found, key=lambda p: -p.score)[:MAX_DETECTIONS]  # stable, as COCO's mergesort
        gts = np.asarray([t.box for t in truth_by_image.get(image, [])], dtype=np.float64).reshape(-1, 4)
        overlaps = _iou(np.asarray([p.box for p in found], dtype=np.float64), gts)
        scores += [p.score for p in found]
        for k, threshold in enumerate(thresholds):
            hits[k] += _greedy_match(overlaps, threshold)
    order = np.argsort(-np.asarray(scores, dtype=np.float64), kind="mergesort")
    return [_ap(np.asarray(h, dtype=bool)[order], len(truths)) for h in hits]


def _greedy_match(overlaps: np.ndarray, threshold: float) -> list[bool]:
    """For detections (rows, best first) against ground truth (columns): matched or not."""
    taken = np.zeros(overlaps.shape[1], bool)
    matched = []
    for row in overlaps:
        candidates = np.where(~taken & (row >= min(threshold, 1 - 1e-10)), row, -1.0)
        best = int(np.argmax(candidates)) if candidates.size else -1
        hit = best >= 0 and candidates[best] >= 0
        if hit:
            taken[best] = True
        matched.append(bool(hit))
    return matched


def _ap(hits: np.ndarray, positives: int) -> float:
    if hits.size == 0:
        return 0.0
    tp = np.cumsum(hits)
    fp = np.cumsum(~hits)
    recall = tp / positives
    precision = tp / (tp + fp + np.spacing(1))
    precision = np.maximum.accumulate(precision[::-1])[::-1]
    index = np.searchsorted(recall, RECALL_POINTS, side="left")
    sampled = np.where(index < len(precision), precision[np.minimum(index, len(precision) - 1)], 0.0)
    return float(sampled.mean())


def _iou(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    low = np.maximum(a[:, None, :2], b[None, :, :2])
    high = np.minimum(a[:, None, 2:], b[None, :, 2:])
    inter = np.clip(high - low, 0, None).prod(axis=-1)
    area_a = (a[:, 2] - a[:, 0]) * (a[:, 3] - a[:, 1])
    area_b = (b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1])
    return inter / np.maximum(area_a[:, None] + area_b[None, :] - inter, 1e-12)


def _mean(values: Sequence[float | None]) -> float:
    present = [v for v in values if v is not None]
    return float(np.mean(present)) if present else float("nan")


def _short(threshold: float) -> str:
    return f"{threshold:.2f}".lstrip("0").rstrip("0").rstrip(".") if threshold < 1 else "1"


def _cell(value: float | None) -> str:
    return "-" if value is None or np.isnan(value) else f"{value:.4f}"
