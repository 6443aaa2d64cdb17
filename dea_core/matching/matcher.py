"""Find every occurrence of a template box on a page: NCC over poses, coarse to fine.

The coarse pass scores every turn and flip of the template on a downscaled page, at fewer sizes
where the sizes searched are close (the rescoring tries those left out). On a large level (a
small template, shrunk little) correlating all of them costs most of a match, so the level twice
as small is correlated instead, where it costs a quarter; its best peaks are the candidates, and
each is then scored exactly on the level itself for every pose, within a pixel or two
(ncc.ncc_near: the page's windows there times the templates). Small levels are correlated
directly (OpenCV's DFT correlation, all cores). The fine pass rescores the coarse peaks, best
first, at full resolution in a small window, for their few best poses (and, for matches near
the cut, the sizes either side), until they fall under the cut the scores show (threshold.py);
the sizes of the matches kept are then refined in fine steps. NMS keeps one match per ornament,
never two overlapping; a mirrored occurrence may become the template of the mirrored poses (a
separately cut mirror sort).
"""

from __future__ import annotations

import itertools
import math
import os
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from functools import lru_cache

import cv2
import numpy as np

from dea_core.errors import MatchCancelled, MatchOptionsError
from dea_core.matching.ncc import WindowSpread, best_ncc, is_flat, local_peaks, ncc_near, self_similarity
from dea_core.matching.nms import compete, suppress
from dea_core.matching.poses import Pose, compose, pose_bank, pose_quad, render_pose
from dea_core.matching.result import Match, MatchResult
from dea_core.matching.search_region import DEFAULT_NEIGHBOURHOOD, Band, search_band
from dea_core.matching.threshold import MIN_GAP, SEARCH_FLOOR, SELF_SCORE, cut_bounds, gap_threshold

Box = tuple[float, float, float, float]
ProgressCallback = Callable[[int, int], None]
CancelCheck = Callable[[], bool]

