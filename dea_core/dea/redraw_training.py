"""Training the redraw decoder: each sort's genuine picture and its normal variation, from the catalogue's pages.

The vignettes are the boxes of the dataset's LabelMe pages (the training split), each cut from its
page, turned to its sort's template pose (the pose recorded with the box), brought to 128 x 128 with
paper 1 and ink 0, and registered (sub-pixel phase correlation, twice) onto the median of its sort,
so that the template learns the sort's strokes, not the boxes' jitter. The detector is frozen: each
vignette's features are read once, in a window of the training crops' size centred on it (as
scoring sees it), and the decoder (templates, variation pictures, code) is fitted to the targets
with an L1 loss. The genuine layouts of the training pages are kept in the model. The typical error
of each sort and the alarm threshold come from the training vignettes compared, as the scorer does,
with their sort drawn from the others (leave one out): in-sample errors, of vignettes the template
was fitted to, would be smaller than those of the new casts and new printings the model will see.
The worst fit of a genuine printing to its sort (NCC of ink) sets the fit under which a vignette is
taken for a foreign piece rather than a changed one (FIT_FLOOR_SHARE of it), and the most by which any
genuine printing fitted another pose better than its own sets how much more a pose must win by, for
that sort, to be a finding (a nearly symmetric sort, such as a chain link, fits its turned drawing
almost as well once slid by a stroke).
Sorts differ in how much their casts differ (a separately cut twin, a worn or unevenly cast sort):
each sort's scores are brought to a common scale by its genuine vignettes' median score (shrunk
towards the median of all, for a sort of few vignettes) before the threshold is set, and the
scorer applies the same scale, so a steady sort's re-cut stroke stands out as much as a
variable sort's.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final

import cv2
import numpy as np
import torch

from dea_core.anomaly.heatmaps import ink_darkness, to_gray
from dea_core.dea.compare import (
    POSE_MARGIN,
    Laid,
    error_in_template_pose,
    judge,
    lay_vignette,
    neighbours_ink,
    pose_name,
    to_template_pose,
)
from dea_core.dea.layout import Layout, learn_layouts
from dea_core.dea.model import DEA, REDRAW_SIDE
from dea_core.dea.vignettes import pooled_features
from dea_core.detection.dataset import PreparedDataset, read_page_boxes
from dea_core.detection.errors import DetectionCancelled, DetectionOptionsError
from dea_core.io import load_label_file, load_label_image
from dea_core.training.progress import StepClock, TrainProgress

MAX_REGISTRATION_PX: Final = 6.0
_BATCH: Final = 64
_TEMPLATE_RATE: Final = 0.05
_CODE_RATE: Final = 1e-3
SORT_PRIOR_CASTS: Final = 4  # a sort's own median score counts as that many vignettes' worth of the median of all
# A vignette its sort's redrawing fits under this share of the worst fit of the genuine training printings is
# not that sort (a foreign piece the detector took for it): compare.Laid.fit, scoring.AnomalyScorer.
FIT_FLOOR_SHARE: Final = 2 / 3


@dataclass
class Vignettes:
    """Training vignettes: targets (n, S, S) paper 1, pooled features (n, C), classes (n,) from 1, poses."""

    targets: np.ndarray
    pooled: torch.Tensor
    classes: torch.Tensor
    poses: list[str]


def page_vignettes(paths: list[str]) -> list[tuple[np.ndarray, list[str], list[str], np.ndarray]]:
    """(page BGR, labels, poses, boxes (N, 4)) of each LabelMe page."""
    pages = []
    for path in paths:
        boxes = read_page_boxes(path)
        image = load_label_image(load_label_file(path))
        poses = [pose_name((p or {}).get("flip")) for p in boxes.poses]
        pages.append((image, list(boxes.labels), poses, boxes.boxes))
    return pages


def template_target(grey: np.ndarray, box, pose: str, side: int = REDRAW_SIDE) -> np.ndarray:
    """The vignette at `box` of a grey page, in template pose, side x side, paper 1 and ink 0 (float32)."""
    x0, y0 = max(int(round(box[0])), 0), max(int(round(box[1])), 0)
    x1, y1 = min(int(round(box[2])), grey.shape[1]), min(int(round(box[3])), grey.shape[0])
    crop = to_template_pose(grey[y0:y1, x0:x1], pose)
    return 1.0 - cv2.resize(ink_darkness(crop), (side, side), interpolation=cv2.INTER_AREA)


def collect(model: DEA, pages, class_index: dict[str, int], crop_size: int, image_size: int,
            device: torch.device) -> Vignettes:
    targets, pooled, classes, poses = [], [], [], []
    for image, labels, page_poses, boxes in pages:
        grey = to_gray(image)
        targets += [template_target(grey, box, pose) for box, pose in zip(boxes, page_poses)]
        pooled.append(pooled_features(model, image, boxes, crop_size, image_size, device))
        classes += [class_index[label] for label in labels]
        poses += page_poses
    if not targets:
        raise DetectionOptionsError("the training pages hold no vignette to learn")
    return Vignettes(np.stack(targets), torch.cat(pooled), torch.tensor(classes), poses)


def register(targets: np.ndarray, classes: np.ndarray, rounds: int = 2) -> np.ndarray:
    """Each target (n, S, S) shifted onto the median of its class (phase correlation, at most MAX_REGISTRATION_PX)."""
    registered = targets.copy()
    for _ in range(rounds):
        for value in np.unique(classes):
            members = np.nonzero(classes == value)[0]
            reference = np.median(registered[members], axis=0).astype(np.float32)
            for i in members:
                (dx, dy), _ = cv2.phaseCorrelate(1.0 - reference, 1.0 - targets[i].astype(np.float32))
                if np.hypot(dx, dy) > MAX_REGISTRATION_PX:
                    dx = dy = 0.0
                shift = np.float32([[1, 0, -dx], [0, 1, -dy]])
                registered[i] = cv2.warpAffine(targets[i], shift, targets[i].shape[::-1], flags=cv2.INTER_LINEAR,
                                               borderMode=cv2.BORDER_CONSTANT, borderValue=1.0)
    return registered


def fit_redraw(model: DEA, dataset: PreparedDataset, crop_size: int, image_size: int, epochs: int, seed: int,
               device: torch.device, progress: Callable[[TrainProgress], None] | None = None,
               cancel: Callable[[], bool] | None = None) -> list[dict[str, float]]:
    """Fit the redraw decoder of `model` on the training pages of `dataset`; returns the loss of each epoch."""
    classes = model.detector.config.classes
    class_index = {name: i + 1 for i, name in enumerate(classes)}
    model.eval()
    data = collect(model, page_vignettes(dataset.pages["train"]), class_index, crop_size, image_size, device)
    targets = torch.from_numpy(register(data.targets, data.classes.numpy()))
    decoder = model.decoder
    with torch.no_grad():
        for value in data.classes.unique().tolist():
            median = targets[data.classes == value].median(dim=0).values.clamp(0.02, 0.98)
            decoder.template[value - 1] = torch.log(median / (1 - median))
    optimiser = torch.optim.Adam([{"params": [decoder.template, decoder.variation], "lr": _TEMPLATE_RATE},
                                  {"params": decoder.code.parameters(), "lr": _CODE_RATE}])
    generator = torch.Generator().manual_seed(seed)
    history, steps = [], -(-len(targets) // _BATCH)
    clock = StepClock(epochs, steps, 0, 0)
    for epoch in range(epochs):
        order, total = torch.randperm(len(targets), generator=generator), 0.0
        for step, start in enumerate(range(0, len(targets), _BATCH)):
            if cancel is not None and cancel():
                raise DetectionCancelled("DEA training cancelled")
            batch = order[start:start + _BATCH]
            drawn = decoder.draw(data.pooled[batch].to(device), data.classes[batch].to(device))[:, 0]
            loss = (drawn - targets[batch].to(device)).abs().mean()
            optimiser.zero_grad(set_to_none=True)
            loss.backward()
            optimiser.step()
            total += float(loss.detach()) * len(batch)
            if progress is not None:
                progress(clock.progress(epoch, step + 1, total / min(start + _BATCH, len(targets)), _TEMPLATE_RATE))
        history.append({"epoch": epoch + 1, "loss": total / len(targets)})
    return history


def genuine_layouts(dataset: PreparedDataset) -> list[Layout]:
    """The layouts of the dataset's training pages."""
    return learn_layouts([(labels, poses, boxes.tolist()) for _, labels, poses, boxes
                          in page_vignettes(dataset.pages["train"])])


