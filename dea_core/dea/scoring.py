"""Scoring what a user brings: each vignette's anomaly score, a heatmap, and unknown vignettes.

A page (or a crop of one) is searched by the DEA's detector as `dea detect` does. Each vignette
found is then seen again in a window of the training crops' size centred on it (so it sits at the
scale, and with the context, the DEA learnt), reconstructed, and compared with what is printed:
the anomaly score (`vignettes.anomaly_scores`) against the threshold calibrated at training time
says whether it has changed, and the error map, put back over the vignette's box, makes the
page's heatmap.

A vignette the detector does not recognise at all is a finding too: ink inside the ornament that
no detected box explains. The ornament is the band of the detected vignettes, extended by one and
a half vignettes along its row (a foreign piece at either end, after a gap, is inside it); on a crop smaller than the
training crops, the whole crop is the ornament. Blobs of such ink at least a quarter of a typical
vignette's area are reported as unknown vignettes, and their ink goes into the heatmap at full
strength.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final

import cv2
import numpy as np
import torch

from dea_core.anomaly.heatmaps import ink_darkness, ssim_error_map, to_gray
from dea_core.dea.compare import Box, Laid, context_region, judge, lay_vignette, neighbours_ink, posed
from dea_core.dea.layout import Layout, Match, Slot, best_layout, expected_box, reading_order
from dea_core.dea.model import DEA
from dea_core.dea.record import Verdict
from dea_core.dea.saved import CHECKPOINT_KIND, dea_from_record
from dea_core.dea.vignettes import anomaly_scores, grey, paper_padded_window, pooled_features, redraw
from dea_core.detection.boxes import pairwise_iou
from dea_core.detection.checkpoint import load_checkpoint
from dea_core.detection.device import resolve_device
from dea_core.detection.errors import CheckpointError, DetectionCancelled
from dea_core.detection.inference import SCORE_THRESHOLD, Detection, Detector
from dea_core.detection.model import INPUT_SIZE
from dea_core.detection.nms import nms
from dea_core.detection.transforms import image_to_tensor, paper_colour

UNKNOWN_LABEL: Final = "unknown vignette"
_INK_LEVEL: Final = 0.5  # paper-normalised darkness above which a pixel is ink
_UNKNOWN_MIN_AREA: Final = 0.25  # share of the median vignette's area
_BAND_REACH: Final = 1.5  # vignettes the ornament's band reaches beyond its end ones
_SMALLEST_UNKNOWN: Final = 64  # pixels: below this, a blob is a speck, whatever the vignettes' size
_BATCH: Final = 8
VIGNETTE_OVERLAP: Final = 0.5
SEPARATE_SHARE: Final = 0.4
RELOOK_THRESHOLD: Final = 0.05  # detector score accepted where the layout expects a vignette
RELOOK_IOU: Final = 0.3
_EMPTY_SLOT_INK: Final = 0.05  # share of a slot's pixels inked: below it, the slot is empty
_PAINT_DILATION: Final = 7  # px: a layout finding is painted over its ink and a little around it
MAP_SMOOTHING: Final = 0.05  # of the median vignette's smaller side: the redraw map's Gaussian sigma


@dataclass
class ScoredImage:
    """Verdicts, and the page's anomaly heatmaps (H, W) float32 in [0, 1], 0 where nothing is wrong:
    `heatmap` from the pixel error, `ssim_heatmap` from local structure (blind to ink and paper levels)."""

    verdicts: list[Verdict]
    heatmap: np.ndarray
    ssim_heatmap: np.ndarray
    threshold: float

    @property
    def anomalies(self) -> list[Verdict]:
        return [v for v in self.verdicts if v.anomaly]


class AnomalyScorer:
    """A trained DEA ready to check pages. Build it with `AnomalyScorer.from_checkpoint(path)`."""

    def __init__(self, model: DEA, data: dict[str, Any], calibration: dict[str, Any], device: torch.device,
                 layouts: list[Layout] | None = None) -> None:
        self.model = model.to(device).eval()
        self.device = device
        self.crop_size, self.image_size = int(data["crop_size"]), int(data["image_size"])
        self.threshold = float(calibration["threshold"])
        self.sort_scales = {str(k): float(v) for k, v in calibration.get("sort_scales", {}).items()}
        self.fit_floor = float(calibration.get("fit_floor", 0.0))  # redraw_training.FIT_FLOOR_SHARE
        self.pose_margins = _pose_margins(calibration.get("pose_margins", {}))
        self.detector = Detector(model.detector, self.crop_size, self.image_size, device)
        self.layouts = layouts or []
        self.classes = {name: i + 1 for i, name in enumerate(model.detector.config.classes)}

    @classmethod
    def from_checkpoint(cls, path: str | os.PathLike[str], device: str = "auto") -> AnomalyScorer:
        record = load_checkpoint(path, CHECKPOINT_KIND)
        if "calibration" not in record:
            raise CheckpointError(f"{path}: this DEA's training did not finish (no calibrated threshold); "
                                  "resume it with `dea train-dea --resume`")
        layouts = [Layout.from_dict(raw) for raw in record.get("layouts", [])]
        return cls(dea_from_record(record, path), record["data"], record["calibration"], resolve_device(device), layouts)

    @torch.no_grad()
    def score_image(self, image: np.ndarray, progress: Callable[[int, int], None] | None = None,
                    cancel: Callable[[], bool] | None = None, score_threshold: float = SCORE_THRESHOLD) -> ScoredImage:
        """Check every vignette of a BGR uint8 page or crop (H, W, 3)."""
        detections = one_box_per_vignette(self.detector.detect_page(image, score_threshold, cancel=cancel))
        return self.score_detections(image, detections, progress, cancel, keep_boxes=False)

    @torch.no_grad()
    def score_detections(self, image: np.ndarray, detections: list[Detection],
                         progress: Callable[[int, int], None] | None = None,
                         cancel: Callable[[], bool] | None = None, keep_boxes: bool = True) -> ScoredImage:
        """Check given vignette boxes of a page (found by the detector, or boxed by hand or by matching). With the
        redraw decoder, a verdict is boxed where the vignette's sort was laid on it (truer than a detector's box),
        except on a box given with `keep_boxes` (a person's or a match's box stays theirs)."""
        if self.model.config.decoder == "redraw":
            return self._score_redrawn(image, detections, progress, cancel, keep_boxes)
        heatmap, ssim_heatmap = np.zeros(image.shape[:2], np.float32), np.zeros(image.shape[:2], np.float32)
        paper = paper_colour(image)
        verdicts = []
        for start in range(0, len(detections), _BATCH):
            if cancel is not None and cancel():
                raise DetectionCancelled("scoring cancelled")
            chunk = detections[start:start + _BATCH]
            verdicts += self._score_chunk(image, paper, chunk, heatmap, ssim_heatmap)
            if progress is not None:
                progress(start + len(chunk), len(detections))
        unknown = unknown_vignettes(image, [v.box for v in verdicts], self.crop_size, heatmap)
        for verdict in unknown:
            paste_max(ssim_heatmap, np.ones((2, 2), np.float32), verdict.box)
        return ScoredImage(verdicts + unknown, heatmap, ssim_heatmap, self.threshold)

    def _score_redrawn(self, image: np.ndarray, detections: list[Detection],
                       progress: Callable[[int, int], None] | None,
                       cancel: Callable[[], bool] | None, keep_boxes: bool) -> ScoredImage:
        """The redraw decoder's way (compare.py): each vignette against the genuine sort laid on it, and the
        detected sequence against the genuine layouts."""
        grey_page = to_gray(image)
        heatmap = np.zeros(image.shape[:2], np.float32)
        kept = {id(d) for d in detections} if keep_boxes else set()  # found again in the layout's slots: not given
        detections = separate_vignettes(detections)
        detections = [detections[i] for i in reading_order([d.box for d in detections])]
        boxes = [d.box for d in detections]
        layout, matches = best_layout([d.label for d in detections], self.layouts, boxes)
        if layout is None:
            matches = [Match(i, None, True) for i in range(len(detections))]
        # Each vignette to compare, the pose its slot expects, and its slot with where the slot should be.
        to_compare: list[tuple[Detection, str, tuple[Slot, Box] | None]] = []
        empty_slots: list[tuple[Slot, Box]] = []
        verdicts: list[Verdict] = []
        for match in matches:
            if cancel is not None and cancel():
                raise DetectionCancelled("scoring cancelled")
            slot = layout.slots[match.slot] if layout is not None and match.slot is not None else None
            where = (slot, expected_box(layout, match.slot, matches, boxes)) if slot is not None else None
            if match.detection is not None and (match.same or layout is None):
                to_compare.append((detections[match.detection], slot.pose if slot is not None else "none", where))
            elif match.detection is not None:  # another sort than the slot's, or no slot for it
                found = detections[match.detection]
                self._paint(heatmap, grey_page, [found.box], where)
                verdicts.append(Verdict(found.label, found.box, found.score, 1.0, True))
            else:
                empty_slots.append(where)
        for (slot, box), found in zip(empty_slots, self._look_again(image, empty_slots)):
            if found is not None:
                to_compare.append((found, slot.pose, (slot, box)))
                continue
            self._paint(heatmap, grey_page, [box], (slot, box))
            empty = _ink_share(grey_page, box) < _EMPTY_SLOT_INK
            verdicts.append(Verdict(f"missing {slot.label}" if empty else UNKNOWN_LABEL, box, 0.0, 1.0,
                                    True, unknown=not empty))
        pictures = self._redrawings(image, [d for d, _, _ in to_compare])
        typical = self.model.decoder.typical_error.cpu().numpy()
        laid = []
        for index, ((found, pose, where), picture) in enumerate(zip(to_compare, pictures)):
            if cancel is not None and cancel():
                raise DetectionCancelled("scoring cancelled")
            laid.append(self._lay(grey_page, found, picture, pose, where))
            if progress is not None:
                progress(index + 1, len(to_compare))
        # A pose the genuine layout does not use there, or a piece its sort does not fit (a foreign one).
        findings = [one.pose != pose or one.fit < self.fit_floor for one, (_, pose, _) in zip(laid, to_compare)]
        genuine_ink = [one for one, finding in zip(laid, findings) if not finding]
        for (found, _, where), one, finding in zip(to_compare, laid, findings):
            # Where its sort was laid is the vignette's own box, truer than a detected one; not where it fits no better
            # than a foreign piece.
            box = found.box if id(found) in kept or one.fit < self.fit_floor else one.placed_box
            if finding:
                self._paint(heatmap, grey_page, [found.box, one.placed_box], where)
                verdicts.append(Verdict(found.label, box, found.score, 1.0, True))
            else:
                comparison = judge(one, typical[self.classes[found.label] - 1], neighbours_ink(one, genuine_ink))
                # On its sort's genuine spread (redraw_training.sort_scales).
                score = min(comparison.score * self.sort_scales.get(found.label, 1.0), 1.0)
                _paste_region(heatmap, comparison.error, one.region)
                verdicts.append(Verdict(found.label, box, found.score, round(score, 5), score > self.threshold))
        placed = [one.placed_box for one in laid]  # where each redrawing was laid: the ink it explains
        detected = [found.box for found, _, _ in to_compare]  # and as detected
        unknown = unknown_vignettes(image, [v.box for v in verdicts] + placed + detected, self.crop_size, heatmap)
        heatmap = smoothed_map(heatmap, placed or [v.box for v in verdicts])
        return ScoredImage(verdicts + unknown, heatmap, heatmap.copy(), self.threshold)

    def _lay(self, grey_page: np.ndarray, found: Detection, picture: np.ndarray, pose: str,
             where: tuple[Slot, Box] | None) -> Laid:
        """The redrawing laid on the vignette the detector found; where it fits there under the fit floor and
        the vignette stands in a slot (`where`: always one of its own sort), laid again on the slot's expected box
        (its genuine size, about the detected centre) and the better fit kept: a detector's box can hold half a
        vignette, and a genuine cast laid at half its size is no foreign piece."""
        margins = self.pose_margins.get(found.label, {}).get(pose)
        laid = lay_vignette(grey_page, found.box, picture, pose, margins=margins)
        if laid.fit >= self.fit_floor or where is None:
            return laid
        again = lay_vignette(grey_page, _centred_on(where[1], found.box), picture, pose, margins=margins)
        return again if again.fit > laid.fit else laid

    def _redrawings(self, image: np.ndarray, detections: list[Detection]) -> list[np.ndarray]:
        """The genuine sort of each detection, template pose, (S, S) float32 paper 1."""
        if not detections:
            return []
        boxes = [d.box for d in detections]
        pooled = pooled_features(self.model, image, boxes, self.crop_size, self.image_size, self.device)
        classes = torch.tensor([self.classes[d.label] for d in detections], device=self.device)
        return list(self.model.decoder.draw(pooled.to(self.device), classes)[:, 0].cpu().numpy())

    def _look_again(self, image: np.ndarray, slots: list[tuple[Slot, tuple[float, float, float, float]]]
                    ) -> list[Detection | None]:
        """For each (slot, expected box): a vignette of the slot's sort there that the detector scores at
        RELOOK_THRESHOLD or more (a vignette it merely missed), or None."""
        if not slots:
            return []
        paper, size = paper_colour(image), self.crop_size
        corners = [(int(round((b[0] + b[2]) / 2 - size / 2)), int(round((b[1] + b[3]) / 2 - size / 2))) for _, b in slots]
        windows = [paper_padded_window(image, paper, left, top, size) for left, top in corners]
        results = []
        for (slot, box), (left, top), found in zip(slots, corners,
                                                   self.detector.detect_pictures(windows, RELOOK_THRESHOLD)):
            found = [d for d in found if d.label == slot.label]
            if not found:
                results.append(None)
                continue
            moved = torch.tensor([[d.box[0] + left, d.box[1] + top, d.box[2] + left, d.box[3] + top] for d in found])
            overlap = pairwise_iou(moved, torch.tensor([box], dtype=torch.float32))[:, 0]
            best = int(overlap.argmax())
            results.append(Detection(slot.label, found[best].score, tuple(float(v) for v in moved[best].tolist()))
                           if float(overlap[best]) >= RELOOK_IOU else None)
        return results

    def _paint(self, heatmap: np.ndarray, grey_page: np.ndarray, boxes: list[Box], where: tuple[Slot, Box] | None) -> None:
        """A layout finding, at full strength: the ink printed inside `boxes` (the vignette's, as detected and as its
        redrawing was laid), not its neighbours' ink around them, and the ink the genuine slot would have where it
        should be (`where`: the slot and its expected box, in the slot's own size: a foreign piece smaller than the
        sort it stands for leaves the rest of the sort's place empty, and that is part of the change)."""
        slot, expected = where if where is not None and where[0].label in self.classes else (None, None)
        spans = boxes + ([expected] if expected is not None else [])
        region = context_region(_union(spans), grey_page.shape)
        x0, y0, x1, y1 = region
        shape = ink_darkness(grey_page[y0:y1, x0:x1]) * _inside(boxes, region)
        if slot is not None:
            shape = np.maximum(shape, _expected_ink(self._slot_template(slot.label), slot.pose, expected, region))
        kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (_PAINT_DILATION, _PAINT_DILATION))
        painted = cv2.dilate((shape > _INK_LEVEL).astype(np.uint8), kernel).astype(np.float32)
        _paste_region(heatmap, painted, region)

    def _slot_template(self, label: str) -> np.ndarray:
        """The genuine sort `label` with no variation: its template (S, S) paper 1."""
        logits = self.model.decoder.template[self.classes[label] - 1]
        return torch.sigmoid(logits).detach().cpu().numpy()

    def _score_chunk(self, image: np.ndarray, paper: np.ndarray, detections: list[Detection], heatmap: np.ndarray,
                     ssim_heatmap: np.ndarray) -> list[Verdict]:
        windows, rois = zip(*(self._window(image, paper, d.box) for d in detections))
        inputs = image_to_tensor(np.stack(windows)).to(self.device)
        roi_rows = torch.tensor([[i, *roi] for i, roi in enumerate(rois)], dtype=torch.float32, device=self.device)
        reconstructed, targets, errors = redraw(self.model, inputs, roi_rows)
        scores = anomaly_scores(errors).tolist()
        verdicts = []
        pairs = zip(grey(reconstructed)[:, 0].cpu().numpy(), grey(targets)[:, 0].cpu().numpy())
        for detection, error, score, (recon, seen) in zip(detections, errors.cpu().numpy(), scores, pairs):
            paste_max(heatmap, error, detection.box)
            paste_max(ssim_heatmap, ssim_error_map(seen, recon), detection.box)
            verdicts.append(Verdict(detection.label, detection.box, detection.score, round(score, 5),
                                    score > self.threshold))
        return verdicts

    def _window(self, image: np.ndarray, paper: np.ndarray,
                box: tuple[float, float, float, float]) -> tuple[np.ndarray, list[float]]:
        """The crop-sized window centred on a box, at network size, and the box in its pixels."""
        size = self.crop_size
        left = int(round((box[0] + box[2]) / 2 - size / 2))
        top = int(round((box[1] + box[3]) / 2 - size / 2))
        window = paper_padded_window(image, paper, left, top, size)
        scale = INPUT_SIZE / size
        roi = [(box[0] - left) * scale, (box[1] - top) * scale, (box[2] - left) * scale, (box[3] - top) * scale]
        return cv2.resize(window, (self.image_size, self.image_size), interpolation=cv2.INTER_AREA), roi


