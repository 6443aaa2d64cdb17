"""Non-maximum suppression across poses and labels: one match per ornament, one ornament per place."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace

import cv2
import numpy as np

from dea_core.matching.poses import Pose
from dea_core.matching.result import Match, MatchResult
from dea_core.matching.threshold import SELF_SCORE, gap_threshold

# Two matches overlapping more than this (intersection over union of their quadrilaterals)
# are the same ornament; neighbours in a headpiece row touch but barely overlap.
NMS_IOU = 0.3
# Ornaments never overlap: a candidate sharing more than this of the smaller of two boxes with a
# better match is a half piece, or a straddle of two neighbours, not another ornament. Touching
# neighbours in a row share a few pixels of their hand-drawn boxes, far less.
OVERLAP_SHARE = 0.25
# A match with this share of its box inside a match of another label at least this many times
# as large is a part of that ornament (see compete): the dots of a colon in a lily.
PART_SHARE = 0.5
PART_AREA = 2.0
# Two matches of about one size whose boxes overlap this much (IoU) are on the same piece.
SAME_PIECE_IOU = 0.7
# Scores this close count as a tie: the simpler pose is reported (symmetric ornaments).
POSE_TIE = 0.02
# How much better a less simple pose must score, as a share of the gap it would show if the
# occurrence really were in that pose (score times how unlike the template is in the two poses).
TIE_SHARE = 0.25
# Matches whose overlaps with the others are computed together (memory: this times N).
SUPPRESS_BLOCK = 256

# How alike the template looks in two poses (NCC), or None when that was not measured.
PoseLikeness = Callable[[Pose, Pose], float | None]


def _areas_and_intersection(a: np.ndarray, b: np.ndarray) -> tuple[float, float, float] | None:
    """The areas of two convex quadrilaterals (4, 2) and of their intersection; None when one is flat."""
    area_a = abs(cv2.contourArea(a.astype(np.float32)))
    area_b = abs(cv2.contourArea(b.astype(np.float32)))
    if area_a <= 0 or area_b <= 0:
        return None
    inter, _ = cv2.intersectConvexConvex(_counter_clockwise(a), _counter_clockwise(b))
    return area_a, area_b, inter


def quad_iou(a: np.ndarray, b: np.ndarray) -> float:
    """Intersection over union of two convex quadrilaterals (4, 2)."""
    areas = _areas_and_intersection(a, b)
    if areas is None:
        return 0.0
    area_a, area_b, inter = areas
    union = area_a + area_b - inter
    return float(inter / union) if union > 0 else 0.0


def box_iou(a: Sequence[float], b: Sequence[float]) -> float:
    """Intersection over union of two upright boxes (x0, y0, x1, y1)."""
    iw = min(a[2], b[2]) - max(a[0], b[0])
    ih = min(a[3], b[3]) - max(a[1], b[1])
    if iw <= 0 or ih <= 0:
        return 0.0
    inter = iw * ih
    return inter / ((a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter)


def overlap_share(a: np.ndarray, b: np.ndarray) -> float:
    """The intersection of two convex quadrilaterals (4, 2) as a share of the smaller one's area."""
    areas = _areas_and_intersection(a, b)
    if areas is None:
        return 0.0
    area_a, area_b, inter = areas
    return float(inter / min(area_a, area_b))


def _same_place(a: Match, b: Match, iou: float) -> bool:
    return quad_iou(a.quad, b.quad) > iou or overlap_share(a.quad, b.quad) > OVERLAP_SHARE


def _counter_clockwise(quad: np.ndarray) -> np.ndarray:
    """Vertices in one winding: a mirrored quad winds the other way, which intersection rejects."""
    points = quad.astype(np.float32)
    if cv2.contourArea(points, oriented=True) < 0:
        points = points[::-1].copy()
    return points


