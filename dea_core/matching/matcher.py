"""Find every occurrence of a template box on a page: NCC over poses, coarse to fine.

The coarse pass correlates every pose of the template with a downscaled page (cheap: few
pixels, OpenCV's FFT correlation, all cores); the fine pass rescores each coarse peak at full
resolution in a small window, for its few best poses; NMS then keeps one match per ornament.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace

import cv2
import numpy as np

from dea_core.errors import MatchCancelled, MatchOptionsError
from dea_core.matching.ncc import local_peaks, ncc_map, self_similarity
from dea_core.matching.nms import suppress
from dea_core.matching.poses import Pose, pose_bank, pose_quad, render_pose
from dea_core.matching.result import Match, MatchResult
from dea_core.matching.search_region import DEFAULT_NEIGHBOURHOOD, Band, search_band

Box = tuple[float, float, float, float]
ProgressCallback = Callable[[int, int], None]
CancelCheck = Callable[[], bool]

# The threshold shown for a label not matched yet; a match sets its own (see auto_threshold).
DEFAULT_THRESHOLD = 0.6
# The automatic threshold: a small template correlates by chance with more of the page (a few
# letters can look like a 35-pixel rosette), so it needs a higher score. Set on generated pages
# and the real sample page (benchmarks/RESULTS.md, docs/matching.md).
AUTO_BASE, AUTO_SIZE_TERM, AUTO_RANGE = 0.5, 5.5, (0.55, 0.75)
# Matches are kept down to this score so the GUI's + button shows more without matching again.
SCORE_FLOOR = 0.45
# ... and at most this far below the threshold: lower than that is clutter nobody wants shown.
FLOOR_BELOW_THRESHOLD = 0.15
# The template's smaller side at the coarse level, in pixels: small enough to be fast,
# large enough for the ornament's shape to still tell it from type.
COARSE_SIDE = 14
MAX_COARSE_FACTOR = 8
# Coarse scores run lower than full-resolution ones (downscaling blurs fine hatching).
COARSE_SLACK = 0.1
# At a coarse peak, the best scale of each orientation (turn and flip) scoring within this of
# the best is rescored at full resolution, for at most this many orientations: adjacent scales of
# one orientation would otherwise crowd out the orientation that really is there.
REFINE_SPREAD = 0.12
REFINE_POSES = 4
# Two poses whose renderings correlate this well are one pose for this template (symmetry).
SAME_LOOK = 0.97
MIN_TEMPLATE_SIDE = 4
# Coarse peaks rescored at most, best first: far more than the occurrences of one ornament on a
# page, so only clutter (text that looks a little like a small fleuron) is left out.
MAX_CANDIDATES = 1500
REFINE_BATCH = 64
# A peak whose best pose rescores this far below the floor is clutter: its other poses are skipped.
GIVE_UP_MARGIN = 0.05


@dataclass(frozen=True)
class MatchOptions:
    """What to search: poses, where, and how good a match must be."""

    threshold: float | None = None
    rotations: tuple[float, ...] = (0.0,)
    flip: bool = False
    scales: tuple[float, ...] = (1.0,)
    neighbourhood: float | None = DEFAULT_NEIGHBOURHOOD
    floor: float = SCORE_FLOOR

    def poses(self) -> list[Pose]:
        """The distinct poses to search, simplest first."""
        return pose_bank(self.rotations, self.flip, self.scales)

    def threshold_for(self, template_shape: tuple[int, ...]) -> float:
        """The given threshold, or the automatic one for a template of this (h, w) searched
        down to the smallest of the scales."""
        if self.threshold is not None:
            return self.threshold
        return auto_threshold(template_shape, min(self.scales))


@dataclass
class _PosedTemplate:
    pose: Pose
    image: np.ndarray
    coarse: np.ndarray | None = field(default=None, repr=False)


class PageMatcher:
    """Matches templates on one page; keeps the page's pyramid so every click is cheap."""

    def __init__(self, image: np.ndarray) -> None:
        """image: (H, W) gray or (H, W, 3) BGR, uint8."""
        gray = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY) if image.ndim == 3 else image
        self.gray = gray.astype(np.float32)
        self._levels: dict[int, np.ndarray] = {1: self.gray}

    @property
    def shape(self) -> tuple[int, int]:
        return self.gray.shape[0], self.gray.shape[1]

    def level(self, factor: int) -> np.ndarray:
        """The page shrunk by an integer `factor` (area averaging), cached."""
        if factor not in self._levels:
            h, w = self.shape
            size = (max(1, w // factor), max(1, h // factor))
            self._levels[factor] = cv2.resize(self.gray, size, interpolation=cv2.INTER_AREA)
        return self._levels[factor]

    def match(self, label: str, template_box: Box, options: MatchOptions = MatchOptions(), *,
              progress: ProgressCallback | None = None, cancel: CancelCheck | None = None) -> MatchResult:
        """Every occurrence of the ornament inside `template_box`, best first."""
        x0, y0, x1, y1 = _pixel_box(template_box, self.shape)
        band = search_band(self.shape[0], (x0, y0, x1, y1), options.neighbourhood)
        found = self.match_image(label, self.gray[y0:y1, x0:x1], options, band=band, progress=progress,
                                 cancel=cancel)
        # The user's own box is an occurrence by definition, whatever scales were searched.
        own = Match(label, 1.0, Pose(), np.array([[x0, y0], [x1, y0], [x1, y1], [x0, y1]], dtype=float))
        kept = suppress([own, *found.matches])
        return replace(found, template_boxes=((x0, y0, x1, y1),), matches=tuple(kept))

    def match_image(self, label: str, template: np.ndarray, options: MatchOptions = MatchOptions(), *,
                    band: Band | None = None, progress: ProgressCallback | None = None,
                    cancel: CancelCheck | None = None) -> MatchResult:
        """Every occurrence of `template` ((h, w) gray, cut from this page or another) in `band`.

        band: the rows whose occurrences count; None for the whole page. The result names no
        template box, since the template need not lie on this page.
        """
        if template.ndim == 3:
            template = cv2.cvtColor(template, cv2.COLOR_BGR2GRAY)
        if min(template.shape) < MIN_TEMPLATE_SIDE:
            raise MatchOptionsError(f"the template of {label!r} is {template.shape[1]}x{template.shape[0]} px, "
                                    f"smaller than {MIN_TEMPLATE_SIDE} px; draw a box around the whole ornament")
        template = template.astype(np.float32)
        band = band or Band(0.0, float(self.shape[0]))
        steps = _Steps(progress, cancel)
        posed = _distinct_poses(template, options.poses(), steps)
        neighbours = _scale_neighbours(posed)
        threshold = options.threshold_for(template.shape)
        floor = round(max(options.floor, threshold - FLOOR_BELOW_THRESHOLD), 4)
        size = (template.shape[1], template.shape[0])
        candidates: list[Match] = []
        # Each size is searched on the pyramid level that suits it: a template at twice its size
        # can be shrunk twice as much as at its own.
        for factor, group in _by_coarse_factor(posed, template.shape).items():
            _attach_coarse(group, factor)
            peaks = self._coarse_peaks(group, band, factor, floor - COARSE_SLACK, steps)
            candidates += self._refine(peaks, group, neighbours, factor, size, label, floor, steps)
        # Below the floor a candidate can neither be kept nor suppress a better one.
        candidates = [m for m in candidates if m.score >= floor and band.contains(m.centre[1])]
        kept = suppress(candidates, likeness=_Likeness(posed))
        return MatchResult(label, (), tuple(kept), floor, threshold)

    def match_all(self, templates: Mapping[str, list[Box]], options: MatchOptions = MatchOptions(), *,
                  progress: ProgressCallback | None = None,
                  cancel: CancelCheck | None = None) -> dict[str, MatchResult]:
        """Every label's matches; a label drawn with several boxes gets their matches merged.

        progress counts template boxes done out of all of them.
        """
        total = sum(len(boxes) for boxes in templates.values())
        done = 0
        results: dict[str, MatchResult] = {}
        for label, boxes in templates.items():
            found = []
            for box in boxes:
                found.append(self.match(label, box, options, cancel=cancel))
                done += 1
                if progress is not None:
                    progress(done, total)
            results[label] = merge_results(found)
        return results

    def _coarse_peaks(self, posed: list[_PosedTemplate], band: Band, factor: int, floor: float,
                      steps: _Steps) -> list[tuple[int, int, np.ndarray]]:
        """Coarse centres (x, y) with every pose's coarse score there: (x, y, scores (P,))."""
        page = self.level(factor)
        tallest = max(p.image.shape[0] for p in posed)
        top = max(0, int((band.top - tallest / 2) // factor) - 1)
        bottom = min(page.shape[0], math.ceil((band.bottom + tallest / 2) / factor) + 1)
        region = page[top:bottom]
        maps: list[tuple[np.ndarray, int, int] | None] = [None] * len(posed)
        steps.begin(len(posed))

        def correlate(index: int) -> None:
            steps.check()
            small = posed[index].coarse
            if small is None or small.shape[0] > region.shape[0] or small.shape[1] > region.shape[1]:
                return
            # Kept with the offset from a map position (top-left) to the template centre.
            maps[index] = (ncc_map(region, small), small.shape[1] // 2, small.shape[0] // 2)

        with ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
            for _ in pool.map(correlate, range(len(posed))):
                steps.advance()
        if all(entry is None for entry in maps):
            return []
        best = np.full(region.shape, -1.0, np.float32)
        for entry in maps:
            if entry is not None:
                scores, ox, oy = entry
                view = best[oy:oy + scores.shape[0], ox:ox + scores.shape[1]]
                np.maximum(view, scores, out=view)
        smallest = min(min(p.coarse.shape) for p in posed if p.coarse is not None)
        # Occurrences overlap little, so their centres are at least half a template apart.
        radius = max(1, int(smallest * 0.5))
        peaks = local_peaks(best, (radius, radius), floor)
        if len(peaks) > MAX_CANDIDATES:
            order = np.argsort(-best[peaks[:, 1], peaks[:, 0]])[:MAX_CANDIDATES]
            peaks = peaks[order]
        near = _pose_scores_near(maps, peaks)
        return [(int(x), int(y) + top, near[i]) for i, (x, y) in enumerate(peaks)]

    def _refine(self, peaks: list[tuple[int, int, np.ndarray]], posed: list[_PosedTemplate],
                neighbours: dict[Pose, list[_PosedTemplate]], factor: int, template_size: tuple[int, int],
                label: str, floor: float, steps: _Steps) -> list[Match]:
        """Full-resolution score, position and pose for each coarse peak, on all cores.

        neighbours: for each pose, the same orientation one scale step smaller and larger.
        """
        steps.begin(len(peaks))
        orientations = [(p.pose.rotation, p.pose.flip) for p in posed]

        def refine_peak(peak: tuple[int, int, np.ndarray]) -> list[Match]:
            steps.check()
            x, y, scores = peak
            order = _best_per_orientation(scores, orientations)
            centre = ((x + 0.5) * factor, (y + 0.5) * factor)
            found: list[Match] = []
            for index in order:
                match = self._rescore(posed[index], centre, factor + 1, template_size, label)
                if match is None:
                    continue
                found.append(match)
                if match.score < floor - GIVE_UP_MARGIN:
                    # The best coarse pose is far off at full resolution: clutter, not an ornament.
                    break
                # The coarse pass tells sizes apart only roughly: try the sizes either side too.
                for other in neighbours[posed[index].pose]:
                    extra = self._rescore(other, match.centre, 2, template_size, label)
                    if extra is not None:
                        found.append(extra)
            return found

        def refine_batch(batch: list[tuple[int, int, np.ndarray]]) -> list[Match]:
            found = [match for peak in batch for match in refine_peak(peak)]
            for _ in batch:
                steps.advance()
            return found

        # A few large batches: one task per peak costs more in scheduling than the rescoring.
        batches = [peaks[i:i + REFINE_BATCH] for i in range(0, len(peaks), REFINE_BATCH)]
        with ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
            return [match for found in pool.map(refine_batch, batches) for match in found]

    def _rescore(self, posed: _PosedTemplate, centre: tuple[float, float], reach: int,
                 template_size: tuple[int, int], label: str) -> Match | None:
        h, w = posed.image.shape
        left = round(centre[0] - w / 2) - reach
        top = round(centre[1] - h / 2) - reach
        x0, y0 = max(0, left), max(0, top)
        x1 = min(self.shape[1], left + w + 2 * reach + 1)
        y1 = min(self.shape[0], top + h + 2 * reach + 1)
        if x1 - x0 < w or y1 - y0 < h:
            return None
        scores = ncc_map(self.gray[y0:y1, x0:x1], posed.image)
        _, score, _, (bx, by) = cv2.minMaxLoc(scores)
        found_centre = (x0 + bx + w / 2, y0 + by + h / 2)
        quad = pose_quad(template_size[0], template_size[1], posed.pose, found_centre)
        return Match(label, float(score), posed.pose, quad)


def _pose_scores_near(maps: list[tuple[np.ndarray, int, int] | None], peaks: np.ndarray) -> np.ndarray:
    """(N, P): each pose's best coarse score within a pixel of each peak centre; -1 where none."""
    scores = np.full((len(peaks), len(maps)), -1.0, np.float32)
    for index, entry in enumerate(maps):
        if entry is None:
            continue
        values, ox, oy = entry
        h, w = values.shape
        for dy in (-1, 0, 1):
            for dx in (-1, 0, 1):
                ys = peaks[:, 1] - oy + dy
                xs = peaks[:, 0] - ox + dx
                inside = (ys >= 0) & (ys < h) & (xs >= 0) & (xs < w)
                found = np.full(len(peaks), -1.0, np.float32)
                found[inside] = values[ys[inside], xs[inside]]
                np.maximum(scores[:, index], found, out=scores[:, index])
    return scores


def _scale_neighbours(posed: list[_PosedTemplate]) -> dict[Pose, list[_PosedTemplate]]:
    """For each pose, the poses of the same orientation one scale step smaller and larger."""
    by_orientation: dict[tuple[float, str], list[_PosedTemplate]] = {}
    for item in posed:
        by_orientation.setdefault((item.pose.rotation, item.pose.flip), []).append(item)
    neighbours: dict[Pose, list[_PosedTemplate]] = {}
    for items in by_orientation.values():
        items.sort(key=lambda p: p.pose.scale)
        for rank, item in enumerate(items):
            neighbours[item.pose] = items[max(0, rank - 1):rank] + items[rank + 1:rank + 2]
    return neighbours


def _by_coarse_factor(posed: list[_PosedTemplate], template_shape: tuple[int, int]) -> dict[int, list[_PosedTemplate]]:
    """The poses grouped by the pyramid level their size is searched on."""
    groups: dict[int, list[_PosedTemplate]] = {}
    for item in posed:
        groups.setdefault(_coarse_factor(template_shape, item.pose.scale), []).append(item)
    return groups


def _best_per_orientation(scores: np.ndarray, orientations: list[tuple[float, str]]) -> list[int]:
    """Indices of the poses to rescore at one peak: each orientation's best scale, best first."""
    best = float(scores.max())
    chosen: list[int] = []
    seen: set[tuple[float, str]] = set()
    for index in np.argsort(-scores):
        if scores[index] < best - REFINE_SPREAD or len(chosen) == REFINE_POSES:
            break
        if orientations[index] not in seen:
            seen.add(orientations[index])
            chosen.append(int(index))
    return chosen


class _Steps:
    """Progress and cancellation for one match, as steps done out of steps known."""

    def __init__(self, progress: ProgressCallback | None, cancel: CancelCheck | None) -> None:
        self._progress, self._cancel = progress, cancel
        self._done = self._total = 0

    def begin(self, count: int) -> None:
        self._total += count

    def advance(self) -> None:
        self._done += 1
        if self._progress is not None:
            self._progress(self._done, self._total)

    def check(self) -> None:
        if self._cancel is not None and self._cancel():
            raise MatchCancelled("matching cancelled")


def merge_results(results: list[MatchResult]) -> MatchResult:
    """One result for several template boxes of one label: their matches, one per ornament."""
    if len(results) == 1:
        return results[0]
    boxes = tuple(box for r in results for box in r.template_boxes)
    matches = suppress([m for r in results for m in r.matches])
    return MatchResult(results[0].label, boxes, tuple(matches), min(r.floor for r in results),
                       min(r.threshold for r in results))


def auto_threshold(template_shape: tuple[int, ...], scale: float = 1.0) -> float:
    """The score an occurrence of a template of this (h, w), shrunk to `scale`, needs when the
    user set none: shrunk, it has fewer pixels and matches letters more easily."""
    pixels = template_shape[0] * template_shape[1] * scale * scale
    # In hundredths, as the window's + and - buttons show and move it.
    return round(float(np.clip(AUTO_BASE + AUTO_SIZE_TERM / math.sqrt(pixels), *AUTO_RANGE)), 2)


def _pixel_box(box: Box, shape: tuple[int, int]) -> tuple[int, int, int, int]:
    """The template box as whole pixels inside the page, or a MatchOptionsError."""
    x0, y0, x1, y1 = (float(v) for v in box)
    x0, x1 = sorted((x0, x1))
    y0, y1 = sorted((y0, y1))
    h, w = shape
    ix0, iy0 = max(0, math.floor(x0)), max(0, math.floor(y0))
    ix1, iy1 = min(w, math.ceil(x1)), min(h, math.ceil(y1))
    if ix1 - ix0 < MIN_TEMPLATE_SIDE or iy1 - iy0 < MIN_TEMPLATE_SIDE:
        raise MatchOptionsError(
            f"template box {tuple(round(v, 1) for v in box)} is smaller than {MIN_TEMPLATE_SIDE} px "
            f"or outside the {w}x{h} page; draw a box around the whole ornament")
    return ix0, iy0, ix1, iy1


def _coarse_factor(template_shape: tuple[int, int], smallest_scale: float) -> int:
    side = min(template_shape) * smallest_scale
    return int(max(1, min(MAX_COARSE_FACTOR, side // COARSE_SIDE)))


def _paper_level(template: np.ndarray) -> float:
    """The template's background grey: the median of its border, usually paper."""
    border = np.concatenate([template[0], template[-1], template[:, 0], template[:, -1]])
    return float(np.median(border))


def _distinct_poses(template: np.ndarray, poses: list[Pose], steps: _Steps) -> list[_PosedTemplate]:
    """The template rendered in each pose, dropping poses that look like a simpler one.

    A left-right symmetric fleuron looks the same mirrored: searching both would only report
    the mirrored pose by a noise margin, so the plain pose stands for both. Only renderings of
    one size can look alike, so each is compared with the kept ones of its scale.
    """
    paper = _paper_level(template)
    kept: list[_PosedTemplate] = []
    by_scale: dict[float, list[np.ndarray]] = {}
    for pose in poses:
        steps.check()
        image, _ = render_pose(template, pose, border_value=paper)
        same_scale = by_scale.setdefault(pose.scale, [])
        if any(self_similarity(image, other) >= SAME_LOOK for other in same_scale):
            continue
        same_scale.append(image)
        kept.append(_PosedTemplate(pose, image.astype(np.float32)))
    return kept


class _Likeness:
    """How alike the template looks in two poses of one scale, computed when first asked."""

    def __init__(self, posed: list[_PosedTemplate]) -> None:
        self._images = {p.pose: p.image for p in posed}
        self._known: dict[tuple[Pose, Pose], float] = {}

    def __call__(self, a: Pose, b: Pose) -> float | None:
        if a.scale != b.scale or a not in self._images or b not in self._images:
            return None
        key = (a, b) if a <= b else (b, a)
        if key not in self._known:
            self._known[key] = self_similarity(self._images[a], self._images[b])
        return self._known[key]


def _attach_coarse(posed: list[_PosedTemplate], factor: int) -> None:
    """Attach each pose's template shrunk by `factor` (None when too small to correlate)."""
    for item in posed:
        h, w = item.image.shape
        size = (round(w / factor), round(h / factor))
        if min(size) < 3:
            item.coarse = None
        elif factor == 1:
            item.coarse = item.image
        else:
            item.coarse = cv2.resize(item.image, size, interpolation=cv2.INTER_AREA)