def _pose_margins(raw: Any) -> dict[str, dict[str, dict[str, float]]]:
    """A model file's learnt pose margins (redraw_training.pose_margins), checked: it may come from anywhere."""
    try:
        return {str(sort): {str(expected): {str(pose): float(margin) for pose, margin in others.items()}
                            for expected, others in poses.items()} for sort, poses in raw.items()}
    except (AttributeError, TypeError, ValueError) as error:
        raise CheckpointError(f"this DEA model file's pose margins are not readable ({error})") from error


def smoothed_map(heatmap: np.ndarray, boxes: list[tuple[float, float, float, float]]) -> np.ndarray:
    """The redraw decoder's page map blurred by a Gaussian of MAP_SMOOTHING of the median vignette's smaller
    side: its error sits on stroke pixels, laid to within a pixel or two (tolerance, warp), and a change is a
    patch of the vignette, which the map should cover rather than dot."""
    sides = [min(b[2] - b[0], b[3] - b[1]) for b in boxes]
    if not sides:
        return heatmap
    sigma = max(MAP_SMOOTHING * float(np.median(sides)), 0.5)
    return cv2.GaussianBlur(heatmap, (0, 0), sigma)


def _paste_region(heatmap: np.ndarray, values: np.ndarray, region: tuple[int, int, int, int]) -> None:
    x0, y0, x1, y1 = region
    np.maximum(heatmap[y0:y1, x0:x1], values[:y1 - y0, :x1 - x0], out=heatmap[y0:y1, x0:x1])