def suppress(candidates: list[Match], iou: float = NMS_IOU, tie: float = POSE_TIE,
             likeness: PoseLikeness | None = None) -> list[Match]:
    """Greedy NMS by score; within a tie the simplest pose stands for the ornament.

    A candidate overlapping a better one by more than `iou`, or covering more than OVERLAP_SHARE
    of it (or being covered so), is absorbed by it.

    likeness(a, b): how alike (NCC, -1 to 1) the template looks in poses a and b. A nearly
    symmetric fleuron scores about the same mirrored or not, so a small lead of the mirrored
    pose is noise, not evidence; an asymmetric one would lose most of its score if mirrored.
    Without it, only scores within `tie` count as a tie.
    Returns the kept matches, best first.
    """
    ordered = sorted(candidates, key=lambda m: -m.score)
    boxes = np.array([m.box for m in ordered]).reshape(-1, 4)
    upright = [m.is_upright for m in ordered]
    is_kept = [False] * len(ordered)
    slot_of: dict[int, int] = {}
    absorbed: list[list[Match]] = []
    # Every overlapping pair at once, listed per candidate with the better ones in order: numpy
    # calls per candidate would cost more than the rest of matching on a cluttered page.
    worse, better, alike = _overlapping_pairs(boxes, iou)
    bounds = np.searchsorted(worse, np.arange(len(ordered) + 1)).tolist()
    better, alike = better.tolist(), alike.tolist()
    for index, candidate in enumerate(ordered):
        for at in range(bounds[index], bounds[index + 1]):
            other = better[at]
            if not is_kept[other]:
                continue
            # Upright boxes are their own quadrilaterals: box arithmetic decides; turned ones need the quads.
            if alike[at] if upright[index] and upright[other] else _same_place(candidate, ordered[other], iou):
                absorbed[slot_of[other]].append(candidate)
                break
        else:
            is_kept[index] = True
            slot_of[index] = len(absorbed)
            absorbed.append([candidate])
    chosen = [_simplest_of_tie(group, tie, likeness) for group in absorbed]
    return sorted(chosen, key=lambda m: -m.score)


def _overlapping(box: np.ndarray, others: np.ndarray) -> np.ndarray:
    """Indices of the upright boxes (N, 4) in `others` that overlap `box` at all."""
    hit = ((others[:, 0] < box[2]) & (box[0] < others[:, 2]) & (others[:, 1] < box[3]) & (box[1] < others[:, 3]))
    return np.flatnonzero(hit)