def calibrate_leave_one_out(model: DEA, dataset: PreparedDataset, rate: float) -> dict[str, Any]:
    """Set the decoder's typical error of each sort and return the alarm threshold, both from the training
    vignettes, each compared with its sort drawn from the *other* vignettes (the median of their registered
    targets): every printing is then judged as a cast the model has not seen, as the pages it will score."""
    class_index = {name: i + 1 for i, name in enumerate(model.detector.config.classes)}
    side = model.decoder.template.shape[-1]
    pages = page_vignettes(dataset.pages["train"])
    greys = [to_gray(image) for image, *_ in pages]
    items = [(k, tuple(box), pose, class_index[label]) for k, (_, labels, poses, boxes) in enumerate(pages)
             for label, pose, box in zip(labels, poses, boxes)]
    classes = np.array([item[3] for item in items])
    registered = register(np.stack([template_target(greys[k], box, pose) for k, box, pose, _ in items]), classes)
    templates = torch.sigmoid(model.decoder.template).detach().cpu().numpy()
    redrawn = [np.median(registered[(classes == value) & (np.arange(len(items)) != i)], axis=0)
               if (classes == value).sum() > 1 else templates[value - 1] for i, value in enumerate(classes)]
    laid = [lay_vignette(greys[k], box, picture, pose) for (k, box, pose, _), picture in zip(items, redrawn)]
    on_page = {k: [one for one, item in zip(laid, items) if item[0] == k] for k in range(len(pages))}
    others = [neighbours_ink(one, on_page[item[0]]) for one, item in zip(laid, items)]
    total, count = np.zeros((len(class_index), side, side), np.float32), np.zeros(len(class_index))
    for one, ink, (_, _, _, value) in zip(laid, others, items):
        total[value - 1] += error_in_template_pose(judge(one, None, ink), side)
        count[value - 1] += 1
    typical = total / np.maximum(count, 1)[:, None, None]
    model.decoder.typical_error.copy_(torch.from_numpy(typical))
    raw = np.array([judge(one, typical[value - 1], ink).score for one, ink, (_, _, _, value) in zip(laid, others, items)])
    names = model.detector.config.classes
    scales = sort_scales(raw, classes)
    values = raw * np.array([scales[value] for value in classes])
    return {"threshold": float(np.quantile(values, 1.0 - rate)), "false_alarm_rate": rate,
            "split": "train, leave one out", "vignettes": len(values), "median_score": float(np.median(values)),
            "sort_scales": {names[value - 1]: round(float(scale), 5) for value, scale in scales.items()},
            "fit_floor": round(FIT_FLOOR_SHARE * min(one.fit for one in laid), 5),
            "pose_margins": pose_margins(laid, [item[2] for item in items], [names[v - 1] for v in classes])}