def _expected_ink(template: np.ndarray, pose: str, box, region: tuple[int, int, int, int]) -> np.ndarray:
    """A template (S, S) paper 1 as ink in `pose`, resized onto `box`, on the grid of `region`."""
    x0, y0, x1, y1 = region
    canvas = np.zeros((y1 - y0, x1 - x0), np.float32)
    left, top = int(round(box[0])) - x0, int(round(box[1])) - y0
    width, height = max(int(round(box[2] - box[0])), 1), max(int(round(box[3] - box[1])), 1)
    ink = 1.0 - cv2.resize(posed(template, pose), (width, height), interpolation=cv2.INTER_AREA)
    cx0, cy0 = max(left, 0), max(top, 0)
    cx1, cy1 = min(left + width, canvas.shape[1]), min(top + height, canvas.shape[0])
    if cx1 > cx0 and cy1 > cy0:
        canvas[cy0:cy1, cx0:cx1] = ink[cy0 - top:cy1 - top, cx0 - left:cx1 - left]
    return canvas


def _centred_on(box: Box, other: Box) -> Box:
    """`box` moved so that its centre is `other`'s."""
    dx, dy = (other[0] + other[2] - box[0] - box[2]) / 2, (other[1] + other[3] - box[1] - box[3]) / 2
    return (box[0] + dx, box[1] + dy, box[2] + dx, box[3] + dy)