def _overlapping_pairs(boxes: np.ndarray, iou: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every pair of upright boxes (N, 4) that overlap at all, as the later index, the earlier one
    (sorted by both, in that order) and whether they overlap by more than `iou` or share more than
    OVERLAP_SHARE of the smaller box (_same_place's rule).

    Pairs are found by a sweep along x, so a page of thousands of small boxes costs about as many
    pairs as boxes, not their square.
    """
    order = np.argsort(boxes[:, 0], kind="stable")
    lefts = boxes[order, 0]
    # Along x, box k overlaps the boxes after it in `order` that start before it ends.
    first = np.arange(1, len(order) + 1)
    counts = np.maximum(0, np.searchsorted(lefts, boxes[order, 2], side="left") - first)
    starts = np.repeat(first - np.cumsum(counts) + counts, counts)
    a = order[np.repeat(np.arange(len(order)), counts)]
    b = order[np.arange(int(counts.sum())) + starts]
    inter, touching = _intersections(boxes[a], boxes[b])
    a, b, inter = a[touching], b[touching], inter[touching]
    area_a, area_b = _areas(boxes[a]), _areas(boxes[b])
    same = (inter > iou * (area_a + area_b - inter)) | (inter > OVERLAP_SHARE * np.minimum(area_a, area_b))
    worse, better = np.maximum(a, b), np.minimum(a, b)
    listed = np.lexsort((better, worse))
    return worse[listed], better[listed], same[listed]


def _intersections(boxes: np.ndarray, others: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Areas of intersection of upright boxes (..., 4) with others (..., 4), broadcast against
    each other ((B, 1, 4) with (1, N, 4) for every pair, (N, 4) with (N, 4) pair by pair), and
    where they overlap at all."""
    iw = np.minimum(boxes[..., 2], others[..., 2]) - np.maximum(boxes[..., 0], others[..., 0])
    ih = np.minimum(boxes[..., 3], others[..., 3]) - np.maximum(boxes[..., 1], others[..., 1])
    touching = (iw > 0) & (ih > 0)
    return iw * ih * touching, touching


def _areas(boxes: np.ndarray) -> np.ndarray:
    return (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])


def _simplest_of_tie(group: list[Match], tie: float, likeness: PoseLikeness) -> Match:
    best = group[0]
    if len(group) == 1:
        # Most groups on a page are one chance match: nothing to tie with.
        return best
    # No pose's margin exceeds this (likeness 0 or less): a lower score needs no likeness asked.
    widest = max(tie, TIE_SHARE * best.score) if likeness is not None and tie > 0 else tie

    def ties(m: Match) -> bool:
        if m.score < best.score - widest:
            return False
        margin = tie
        alike = likeness(best.pose, m.pose) if likeness is not None and tie > 0 else None
        if alike is not None:
            margin = max(tie, TIE_SHARE * best.score * (1.0 - max(0.0, alike)))
        return m.score >= best.score - margin and _iou(m, best) > 0.7

    return min(filter(ties, group), key=lambda m: (m.pose.simplicity(), -m.score))


def _iou(a: Match, b: Match) -> float:
    """Intersection over union of two matches: box arithmetic when both boxes are the occurrences."""
    return box_iou(a.box, b.box) if a.is_upright and b.is_upright else quad_iou(a.quad, b.quad)


def _outranked(ranked: list[tuple[float, Match]]) -> set[int]:
    """ids of the matches that lose their place before margins are compared, to a match of another
    label at or above its threshold (margin >= 0):
    - a part: PART_SHARE of its box lies inside such matches PART_AREA times as large or more
      (the dots of a colon in a lily);
    - a poorer fit of one piece: a match of about its size (under PART_AREA times either way)
      on nearly the same box (IoU over SAME_PIECE_IOU) scores more. A match straddling two
      neighbours of a row shares half of each box: margins decide those.

    Margins cannot decide these. A user who lowers a colon's threshold raises every colon's
    margin, and its matches on a lily's dots then outrank the lilies. Two pieces sharing half
    their ink (a hybrid of two sorts) have cuts set by different gaps, so the hybrid's 0.80 on a
    sort scoring 0.95 there can stand further above its cut.
    """
    whole = [i for i, (margin, _) in enumerate(ranked) if margin >= 0]
    if not whole:
        return set()
    matches = [m for _, m in ranked]
    boxes = np.array([m.box for m in matches])
    area = _areas(boxes)
    labels = np.array([m.label for m in matches], dtype=object)
    scores = np.array([m.score for m in matches])
    lost: set[int] = set()
    for start in range(0, len(matches), SUPPRESS_BLOCK):
        rows = slice(start, start + SUPPRESS_BLOCK)
        inter, _ = _intersections(boxes[rows, None], boxes[None, whole])
        own, other = area[rows, None], area[None, whole]
        rival = labels[rows, None] != labels[None, whole]
        # Larger ornaments of other labels do not overlap one another, so their shares add up (a
        # turned colon can straddle two lilies of a row).
        part = (inter * (rival & (other >= PART_AREA * own))).sum(axis=1) >= PART_SHARE * area[rows]
        alike = rival & (other < PART_AREA * own) & (own < PART_AREA * other)
        same_piece = inter > SAME_PIECE_IOU * (own + other - inter)
        poorer = (alike & same_piece & (scores[None, whole] > scores[rows, None])).any(axis=1)
        # A template box is its label's by the user's hand: it never loses.
        lost.update(id(matches[start + i]) for i in np.flatnonzero((part | poorer) & (scores[rows] < SELF_SCORE)))
    return lost


def compete(results: Mapping[str, MatchResult],
            rivals: Mapping[str, MatchResult] | None = None) -> dict[str, MatchResult]:
    """Labels compete for ink: a match covering a place claimed by another label is dropped.

    A match lying inside a larger one of another label at or above its threshold is a part of
    that ornament (the two dots of a colon in a lily) and loses to it, whatever its score; of two
    pieces of about one size at one place, the better fit wins (see _outranked). The other claims
    are made in order of how far each match stands above its own label's threshold (a tiny
    template's 0.9 on a speck of a large ornament means less than the ornament's 0.8), and only
    matches at or above their threshold claim. rivals: other labels' results, which claim
    places but are not returned (the window keeps them as they are). Returns `results` with the
    losing matches removed, each label's order kept, and cuts from the labels' own scores set
    again on what is left where that is lower (_recut). A template box (score 1) is never lost.
    """
    pool = [*results.values(), *(rivals or {}).values()]
    ranked = sorted(((m.score - r.threshold, m) for r in pool for m in r.matches),
                    key=lambda item: -item[0])
    claims: list[Match] = []
    claim_boxes = np.zeros((0, 4))
    lost = _outranked(ranked)
    for margin, match in ranked:
        if id(match) in lost:
            continue
        others = [claims[i] for i in _overlapping(np.array(match.box), claim_boxes)]
        if match.score < SELF_SCORE and any(c.label != match.label and _same_place(match, c, NMS_IOU) for c in others):
            lost.add(id(match))
            continue
        if margin >= 0:
            claims.append(match)
            claim_boxes = np.vstack([claim_boxes, match.box])
    return {label: _recut(replace(r, matches=tuple(m for m in r.matches if id(m) not in lost)))
            for label, r in results.items()}


def _recut(result: MatchResult) -> MatchResult:
    """A cut from the label's own scores set again on the matches other labels left it, where
    that is lower: its matches on their pieces are no chance matches, and they can fill the gap
    between its own occurrences and the page's letters and rules (the matches of a piece sharing
    half its ink with another label's). A user's threshold stays."""
    if not result.cut_from_scores:
        return result
    cut = gap_threshold([m.score for m in result.matches], result.floor, result.threshold)
    return replace(result, threshold=min(result.threshold, cut))
