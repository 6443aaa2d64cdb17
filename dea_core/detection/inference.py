"""From network output to ornament boxes, on one picture or a whole page.

`postprocess`: decode the offsets, softmax the scores, keep each class's boxes above the score
threshold, non-maximum suppression per class at IoU 0.45, at most 200 boxes per picture (SSD's
rules). `Detector.detect_page` tiles a full page with squares of the training crops' size (so the
ornaments have the size the network learnt), overlapping by a quarter, and merges the tiles' boxes:
a box cut by an inner tile edge gives way to a whole box of the same ornament from a neighbouring
tile (an ornament smaller than the overlap is whole in at least one tile).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final

import cv2
import numpy as np
import torch

from dea_core.detection.boxes import decode, pairwise_iou
from dea_core.detection.checkpoint import first_line, load_checkpoint
from dea_core.detection.device import resolve_device
from dea_core.detection.errors import CheckpointError, DetectionCancelled
from dea_core.detection.model import SSD, ModelConfig
from dea_core.detection.nms import batched_nms
from dea_core.detection.priors import PriorLayout, make_priors
from dea_core.detection.transforms import image_to_tensor, pad_to

SCORE_THRESHOLD: Final = 0.5  # for boxes shown to a user; evaluation uses EVAL_SCORE_THRESHOLD
EVAL_SCORE_THRESHOLD: Final = 0.01
NMS_IOU: Final = 0.45
TOP_K: Final = 200
TILE_OVERLAP: Final = 0.25
_PRE_NMS: Final = 1000  # candidates kept per picture before NMS, best first
_CONTAINED: Final = 0.7  # a cut box lying this much inside a kept box is a piece of it


@dataclass(frozen=True)
class Detection:
    """One found ornament: label, score in [0, 1], box (x0, y0, x1, y1) in the picture's pixels."""

    label: str
    score: float
    box: tuple[float, float, float, float]


def postprocess(offsets: torch.Tensor, logits: torch.Tensor, priors: torch.Tensor,
                score_threshold: float = SCORE_THRESHOLD, nms_iou: float = NMS_IOU,
                top_k: int = TOP_K) -> list[tuple[torch.Tensor, torch.Tensor, torch.Tensor]]:
    """Per picture: (boxes (K, 4) xyxy in [0, 1], scores (K,), classes (K,) from 1), best first.

    offsets: (B, P, 4); logits: (B, P, C+1); priors: (P, 4) cxcywh.
    """
    boxes = decode(offsets.float(), priors).clamp(0.0, 1.0)
    probabilities = torch.softmax(logits.float(), dim=-1)[..., 1:]
    results = []
    for image_boxes, image_scores in zip(boxes, probabilities):
        prior_index, class_index = torch.nonzero(image_scores > score_threshold, as_tuple=True)
        scores = image_scores[prior_index, class_index]
        if len(scores) > _PRE_NMS:
            best = scores.topk(_PRE_NMS).indices
            prior_index, class_index, scores = prior_index[best], class_index[best], scores[best]
        candidates = image_boxes[prior_index]
        keep = batched_nms(candidates, scores, class_index, nms_iou)[:top_k]
        results.append((candidates[keep], scores[keep], class_index[keep] + 1))
    return results


class Detector:
    """A trained SSD ready to find ornaments. Build it with `Detector.from_checkpoint(path)`."""

    def __init__(self, model: SSD, crop_size: int, image_size: int, device: torch.device) -> None:
        self.model = model.to(device).eval()
        self.config: ModelConfig = model.config
        self.crop_size, self.image_size, self.device = crop_size, image_size, device
        self.priors = make_priors(PriorLayout(self.config.priors)).to(device)

    @classmethod
    def from_checkpoint(cls, path: str | os.PathLike[str], device: str = "auto") -> Detector:
        record = load_checkpoint(path)
        try:
            model = SSD(ModelConfig.from_dict(record["model_config"]))
            model.load_state_dict(record["model"])
            data = record["data"]
            return cls(model, int(data["crop_size"]), int(data["image_size"]), resolve_device(device))
        except (KeyError, TypeError, ValueError, RuntimeError, AttributeError) as error:
            raise CheckpointError(f"{path}: its settings do not describe a network of this suite "
                                  f"({first_line(error)})") from error

    @torch.no_grad()
    def detect_pictures(self, pictures: list[np.ndarray], score_threshold: float = SCORE_THRESHOLD,
                        batch_size: int = 8) -> list[list[Detection]]:
        """Boxes in each BGR uint8 picture (H, W, 3), resized to the network's input; pixels of the picture."""
        found: list[list[Detection]] = []
        for start in range(0, len(pictures), batch_size):
            chunk = pictures[start:start + batch_size]
            inputs = np.stack([self._resized(p) for p in chunk])
            with torch.autocast(self.device.type, dtype=torch.float16, enabled=self.device.type == "cuda"):
                offsets, logits = self.model(image_to_tensor(inputs).to(self.device))
            for picture, (boxes, scores, classes) in zip(chunk, postprocess(offsets, logits, self.priors,
                                                                             score_threshold)):
                height, width = picture.shape[:2]
                scale = torch.tensor([width, height, width, height], dtype=torch.float32, device=boxes.device)
                found.append(self._detections(clip_boxes(boxes * scale, width, height), scores, classes))
        return found

    def detect_page(self, page: np.ndarray, score_threshold: float = SCORE_THRESHOLD,
                    overlap: float = TILE_OVERLAP, progress: Callable[[int, int], None] | None = None,
                    cancel: Callable[[], bool] | None = None, batch_size: int = 8) -> list[Detection]:
        """Every ornament of a full BGR page (H, W, 3), found tile by tile; boxes in page pixels."""
        origins = tile_origins(page.shape[1], page.shape[0], self.crop_size, overlap)
        size = self.crop_size
        padded = pad_to(page, size)
        boxes, scores, labels, cut = [], [], [], []
        for start in range(0, len(origins), batch_size):
            if cancel is not None and cancel():
                raise DetectionCancelled("detection cancelled")
            chunk = origins[start:start + batch_size]
            tiles = [padded[y:y + size, x:x + size] for x, y in chunk]
            for (x, y), found in zip(chunk, self.detect_pictures(tiles, score_threshold, batch_size)):
                for detection in found:
                    box = np.asarray(detection.box) + np.array([x, y, x, y])
                    boxes.append(box)
                    scores.append(detection.score)
                    labels.append(detection.label)
                    cut.append(_touches_inner_edge(box, (x, y), size, page.shape[1], page.shape[0]))
            if progress is not None:
                progress(min(start + batch_size, len(origins)), len(origins))
        merged = merge_tiles(np.asarray(boxes).reshape(-1, 4), np.asarray(scores), labels, np.asarray(cut, bool))
        return _inside_page(merged, page.shape[1], page.shape[0])

    def _resized(self, picture: np.ndarray) -> np.ndarray:
        if picture.shape[:2] == (self.image_size, self.image_size):
            return picture
        return cv2.resize(picture, (self.image_size, self.image_size), interpolation=cv2.INTER_AREA)

    def _detections(self, boxes: torch.Tensor, scores: torch.Tensor, classes: torch.Tensor) -> list[Detection]:
        return [Detection(self.config.classes[c - 1], round(s, 5), tuple(round(v, 2) for v in b))
                for b, s, c in zip(boxes.tolist(), scores.tolist(), classes.tolist())]