def _union(boxes: list[Box]) -> Box:
    """The smallest box holding all of `boxes`."""
    return (min(b[0] for b in boxes), min(b[1] for b in boxes), max(b[2] for b in boxes), max(b[3] for b in boxes))


def _inside(boxes: list[Box], region: tuple[int, int, int, int]) -> np.ndarray:
    """(h, w) float32 over `region` (x0, y0, x1, y1): 1 inside any of `boxes`, 0 elsewhere."""
    x0, y0, x1, y1 = region
    mask = np.zeros((y1 - y0, x1 - x0), np.float32)
    for box in boxes:
        left, top = max(int(round(box[0])) - x0, 0), max(int(round(box[1])) - y0, 0)
        mask[top:max(int(round(box[3])) - y0, top), left:max(int(round(box[2])) - x0, left)] = 1.0
    return mask


def _ink_share(grey_page: np.ndarray, box) -> float:
    """The share of a box's pixels that are ink, judged against the page's paper and ink levels."""
    x0, y0 = max(int(round(box[0])), 0), max(int(round(box[1])), 0)
    x1, y1 = min(int(round(box[2])), grey_page.shape[1]), min(int(round(box[3])), grey_page.shape[0])
    if x1 <= x0 or y1 <= y0:
        return 0.0
    region = context_region(box, grey_page.shape)
    ink = ink_darkness(grey_page[region[1]:region[3], region[0]:region[2]])
    return float((ink[y0 - region[1]:y1 - region[1], x0 - region[0]:x1 - region[0]] > _INK_LEVEL).mean())