# The threshold shown for a label not matched yet; a match sets its own (see auto_threshold).
DEFAULT_THRESHOLD = 0.6
# The automatic threshold: a small template correlates by chance with more of the page (a few
# letters can look like a 35-pixel rosette), so it needs a higher score. Set on generated pages
# and the real sample page (benchmarks/RESULTS.md, docs/matching.md).
AUTO_BASE, AUTO_SIZE_TERM, AUTO_RANGE = 0.5, 5.5, (0.55, 0.75)
# With a threshold given, matches are kept down to this score so the GUI's + button shows more
# without matching again (the automatic threshold searches down to threshold.SEARCH_FLOOR).
SCORE_FLOOR = 0.45
# ... and at most this far below the threshold: lower than that is clutter nobody wants shown.
FLOOR_BELOW_THRESHOLD = 0.15
# The template's smaller side at the coarse level, in pixels: small enough to be fast,
# large enough for the ornament's shape to still tell it from type.
COARSE_SIDE = 14
MAX_COARSE_FACTOR = 8
# ... but every template is at least halved while it keeps this many pixels a side (a colon of
# type, 6 px wide, is still two dots at half size: at 3 it was searched at full resolution, a
# fifth of the real set's matching time, and its matches were no better); smaller coarse
# templates are not correlated.
SMALL_COARSE_SIDE = 2
# Coarse scores run lower than full-resolution ones (downscaling blurs fine hatching).
COARSE_SLACK = 0.1
# A level's candidates come from the level twice as small where its templates keep this many
# pixels a side: at 4 (an interlace of 20 x 38 px, 4 px wide there at 0.8) the generated rows of
# touching casts lost occurrences, and the colons of type (2 px wide there) would be noise. That
# level blurs more, so its peaks are kept this much lower, the best MAX_CANDIDATES of them, as
# on the level itself (on the real pages every occurrence is among the best 90, but a page may
# hold hundreds of small pieces).
PREFILTER_SIDE = 5
PREFILTER_SLACK = 0.1
# ... on levels of at least this many pixels: on smaller ones correlating every pose costs less
# than scoring the candidates (and a scroll of 74 px, searched on them, lost an occurrence).
PREFILTER_AREA = 400_000
# At a coarse peak, the best scale of each orientation (turn and flip) scoring within this of
# the best is rescored at full resolution, for at most this many orientations: adjacent scales of
# one orientation would otherwise crowd out the orientation that really is there.
REFINE_SPREAD = 0.12
REFINE_POSES = 4
# Two poses whose renderings correlate this well are one pose for this template (symmetry).
SAME_LOOK = 0.97
# ... and a turn and flip that correlate this much less at one size look alike at no other.
ORIENTATION_LOOK_MARGIN = 0.1
MIN_TEMPLATE_SIDE = 4
# Coarse peaks rescored at most, best first: far more than the occurrences of one ornament on a
# page, so only clutter (text that looks a little like a small fleuron) is left out.
MAX_CANDIDATES = 600
# A mirrored match is a mirror sort only when it beats every unmirrored turn of the template at
# its place by this much; less, and it is a turned occurrence of a nearly symmetric piece.
MIRROR_MARGIN = 0.1
# Mirrored matches down to this far under the cut may show a mirror sort; the best few are tried.
MIRROR_REACH = 0.15
MIRROR_TRIES = 3
# ... and it must lie in a row of matches kept: this many template sizes from the next one.
MIRROR_ROW_REACH = 1.6
# A mirror sort's template must find another occurrence in a row scoring this well (and above the cut).
MIRROR_GROUP = 0.7
# Coarse peaks are rescored this many at a time, best first (see match_image): half of the 64
# once used, which rescored as many again past the last wave with a match, same matches.
WAVE = 32
# ... until this many waves in a row rescore under the cut: with one, a worn occurrence that
# ranks low at the coarse level (0.44 there, 0.50 rescored, on a Tragiques headpiece) was left.
EMPTY_WAVES = 2
# The coarse pass skips a size whose neighbours either side are at most this ratio apart (0.8 to
# 1.25 in 5 steps is searched at 0.8, 1 and 1.25): the blurred coarse level hardly tells 12%
# apart, and the rescoring tries the sizes either side of each peak's at full resolution.
COARSE_SCALE_RATIO = 1.26
# Scales tried when refining a match's size between the searched scales either side of it.
FINE_SCALES = 7
# A size within this share of a match's own is that size.
SAME_SIZE = 0.005
SCALE_TIE = 0.02
# A peak whose best pose rescores this far below the floor is clutter: its other poses are skipped.
GIVE_UP_MARGIN = 0.05
# The sizes either side of a rescored pose are tried only for a match scoring this far above the
# floor: 0.05 under the lowest cut (threshold.CUT_RANGE, or a given threshold), since a match at
# the wrong size scores a little less. Clutter under it was most of the rescoring.
NEIGHBOUR_MARGIN = 0.1
# ... and only for the orientations scoring within this of the peak's best one.
NEIGHBOUR_SPREAD = 0.05


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

    def floor_for(self, template_shape: tuple[int, ...]) -> float:
        """The lowest score searched: low enough, when the threshold is automatic, to see the
        chance matches its cut is set above; else a little under the given threshold."""
        if self.threshold is None:
            return SEARCH_FLOOR
        return round(max(self.floor, self.threshold - FLOOR_BELOW_THRESHOLD), 4)

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
    # Blank paper (it scores 0 everywhere); known once, not at each of its rescorings.
    flat: bool = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.flat = is_flat(self.image)


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
        """Every occurrence of the ornament inside `template_box`, best first.

        With flips searched, the best mirrored occurrences found become a second template for the
        mirrored poses (a mirror sort is cut separately and is no exact mirror of the plain one).
        """
        return self.match_boxes(label, [template_box], options, progress=progress, cancel=cancel)

    def match_boxes(self, label: str, boxes: list[Box], options: MatchOptions = MatchOptions(), *,
                    progress: ProgressCallback | None = None, cancel: CancelCheck | None = None) -> MatchResult:
        """Every occurrence of one label drawn with one or more boxes, best first.

        The first box is the template; each further box (a mirror sort, a re-cut copy) is a
        template for the pose in which it shows the first one, and its matches are reported in
        poses of the first template, as printed.
        """
        pixel_boxes = [_pixel_box(box, self.shape) for box in boxes]
        x0, y0, x1, y1 = pixel_boxes[0]
        first = self.gray[y0:y1, x0:x1]
        band = search_band(self.shape[0], pixel_boxes[0], options.neighbourhood)
        passes = [self.match_image(label, first, options, band=band, progress=_part(progress, 0, len(boxes)),
                                   cancel=cancel)]
        owns = [_own_match(label, pixel_boxes[0], Pose())]
        for box in pixel_boxes[1:]:
            bx0, by0, bx1, by1 = box
            second = self.gray[by0:by1, bx0:bx1]
            relative = relative_pose(first, second, options.poses())
            owns.append(_own_match(label, box, relative, first.shape))
            found = self.match_image(label, second, options, band=search_band(self.shape[0], box, options.neighbourhood),
                                     progress=_part(progress, len(passes), len(boxes)), cancel=cancel)
            passes.append(in_first_pose(found, relative, first.shape))
        result = _combined(label, passes, owns, options, first.shape)
        if len(boxes) == 1 and options.flip:
            result = self._with_mirror_sort(result, first, options, band, cancel)
        return replace(result, template_boxes=tuple(pixel_boxes))

    def _with_mirror_sort(self, result: MatchResult, first: np.ndarray, options: MatchOptions, band: Band,
                          cancel: CancelCheck | None) -> MatchResult:
        """The page searched again with the best mirrored occurrence as the mirrored poses' template.

        A mirror sort scores low against the plain template mirrored (0.35-0.6), often under the
        cut, so mirrored matches a little under it count as evidence too; the second pass is kept
        only when its template finds others like itself (a group, not one chance match).
        """
        lowest = max(result.floor, result.threshold - MIRROR_REACH)
        kept = result.above()
        # A mirror sort is set in a row beside sorts already found, and scores clearly above the
        # chance matches elsewhere (letters, rules): a mirrored match alone is chance.
        in_row = {id(m) for m, near in zip(result.matches, _in_a_row(result.matches, kept, first.shape)) if near}
        chance = max((m.score for m in result.matches if m.score < result.threshold and id(m) not in in_row),
                     default=result.floor)
        lowest = max(lowest, chance + MIN_GAP)
        mirrored = [m for m in result.matches if lowest <= m.score < SELF_SCORE and id(m) in in_row
                    and np.linalg.det(m.pose.linear_map()) < 0]
        best = next((m for m in mirrored[:MIRROR_TRIES] if self._unturned_score(first, m, options.rotations)
                     < m.score - MIRROR_MARGIN), None)
        if best is None:
            return result
        bx0, by0, bx1, by1 = _pixel_box(best.box, self.shape)
        second = self.gray[by0:by1, bx0:bx1]
        if min(second.shape) < MIN_TEMPLATE_SIDE:
            return result
        # Unflipped, the mirror sort's template covers exactly the mirrored poses of the first.
        # Its sizes are the first template's, relative to the size it was cut at.
        scales = tuple(scale / best.pose.scale for scale in options.scales)
        found = self.match_image(result.label, second, replace(options, flip=False, scales=scales),
                                 band=_rows_of(kept, first.shape, band), cancel=cancel)
        # The second template finds itself with 1: its place keeps the first template's score.
        found = replace(found, matches=tuple(m for m in found.matches if m.score < SELF_SCORE))
        moved = in_first_pose(found, best.pose, first.shape)
        group = [m for m in moved.matches if m.score >= max(result.threshold, MIRROR_GROUP)]
        if not any(_in_a_row(group, kept, first.shape)):
            return result
        passes = [replace(result, matches=tuple(m for m in result.matches if m.score < SELF_SCORE)), moved]
        owns = [m for m in result.matches if m.score >= SELF_SCORE]
        return _combined(result.label, passes, owns, options, first.shape)

    def _unturned_score(self, template: np.ndarray, match: Match, rotations: tuple[float, ...]) -> float:
        """The best score at a match's place of the template turned but not mirrored."""
        size = (template.shape[1], template.shape[0])
        paper = _paper_level(template)
        best = -1.0
        for rotation in rotations:
            image, _ = render_pose(template, Pose(rotation, "none", match.pose.scale), border_value=paper)
            found = self._rescore(_PosedTemplate(Pose(rotation), np.float32(image)), match.centre, 3, size, "")
            best = max(best, found.score if found is not None else -1.0)
        return best

    def match_image(self, label: str, template: np.ndarray, options: MatchOptions = MatchOptions(), *,
                    band: Band | None = None, progress: ProgressCallback | None = None,
                    cancel: CancelCheck | None = None) -> MatchResult:
        """Every occurrence of `template` ((h, w) gray, cut from this page or another) in `band`.

        band: the rows whose occurrences count; None for the whole page. The result names no
        template box, since the template need not lie on this page. Without a threshold in
        `options`, the cut is the gap in the template's own scores (threshold.gap_threshold).
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
        fallback = options.threshold_for(template.shape)
        floor = options.floor_for(template.shape)
        size = (template.shape[1], template.shape[0])
        likeness = _Likeness(posed)
        # Each size is searched on the pyramid level that suits it: a template at twice its size
        # can be shrunk twice as much as at its own.
        peaks: list[tuple[float, int, tuple[int, int, np.ndarray]]] = []
        groups = list(_by_coarse_factor(_coarse_subset(posed), template.shape).items())
        for index, (factor, group) in enumerate(groups):
            _attach_coarse(group, factor)
            peaks += [(float(p[2].max()), index, p)
                      for p in self._coarse_peaks(group, band, factor, floor - COARSE_SLACK, steps)]
        peaks.sort(key=lambda item: -item[0])
        peaks = peaks[:MAX_CANDIDATES]
        steps.begin(len(peaks))
        candidates: list[Match] = []
        kept: list[Match] = []
        # candidates[:estimated] are in `kept`, the matches the cut was last estimated from.
        estimated = 0
        threshold = fallback
        lowest_cut, highest_cut = cut_bounds(fallback)
        empty = 0
        # Best coarse peaks first, a wave at a time: once whole waves rescore under the cut their
        # scores show, the rest (worse at the coarse level) are chance matches, left unscored.
        for start in range(0, len(peaks), WAVE):
            wave = peaks[start:start + WAVE]
            found = []
            for index in sorted({item[1] for item in wave}):
                factor, group = groups[index]
                found += self._refine([item[2] for item in wave if item[1] == index], group, neighbours, factor,
                                      size, label, floor, steps)
            # Below the floor a candidate can neither be kept nor suppress a better one.
            found = [m for m in found if m.score >= floor and band.contains(m.centre[1])]
            candidates += found
            best = max((m.score for m in found), default=-1.0)
            # The cut is estimated from the matches kept so far only when it can decide whether
            # this wave found anything (suppressing them all again at every wave costs most on a
            # cluttered page); the waves since the last estimate are then suppressed together.
            if options.threshold is None and lowest_cut <= best < highest_cut:
                kept, estimated = suppress(kept + candidates[estimated:], likeness=likeness), len(candidates)
                threshold = gap_threshold([m.score for m in kept], floor, fallback)
            empty = empty + 1 if best < threshold else 0
            if empty >= EMPTY_WAVES:
                break
        steps.finish()
        kept = suppress(candidates, likeness=likeness)
        if options.threshold is None:
            threshold = gap_threshold([m.score for m in kept], floor, fallback)
        kept = self._refine_scales(kept, template, options, threshold)
        if options.threshold is None:
            threshold = gap_threshold([m.score for m in kept], floor, fallback)
        return MatchResult(label, (), tuple(kept), floor, threshold, cut_from_scores=options.threshold is None)

    def match_all(self, templates: Mapping[str, list[Box]], options: MatchOptions = MatchOptions(), *,
                  progress: ProgressCallback | None = None,
                  cancel: CancelCheck | None = None) -> dict[str, MatchResult]:
        """Every label's matches (see match_boxes), labels competing for the same ink (nms.compete).

        progress counts labels done out of all of them.
        """
        results: dict[str, MatchResult] = {}
        for done, (label, boxes) in enumerate(templates.items(), start=1):
            results[label] = self.match_boxes(label, list(boxes), options, cancel=cancel)
            if progress is not None:
                progress(done, len(templates))
        return compete(results)

    def _refine_scales(self, matches: list[Match], template: np.ndarray, options: MatchOptions,
                       threshold: float) -> list[Match]:
        """Each kept match's scale refined finely between the searched scales either side of it.

        The searched scales are far apart (0.8 to 1.25 in 5 steps is 12% a step), and a match at
        1.0 can score best at the step beside it; the fine steps find the true size.
        """
        scales = sorted(set(options.scales))
        if len(scales) < 2:
            return matches
        paper = _paper_level(template)
        cache: dict[Pose, _PosedTemplate] = {}
        refined: list[Match] = []
        for match in matches:
            if match.score < threshold or match.score >= SELF_SCORE or match.pose.scale not in scales:
                refined.append(match)
                continue
            rank = scales.index(match.pose.scale)
            low = scales[max(0, rank - 1)]
            high = scales[min(len(scales) - 1, rank + 1)]
            tried = self._sizes_tried(match, low, high, template, paper, cache)
            # Scores this close are a tie: the size nearest the template's own is the one reported.
            top = max(m.score for m in tried)
            refined.append(min((m for m in tried if m.score >= top - SCALE_TIE),
                               key=lambda m: (abs(math.log(m.pose.scale)), -m.score)))
        return sorted(refined, key=lambda m: -m.score)

    def _sizes_tried(self, match: Match, low: float, high: float, template: np.ndarray, paper: float,
                     cache: dict[Pose, _PosedTemplate]) -> list[Match]:
        """The match rescored at the fine sizes from half way to `low` to half way to `high`, and
        at 1 when that lies between them; the match itself included.

        Every step is tried: on real casts the score is no smooth hill over the sizes, and a climb
        stopped at 0.807 on lilies printed at 0.894. paper: the template's paper grey; cache: the
        template rendered in each pose tried, shared by a label's matches.
        """
        size = (template.shape[1], template.shape[0])
        first, last = math.sqrt(low * match.pose.scale), math.sqrt(high * match.pose.scale)
        fine = {round(first * (last / first) ** (step / (FINE_SCALES - 1)), 4) for step in range(FINE_SCALES)}
        if low <= 1.0 <= high:
            fine.add(1.0)
        # A step within SAME_SIZE of the match's own size is the match itself (the end step at
        # the ends of the range; between, the middle step, 0.01% from it).
        fine = {scale for scale in fine if abs(scale / match.pose.scale - 1.0) >= SAME_SIZE}
        tried = [match]
        for scale in sorted(fine):
            pose = Pose(match.pose.rotation, match.pose.flip, scale)
            if pose not in cache:
                cache[pose] = _PosedTemplate(pose, render_pose(template, pose, border_value=paper)[0].astype(np.float32))
            if min(cache[pose].image.shape) < MIN_TEMPLATE_SIDE:
                continue
            found = self._rescore(cache[pose], match.centre, 2, size, match.label)
            if found is not None:
                tried.append(found)
        return tried

    def _coarse_peaks(self, posed: list[_PosedTemplate], band: Band, factor: int, floor: float,
                      steps: _Steps) -> list[tuple[int, int, np.ndarray]]:
        """Coarse centres (x, y) with every pose's coarse score there: (x, y, scores (P,)).

        Where the templates shrunk twice as much still show their shape, the level twice as
        small picks the candidates and only they are scored on this level (see _prefiltered).
        """
        region, top = self._band_rows(posed, band, factor)
        templates = [p.coarse for p in posed]
        # The templates shrunk twice as much, only for a level large enough to prefilter.
        halved = [_shrunk(p.image, 2 * factor) for p in posed] if region.size >= PREFILTER_AREA else []
        if min((min(t.shape) for t in halved if t is not None), default=0) >= PREFILTER_SIDE:
            peaks = self._prefiltered(region, top, posed, templates, halved, band, factor, floor, steps)
        else:
            peaks = _map_peaks(region, templates, floor, steps)
        return [(x, y + top, scores) for x, y, scores in peaks]

    def _prefiltered(self, region: np.ndarray, top: int, posed: list[_PosedTemplate],
                     templates: list[np.ndarray | None], halved: list[np.ndarray | None], band: Band,
                     factor: int, floor: float, steps: _Steps) -> list[tuple[int, int, np.ndarray]]:
        """Coarse peaks (region x, y, scores) found on the level twice as small, scored on this one
        (`region`, the band's rows of this level from row `top`).

        The smaller level costs a quarter of the correlations; its best MAX_CANDIDATES peaks hold
        every occurrence found on real pages, and the chance matches that set the cut, but their
        places (a pixel there is two here) and scores are rough: each is scored here, exactly, for
        every pose, within a pixel and a half of it (ncc_near).
        """
        small, small_top = self._band_rows(posed, band, 2 * factor)
        rough = _map_peaks(small, halved, floor - PREFILTER_SLACK, steps)
        if not rough:
            return []
        centres = np.array([(2 * x, 2 * (y + small_top) - top) for x, y, _ in rough])
        scores, moved = ncc_near(region, centres, templates, range(-1, 3))
        best = scores.max(axis=1)
        keep = best >= floor
        scores, moved, best = scores[keep], moved[keep], best[keep]
        # One peak per ornament, as on the full map: each is the best within the radius around it.
        order = np.argsort(best, kind="stable")
        painted = np.full(region.shape, -1.0, np.float32)
        painted[moved[order, 1], moved[order, 0]] = best[order]
        owner = {(int(x), int(y)): int(i) for i, (x, y) in zip(order, moved[order])}
        chosen = [owner[(int(x), int(y))] for x, y in local_peaks(painted, _peak_radius(templates), floor)]
        chosen.sort(key=lambda i: -best[i])
        return [(int(moved[i, 0]), int(moved[i, 1]), scores[i]) for i in chosen[:MAX_CANDIDATES]]

    def _band_rows(self, posed: list[_PosedTemplate], band: Band, factor: int) -> tuple[np.ndarray, int]:
        """The rows of the level shrunk by `factor` where the poses' centres can lie in `band`,
        and the first of them."""
        page = self.level(factor)
        tallest = max(p.image.shape[0] for p in posed)
        top = max(0, int((band.top - tallest / 2) // factor) - 1)
        bottom = min(page.shape[0], math.ceil((band.bottom + tallest / 2) / factor) + 1)
        return page[top:bottom], top

    def _refine(self, peaks: list[tuple[int, int, np.ndarray]], posed: list[_PosedTemplate],
                neighbours: dict[Pose, list[_PosedTemplate]], factor: int, template_size: tuple[int, int],
                label: str, floor: float, steps: _Steps) -> list[Match]:
        """Full-resolution score, position and pose for each coarse peak.

        neighbours: for each pose, the same orientation one scale step smaller and larger.
        """
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
            top = max((m.score for m in found), default=-1.0)
            # The coarse pass tells sizes apart only roughly: try the sizes either side too, of
            # the orientations that are still in the running at full resolution.
            for match in list(found):
                if match.score >= max(floor + NEIGHBOUR_MARGIN, top - NEIGHBOUR_SPREAD):
                    for other in neighbours[match.pose]:
                        extra = self._rescore(other, match.centre, 2, template_size, label)
                        if extra is not None:
                            found.append(extra)
            return found

        # On one thread: each rescoring is small, and Python holds the interpreter between
        # OpenCV's calls, so a second thread only waits for it (measured: slower, not faster).
        found = []
        for peak in peaks:
            found += refine_peak(peak)
            steps.advance()
        return found

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
        score, (bx, by) = best_ncc(self.gray[y0:y1, x0:x1], posed.image, posed.flat)
        quad = _corner_offsets(template_size, posed.pose) + np.array((x0 + bx + w / 2, y0 + by + h / 2))
        return Match(label, score, posed.pose, quad)


def _map_peaks(region: np.ndarray, templates: list[np.ndarray | None], floor: float,
               steps: _Steps) -> list[tuple[int, int, np.ndarray]]:
    """The MAX_CANDIDATES best peaks (x, y, scores (P,)) of the best template's NCC map over `region`.

    Every template is correlated over the whole region, on all cores; a template of None or
    larger than the region scores -1.
    """
    spread = WindowSpread(region)
    fits = [t is not None and t.shape[0] <= region.shape[0] and t.shape[1] <= region.shape[1] for t in templates]
    maps: list[tuple[np.ndarray, int, int] | None] = [None] * len(templates)
    steps.begin(len(templates))

    def correlate(index: int) -> None:
        steps.check()
        small = templates[index]
        if small is not None and fits[index]:
            # Kept with the offset from a map position (top-left) to the template centre.
            maps[index] = (spread.ncc_map(small), small.shape[1] // 2, small.shape[0] // 2)

    with ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
        # Each size's normalisation first, once, for all the templates of that size.
        list(pool.map(spread.prepare, dict.fromkeys(t.shape for t, fit in zip(templates, fits) if fit)))
        for _ in pool.map(correlate, range(len(templates))):
            steps.advance()
    if all(entry is None for entry in maps):
        return []
    best = np.full(region.shape, -1.0, np.float32)
    for entry in maps:
        if entry is not None:
            scores, ox, oy = entry
            view = best[oy:oy + scores.shape[0], ox:ox + scores.shape[1]]
            np.maximum(view, scores, out=view)
    peaks = local_peaks(best, _peak_radius(templates), floor)
    if len(peaks) > MAX_CANDIDATES:
        peaks = peaks[np.argsort(-best[peaks[:, 1], peaks[:, 0]])[:MAX_CANDIDATES]]
    near = _pose_scores_near(maps, peaks)
    return [(int(x), int(y), near[i]) for i, (x, y) in enumerate(peaks)]


def _peak_radius(templates: list[np.ndarray | None]) -> tuple[int, int]:
    """How far apart peaks of these templates are: occurrences overlap little, so their centres
    are at least half the smallest template apart."""
    radius = max(1, int(min(min(t.shape) for t in templates if t is not None) * 0.5))
    return radius, radius


def _pose_scores_near(maps: list[tuple[np.ndarray, int, int] | None], peaks: np.ndarray) -> np.ndarray:
    """(N, P): each pose's best coarse score within a pixel of each peak centre; -1 where none."""
    scores = np.full((len(peaks), len(maps)), -1.0, np.float32)
    steps = np.array([-1, 0, 1])
    for index, entry in enumerate(maps):
        if entry is None:
            continue
        values, ox, oy = entry
        h, w = values.shape
        # The 3 x 3 pixels around every peak in one gather, those off the map scoring -1.
        ys = (peaks[:, 1] - oy)[:, None] + steps
        xs = (peaks[:, 0] - ox)[:, None] + steps
        found = values[np.clip(ys, 0, h - 1)[:, :, None], np.clip(xs, 0, w - 1)[:, None, :]]
        found[((ys < 0) | (ys >= h))[:, :, None] | ((xs < 0) | (xs >= w))[:, None, :]] = -1.0
        scores[:, index] = np.maximum(scores[:, index], found.max(axis=(1, 2)))
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


def _coarse_subset(posed: list[_PosedTemplate]) -> list[_PosedTemplate]:
    """The poses the coarse pass correlates: every orientation, at fewer sizes where the sizes
    searched are close (COARSE_SCALE_RATIO); the rescoring tries the sizes left out."""
    scales = sorted({p.pose.scale for p in posed})
    kept = [scales[0]]
    for rank, scale in enumerate(scales[1:], start=1):
        if rank == len(scales) - 1 or scales[rank + 1] / kept[-1] > COARSE_SCALE_RATIO:
            kept.append(scale)
    return [p for p in posed if p.pose.scale in kept]


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

    def finish(self) -> None:
        """All steps done, including those skipped (peaks left unscored)."""
        self._done = self._total
        if self._progress is not None:
            self._progress(self._done, self._total)

    def check(self) -> None:
        if self._cancel is not None and self._cancel():
            raise MatchCancelled("matching cancelled")


def _part(progress: ProgressCallback | None, part: int, parts: int) -> ProgressCallback | None:
    """Progress of one of `parts` equal parts of a job, as progress of the whole job."""
    if progress is None:
        return None
    return lambda done, total: progress(part * total + done, parts * total)


def _own_match(label: str, box: tuple[int, int, int, int], pose: Pose,
               first_shape: tuple[int, ...] | None = None) -> Match:
    """The occurrence a template box is by definition: score 1, in the pose it shows the first template."""
    x0, y0, x1, y1 = box
    if first_shape is None:
        return Match(label, 1.0, pose, np.array([[x0, y0], [x1, y0], [x1, y1], [x0, y1]], dtype=float))
    return Match(label, 1.0, pose, pose_quad(first_shape[1], first_shape[0], pose, ((x0 + x1) / 2, (y0 + y1) / 2)))


def _rows_of(matches: Sequence[Match], shape: tuple[int, ...], band: Band) -> Band:
    """The part of `band` in line with `matches` down the page (see _in_a_row): where a mirror
    sort set beside them can lie. shape: the template's (h, w)."""
    if not matches:
        return band
    reach = MIRROR_ROW_REACH * float(max(shape[:2]))
    centres = [m.centre[1] for m in matches]
    return Band(max(band.top, min(centres) - reach), min(band.bottom, max(centres) + reach))


def _in_a_row(matches: Sequence[Match], others: Sequence[Match], shape: tuple[int, ...]) -> list[bool]:
    """For each of `matches`: True when it lies in line with one of `others` (itself aside), across
    or down the page, within MIRROR_ROW_REACH template sizes of it (shape: the template's (h, w)).

    All pairs at once: a page's matches down to the floor are many, and this runs on every pair.
    """
    if not matches or not others:
        return [False] * len(matches)
    side = float(max(shape[:2]))
    own = np.array([m.centre for m in matches])
    near = np.abs(own[:, None, :] - np.array([o.centre for o in others])[None, :, :])
    in_line = (near.min(axis=2) < 0.25 * side) & (near.max(axis=2) < MIRROR_ROW_REACH * side)
    place = {id(o): j for j, o in enumerate(others)}
    for i, match in enumerate(matches):
        if id(match) in place:
            in_line[i, place[id(match)]] = False
    return in_line.any(axis=1).tolist()


def relative_pose(first: np.ndarray, second: np.ndarray, poses: list[Pose]) -> Pose:
    """The pose in which `second` ((h, w), a further template box) shows `first`: the searched
    turn and flip whose rendering of `first`, brought to the size of `second`, correlates best."""
    best, best_score = Pose(), -2.0
    for rotation, flip in dict.fromkeys((p.rotation, p.flip) for p in poses):
        image, _ = render_pose(first, Pose(rotation, flip), border_value=_paper_level(first))
        resized = cv2.resize(np.float32(image), (second.shape[1], second.shape[0]), interpolation=cv2.INTER_AREA)
        score = self_similarity(resized, second)
        if score > best_score:
            best, best_score = Pose(rotation, flip), score
    quad = pose_quad(first.shape[1], first.shape[0], best, (0.0, 0.0))
    scale = math.sqrt(second.shape[0] * second.shape[1] / max(1.0, float(np.ptp(quad[:, 0]) * np.ptp(quad[:, 1]))))
    return Pose(best.rotation, best.flip, round(scale, 4))


def in_first_pose(result: MatchResult, relative: Pose, first_shape: tuple[int, ...]) -> MatchResult:
    """Matches of a template that shows the first one in `relative`, put in the first one's poses."""
    moved = []
    for match in result.matches:
        pose = compose(match.pose, relative)
        moved.append(replace(match, pose=pose, quad=pose_quad(first_shape[1], first_shape[0], pose, match.centre)))
    return replace(result, matches=tuple(moved))


def _combined(label: str, passes: list[MatchResult], owns: list[Match], options: MatchOptions,
              first_shape: tuple[int, ...]) -> MatchResult:
    """One result from several templates' passes and the template boxes' own occurrences."""
    matches = suppress([*owns, *(m for r in passes for m in r.matches)])
    floor = min(r.floor for r in passes)
    threshold = options.threshold if options.threshold is not None else gap_threshold(
        [m.score for m in matches], floor, options.threshold_for(first_shape))
    return MatchResult(label, (), tuple(matches), floor, threshold, cut_from_scores=options.threshold is None)


def merge_results(results: list[MatchResult]) -> MatchResult:
    """One result for several template boxes of one label: their matches, one per ornament."""
    if len(results) == 1:
        return results[0]
    boxes = tuple(box for r in results for box in r.template_boxes)
    matches = suppress([m for r in results for m in r.matches])
    return MatchResult(results[0].label, boxes, tuple(matches), min(r.floor for r in results),
                       min(r.threshold for r in results), all(r.cut_from_scores for r in results))


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
    # A small piece correlated at full resolution costs as much as a large one (the page is the
    # same size): it is halved while it keeps SMALL_COARSE_SIDE pixels.
    least = 2 if side >= 2 * SMALL_COARSE_SIDE else 1
    return int(max(least, min(MAX_COARSE_FACTOR, side // COARSE_SIDE)))


@lru_cache(maxsize=4096)
def _corner_offsets(template_size: tuple[int, int], pose: Pose) -> np.ndarray:
    """The corners of a (w, h) template in `pose` about its centre: a match's quad less its centre
    (as pose_quad gives it; computed once a pose, not at each rescoring)."""
    corners = pose_quad(template_size[0], template_size[1], pose, (0.0, 0.0))
    corners.flags.writeable = False
    return corners


def _paper_level(template: np.ndarray) -> float:
    """The template's background grey: the median of its border, usually paper."""
    border = np.concatenate([template[0], template[-1], template[:, 0], template[:, -1]])
    return float(np.median(border))


def _distinct_poses(template: np.ndarray, poses: list[Pose], steps: _Steps) -> list[_PosedTemplate]:
    """The template rendered in each pose, dropping poses that look like a simpler one.

    A left-right symmetric fleuron looks the same mirrored: searching both would only report
    the mirrored pose by a noise margin, so the plain pose stands for both. Only renderings of
    one size can look alike, so each is compared with the kept ones of its scale, and only with
    those whose turn and flip look nearly alike at the size nearest the template's own: how unalike
    two poses are hardly changes with size, though whether they pass SAME_LOOK can (a colon's
    does), so that is still decided at each size. Comparing every pair at every size cost 8% of
    matching on the real pages.
    """
    if not poses:
        return []
    paper = _paper_level(template)
    rendered: list[tuple[Pose, np.ndarray]] = []
    for pose in poses:
        steps.check()
        rendered.append((pose, render_pose(template, pose, border_value=paper)[0]))
    nearest = min({pose.scale for pose in poses}, key=lambda scale: abs(math.log(scale)))
    alike = _alike_orientations({_orientation(pose): image for pose, image in rendered if pose.scale == nearest})
    kept: list[_PosedTemplate] = []
    by_scale: dict[float, list[tuple[tuple[float, str], np.ndarray]]] = {}
    for pose, image in rendered:
        orientation = _orientation(pose)
        same_scale = by_scale.setdefault(pose.scale, [])
        if any((orientation, other) in alike and self_similarity(image, rendering) >= SAME_LOOK
               for other, rendering in same_scale):
            continue
        same_scale.append((orientation, image))
        kept.append(_PosedTemplate(pose, image.astype(np.float32)))
    return kept


def _orientation(pose: Pose) -> tuple[float, str]:
    """A pose's turn and flip, its size left out."""
    return pose.rotation, pose.flip


def _alike_orientations(images: dict[tuple[float, str], np.ndarray]) -> set[tuple[tuple[float, str], tuple[float, str]]]:
    """The pairs of turns and flips (both orders) whose renderings at one size correlate within
    ORIENTATION_LOOK_MARGIN of looking the same: the only pairs that can look the same at others."""
    pairs = set()
    for (a, image_a), (b, image_b) in itertools.combinations(images.items(), 2):
        if self_similarity(image_a, image_b) >= SAME_LOOK - ORIENTATION_LOOK_MARGIN:
            pairs |= {(a, b), (b, a)}
    return pairs


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
        item.coarse = _shrunk(item.image, factor)


def _shrunk(image: np.ndarray, factor: int) -> np.ndarray | None:
    """The template shrunk by `factor` (area averaging); None when too small to correlate."""
    h, w = image.shape
    size = (round(w / factor), round(h / factor))
    if min(size) < SMALL_COARSE_SIDE:
        return None
    if factor == 1:
        return image
    return cv2.resize(image, size, interpolation=cv2.INTER_AREA)