def pose_margins(laid: list[Laid], poses: list[str], labels: list[str]) -> dict[str, dict[str, dict[str, float]]]:
    """{sort: {expected pose: {other pose: margin}}}: how much better than the expected pose another must fit
    a vignette of that sort to be a finding, where genuine printings (each compared in its expected pose,
    `poses`) call for more than POSE_MARGIN: the most by which one of them fitted that other pose better,
    plus POSE_MARGIN."""
    margins: dict[str, dict[str, dict[str, float]]] = {}
    for one, expected, label in zip(laid, poses, labels):
        own = one.pose_scores[expected]
        for pose, score in one.pose_scores.items():
            margin = score - own + POSE_MARGIN
            known = margins.get(label, {}).get(expected, {}).get(pose, POSE_MARGIN)
            if pose != expected and margin > known:
                margins.setdefault(label, {}).setdefault(expected, {})[pose] = round(margin, 5)
    return margins


def sort_scales(scores: np.ndarray, classes: np.ndarray, prior: int = SORT_PRIOR_CASTS) -> dict[int, float]:
    """For each class, what brings its genuine vignettes' scores (n,) to the scale of all sorts': the median
    of all over its own median, that shrunk towards all's by `prior` vignettes of all (few casts, unsure median)."""
    overall = float(np.median(scores))
    scales = {}
    for value in np.unique(classes).tolist():
        own = scores[classes == value]
        level = (len(own) * float(np.median(own)) + prior * overall) / (len(own) + prior)
        scales[int(value)] = overall / max(level, 1e-6)
    return scales