def separate_vignettes(detections: list[Detection], share: float = SEPARATE_SHARE) -> list[Detection]:
    """The vignettes of an ornament do not overlap: of two boxes whose overlap covers more than `share` of the
    smaller one, the less confident goes (a box half-way between two vignettes, found beside theirs)."""
    kept: list[Detection] = []
    for detection in sorted(detections, key=lambda d: -d.score):
        if all(_overlap_share(detection.box, other.box) <= share for other in kept):
            kept.append(detection)
    return kept


def _overlap_share(a, b) -> float:
    width = min(a[2], b[2]) - max(a[0], b[0])
    height = min(a[3], b[3]) - max(a[1], b[1])
    if width <= 0 or height <= 0:
        return 0.0
    smaller = min((a[2] - a[0]) * (a[3] - a[1]), (b[2] - b[0]) * (b[3] - b[1]))
    return width * height / max(smaller, 1e-6)


def one_box_per_vignette(detections: list[Detection]) -> list[Detection]:
    """The detector suppresses overlapping boxes class by class; a vignette it half-recognises (a
    foreign or re-cut one) may keep a box in two classes. Vignettes of an ornament do not overlap,
    so of boxes overlapping by more than VIGNETTE_OVERLAP only the most confident stays."""
    if len(detections) < 2:
        return detections
    boxes = torch.tensor([d.box for d in detections], dtype=torch.float32)
    keep = nms(boxes, torch.tensor([d.score for d in detections]), VIGNETTE_OVERLAP)
    return [detections[i] for i in sorted(keep.tolist())]



