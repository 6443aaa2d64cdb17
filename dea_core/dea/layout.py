"""The genuine layouts a DEA was trained on, and a page's detected vignettes held against them.

A layout is the sequence of (sort, pose) slots of one genuine ornament, row by row, left to right,
with the slots' boxes as printed. A page's detections, in the same order, are aligned with each
layout (edit distance over the sorts: a slot may be matched, unmatched or hold another sort) and the
closest layout is kept. What does not match is a finding for the scorer: a slot with no vignette
(missing, or missed by the detector: the scorer looks again there), a slot holding another sort
(foreign), a vignette no slot explains.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

import numpy as np

ROW_SHARE: Final = 0.5  # centres closer than this share of the median height are one row
POSITION_WEIGHT: Final = 1.0  # alignment cost of a match one slot width (or more) from the slot's place


@dataclass(frozen=True)
class Slot:
    label: str
    pose: str
    box: tuple[float, float, float, float]


@dataclass(frozen=True)
class Layout:
    slots: tuple[Slot, ...]

    def key(self) -> tuple[tuple[str, str], ...]:
        return tuple((s.label, s.pose) for s in self.slots)

    def to_dict(self) -> list[dict]:
        return [{"label": s.label, "pose": s.pose, "box": [round(v, 2) for v in s.box]} for s in self.slots]

    @classmethod
    def from_dict(cls, raw: list[dict]) -> Layout:
        return cls(tuple(Slot(str(s["label"]), str(s["pose"]), tuple(float(v) for v in s["box"])) for s in raw))


@dataclass(frozen=True)
class Match:
    """One step of an alignment: a detection index and a slot index, either may be None; `same` sort or not."""

    detection: int | None
    slot: int | None
    same: bool


def reading_order(boxes: Sequence[Sequence[float]]) -> list[int]:
    """Indices of boxes (x0, y0, x1, y1) row by row (rows by centre height), left to right."""
    if not boxes:
        return []
    array = np.asarray(boxes, np.float64)
    centres = (array[:, 1] + array[:, 3]) / 2
    tolerance = ROW_SHARE * float(np.median(array[:, 3] - array[:, 1]))
    order, rows = np.argsort(centres), []
    for index in order:
        if rows and centres[index] - centres[rows[-1][0]] <= tolerance:
            rows[-1].append(int(index))
        else:
            rows.append([int(index)])
    return [i for row in rows for i in sorted(row, key=lambda k: array[k, 0])]


def learn_layouts(pages: Sequence[tuple[Sequence[str], Sequence[str], Sequence[Sequence[float]]]]) -> list[Layout]:
    """The distinct layouts of genuine pages given as (labels, poses, boxes); the first page of each stands for it."""
    layouts: dict[tuple, Layout] = {}
    for labels, poses, boxes in pages:
        order = reading_order(boxes)
        layout = Layout(tuple(Slot(labels[i], poses[i], tuple(float(v) for v in boxes[i])) for i in order))
        layouts.setdefault(layout.key(), layout)
    return list(layouts.values())


def align(labels: Sequence[str], layout: Layout, centres: np.ndarray | None = None,
          shift: tuple[float, float] = (0.0, 0.0)) -> tuple[float, list[Match]]:
    """Edit-distance alignment of detected labels (in reading order) with a layout's slots: (cost, matches).

    With the detections' box centres (N, 2), matching a detection with a slot also costs how far it lies from
    where the slot is (the slot's centre moved by `shift`), in median slot widths, at most 1: of a row
    of like vignettes with one gone, the one missing is then the one whose place is empty."""
    n, m = len(labels), len(layout.slots)
    slot_centres = _centres([s.box for s in layout.slots]) + np.asarray(shift)
    width = max(float(np.median([s.box[2] - s.box[0] for s in layout.slots])), 1.0) if m else 1.0

    def step(i: int, j: int) -> float:
        change = float(labels[i] != layout.slots[j].label)
        if centres is None:
            return change
        return change + POSITION_WEIGHT * min(float(np.hypot(*(centres[i] - slot_centres[j]))) / width, 1.0)

    cost = np.zeros((n + 1, m + 1), np.float64)
    cost[:, 0], cost[0, :] = np.arange(n + 1), np.arange(m + 1)
    for i in range(1, n + 1):
        for j in range(1, m + 1):
            cost[i, j] = min(cost[i - 1, j - 1] + step(i - 1, j - 1), cost[i - 1, j] + 1, cost[i, j - 1] + 1)
    matches, i, j = [], n, m
    while i > 0 or j > 0:
        if i > 0 and j > 0 and np.isclose(cost[i, j], cost[i - 1, j - 1] + step(i - 1, j - 1)):
            matches.append(Match(i - 1, j - 1, labels[i - 1] == layout.slots[j - 1].label))
            i, j = i - 1, j - 1
        elif i > 0 and np.isclose(cost[i, j], cost[i - 1, j] + 1):
            matches.append(Match(i - 1, None, False))
            i -= 1
        else:
            matches.append(Match(None, j - 1, False))
            j -= 1
    return float(cost[n, m]), matches[::-1]


def best_layout(labels: Sequence[str], layouts: Sequence[Layout],
                boxes: Sequence[Sequence[float]] | None = None) -> tuple[Layout | None, list[Match]]:
    """The layout closest to the detected labels (reading order) and the alignment with it; (None, []) when
    no layout has at least half its slots matched by a vignette of their sort (then there is no evidence of
    which ornament this is). With the detections' boxes, the alignment is done again with their places
    (`align`), the layout's slots moved by the median offset of the sorts first matched."""
    best: tuple[float, Layout | None, list[Match]] = (float("inf"), None, [])
    for layout in layouts:
        cost, matches = align(labels, layout)
        if cost < best[0]:
            best = (cost, layout, matches)
    layout, matches = best[1], best[2]
    if layout is None or 2 * sum(m.same for m in matches) < len(layout.slots):
        return None, []
    if boxes is not None and len(boxes):
        centres, slot_centres = _centres(boxes), _centres([s.box for s in layout.slots])
        offsets = [centres[m.detection] - slot_centres[m.slot] for m in matches if m.same]
        shift = tuple(float(v) for v in np.median(offsets, axis=0))
        _, matches = align(labels, layout, centres, shift)
    return layout, matches


def _centres(boxes: Sequence[Sequence[float]]) -> np.ndarray:
    """(N, 2) centres (x, y) of boxes (x0, y0, x1, y1)."""
    array = np.asarray(boxes, np.float64).reshape(-1, 4)
    return (array[:, :2] + array[:, 2:]) / 2


def expected_box(layout: Layout, slot: int, matches: Sequence[Match],
                 boxes: Sequence[Sequence[float]]) -> tuple[float, float, float, float]:
    """Where slot `slot` should be on the page: its layout box moved by the offset of the nearest matched slot."""
    anchors = [(abs(m.slot - slot), m) for m in matches if m.same and m.slot is not None and m.detection is not None]
    sx0, sy0, sx1, sy1 = layout.slots[slot].box
    if not anchors:
        return (sx0, sy0, sx1, sy1)
    anchor = min(anchors, key=lambda a: a[0])[1]
    ax0, ay0, ax1, ay1 = layout.slots[anchor.slot].box
    dx0, dy0, dx1, dy1 = boxes[anchor.detection]
    dx, dy = (dx0 + dx1 - ax0 - ax1) / 2, (dy0 + dy1 - ay0 - ay1) / 2
    return (sx0 + dx, sy0 + dy, sx1 + dx, sy1 + dy)