def clip_boxes(boxes: torch.Tensor, width: int, height: int) -> torch.Tensor:
    """(N, 4) x0, y0, x1, y1 boxes cut to a width x height picture: no box reaches outside it."""
    limits = torch.tensor([width, height, width, height], dtype=boxes.dtype, device=boxes.device)
    return torch.minimum(boxes.clamp(min=0), limits)


def _inside_page(found: list[Detection], width: int, height: int) -> list[Detection]:
    """Detections cut to the page (tiles of a small page are padded with paper); none left empty."""
    kept = []
    for detection in found:
        x0, y0, x1, y1 = (float(v) for v in np.clip(detection.box, 0, [width, height, width, height]))
        if x1 - x0 >= 1 and y1 - y0 >= 1:
            kept.append(Detection(detection.label, detection.score, (x0, y0, x1, y1)))
    return kept


def tile_origins(width: int, height: int, size: int, overlap: float = TILE_OVERLAP) -> list[tuple[int, int]]:
    """Top-left corners of square tiles of side `size` covering a page, neighbours overlapping by
    at least `overlap` x size; the last row and column end at the page's edge."""
    def starts(length: int) -> list[int]:
        if length <= size:
            return [0]
        count = int(np.ceil((length - size) / (size * (1 - overlap)))) + 1
        return sorted({round(i * (length - size) / (count - 1)) for i in range(count)})
    return [(x, y) for y in starts(height) for x in starts(width)]


def merge_tiles(boxes: np.ndarray, scores: np.ndarray, labels: list[str], cut: np.ndarray,
                nms_iou: float = NMS_IOU, top_k: int | None = None) -> list[Detection]:
    """One box per ornament from overlapping tiles: whole boxes first (best score first), then cut
    ones; a box is dropped when it overlaps a kept box of its label by IoU > nms_iou, or when it is a
    cut box lying mostly inside one (the same ornament seen across an edge)."""
    order = sorted(range(len(scores)), key=lambda i: (bool(cut[i]), -scores[i]))
    tensor = torch.as_tensor(boxes, dtype=torch.float64)
    iou = pairwise_iou(tensor, tensor).numpy()
    low = np.maximum(boxes[:, None, :2], boxes[None, :, :2])
    high = np.minimum(boxes[:, None, 2:], boxes[None, :, 2:])
    inside = np.clip(high - low, 0, None).prod(axis=-1) / np.clip(boxes[:, 2:] - boxes[:, :2], 1e-9, None).prod(axis=-1)
    names = np.asarray(labels, dtype=object)
    suppressed = np.zeros(len(order), bool)
    kept: list[int] = []
    for i in order:
        if suppressed[i]:
            continue
        kept.append(i)
        # inside[i, j]: the share of box j lying inside box i.
        suppressed |= (names == names[i]) & ((iou[i] > nms_iou) | (cut & (inside[i] > _CONTAINED)))
    kept.sort(key=lambda i: -scores[i])
    if top_k is not None:
        kept = kept[:top_k]
    return [Detection(labels[i], float(scores[i]), tuple(float(v) for v in boxes[i])) for i in kept]


def _touches_inner_edge(box: np.ndarray, origin: tuple[int, int], size: int, width: int, height: int) -> bool:
    """True when the box reaches a tile edge that is not the page's own edge (the ornament may go on)."""
    x, y = origin
    margin = 0.01 * size
    return bool((box[0] <= x + margin and x > 0) or (box[1] <= y + margin and y > 0)
                or (box[2] >= x + size - margin and x + size < width)
                or (box[3] >= y + size - margin and y + size < height))