def paste_max(heatmap: np.ndarray, patch: np.ndarray, box: tuple[float, float, float, float]) -> None:
    """Resize a (h, w) patch onto its box of the heatmap, keeping the larger value where boxes overlap."""
    height, width = heatmap.shape
    x0, y0 = max(int(round(box[0])), 0), max(int(round(box[1])), 0)
    x1, y1 = min(int(round(box[2])), width), min(int(round(box[3])), height)
    if x1 <= x0 or y1 <= y0:
        return
    full_w, full_h = int(round(box[2])) - int(round(box[0])), int(round(box[3])) - int(round(box[1]))
    resized = cv2.resize(patch.astype(np.float32), (max(full_w, 1), max(full_h, 1)), interpolation=cv2.INTER_LINEAR)
    ox, oy = x0 - int(round(box[0])), y0 - int(round(box[1]))
    region = heatmap[y0:y1, x0:x1]
    np.maximum(region, resized[oy:oy + (y1 - y0), ox:ox + (x1 - x0)], out=region)


def ornament_region(shape: tuple[int, int], boxes: list[tuple[float, float, float, float]],
                    crop_size: int) -> np.ndarray:
    """(H, W) bool: where a vignette of the ornament may stand (module docstring)."""
    height, width = shape
    region = np.zeros(shape, bool)
    if max(height, width) <= crop_size:
        region[:] = True
        return region
    if not boxes:
        return region
    array = np.asarray(boxes)
    x0, y0 = array[:, :2].min(axis=0)
    x1, y1 = array[:, 2:].max(axis=0)
    along_row = x1 - x0 >= y1 - y0
    sizes = array[:, 2] - array[:, 0] if along_row else array[:, 3] - array[:, 1]
    reach = _BAND_REACH * float(np.median(sizes))
    if along_row:
        x0, x1 = x0 - reach, x1 + reach
    else:
        y0, y1 = y0 - reach, y1 + reach
    region[max(int(y0), 0):max(int(np.ceil(y1)), 0), max(int(x0), 0):max(int(np.ceil(x1)), 0)] = True
    return region


def unknown_vignettes(image: np.ndarray, boxes: list[tuple[float, float, float, float]], crop_size: int,
                      heatmap: np.ndarray) -> list[Verdict]:
    """Ink of the ornament that no box explains, as verdicts; its ink is marked in the heatmap."""
    ink = ink_darkness(image)
    stray = (ink > _INK_LEVEL) & ornament_region(ink.shape, boxes, crop_size)
    for x0, y0, x1, y1 in boxes:
        stray[max(int(y0), 0):max(int(np.ceil(y1)), 0), max(int(x0), 0):max(int(np.ceil(x1)), 0)] = False
    if not stray.any():
        return []
    typical = float(np.median([(b[2] - b[0]) * (b[3] - b[1]) for b in boxes])) if boxes else 0.0
    # Nearby specks of one foreign piece belong together: join them before counting.
    joined = cv2.dilate(stray.astype(np.uint8), np.ones((5, 5), np.uint8))
    count, labels = cv2.connectedComponents(joined)
    verdicts = []
    for index in range(1, count):
        blob = (labels == index) & stray
        rows, cols = np.nonzero(blob)
        box = (float(cols.min()), float(rows.min()), float(cols.max() + 1), float(rows.max() + 1))
        if (box[2] - box[0]) * (box[3] - box[1]) < max(_UNKNOWN_MIN_AREA * typical, _SMALLEST_UNKNOWN):
            continue
        np.maximum(heatmap, np.where(blob, ink, 0.0).astype(np.float32), out=heatmap)
        verdicts.append(Verdict(UNKNOWN_LABEL, box, 0.0, 1.0, True, unknown=True))
    return verdicts
