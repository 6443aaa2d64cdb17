"""A page under review: template boxes, matches, and what the person decided about each match.

The AutoLabelme window keeps one `PageReview` per open page. Every class here is frozen: an edit
makes a new review, so undo is "put the previous one back" and nothing is ever half changed.
Reading and writing LabelMe files goes through `review_from_label_file` / `review_to_label_file`,
in the format `dea match` writes (each match a shape with a `match` record), so either tool opens
the other's results.

Which shapes are what, when a file is opened:
- a shape with a `match` record is a match; `"template": true` marks the match that is the
  person's own template box, `"manual": true` a box the person added by hand, `"edited": true`
  a box the person moved or resized by hand (its score and pose are the matcher's, for the box
  before the edit);
- a plain rectangle (no record) is a template box, except in a label that already has a template
  record: there it is an occurrence the person added in LabelMe;
- a rectangle with only a `dea` record (a vignette `dea score` checked, or ink it found no vignette
  for) is an occurrence the DEA found, scored by its detector's confidence, not a template box;
- every other shape (polygons, points, ...) is kept as it was and written back unchanged.
"""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass, field, replace

import numpy as np

from dea_core.dea.record import DEA_KEY, record_number
from dea_core.errors import MatchOptionsError
from dea_core.io.label_notes import apply_label_notes
from dea_core.io.labelme_json import LabelFile, Shape
from dea_core.matching.labelme_shapes import MATCH_KEY, match_to_shape, shape_to_match
from dea_core.matching.matcher import DEFAULT_THRESHOLD, SCORE_FLOOR
from dea_core.matching.nms import quad_iou
from dea_core.matching.poses import Pose, pose_quad
from dea_core.matching.result import Match, MatchResult

Box = tuple[float, float, float, float]
# A match's key: (FOUND, i) is result.matches[i]; (ADDED, i) is added[i].
MatchKey = tuple[str, int]
FOUND = "found"
ADDED = "added"
# One press of the window's + or - button.
THRESHOLD_STEP = 0.05
MAX_THRESHOLD = 0.99
# A hand-added box has no correlation score; the person's word counts as a perfect one.
ADDED_SCORE = 1.0
# A kept match overlapping a template box this much is the template's own occurrence.
TEMPLATE_IOU = 0.5


@dataclass(frozen=True)
class ReviewedMatch:
    """One box shown for a label: the match (in its reported pose) and whether it is kept."""

    key: MatchKey
    match: Match
    accepted: bool
    edited: bool = False

    @property
    def added(self) -> bool:
        return self.key[0] == ADDED


@dataclass(frozen=True)
class LabelReview:
    """One label (ornament type): its template boxes, its matches and the decisions on them.

    rejected: keys of shown matches the person turned down; plain: "Correct Label" was pressed,
    so every box of this label is reported upright and unflipped; edited: the boxes the person moved
    or resized (key, the match with its new corners); removed: found matches deleted by hand (gone,
    not merely rejected).
    """

    label: str
    note: str | None = None
    templates: tuple[Box, ...] = ()
    result: MatchResult | None = None
    threshold: float = DEFAULT_THRESHOLD
    rejected: frozenset[MatchKey] = frozenset()
    added: tuple[Match, ...] = ()
    plain: bool = False
    edited: tuple[tuple[MatchKey, Match], ...] = ()
    removed: frozenset[MatchKey] = frozenset()

    @property
    def matched(self) -> bool:
        return self.result is not None

    def floor(self) -> float:
        """The lowest threshold the + button can reach without matching again."""
        return self.result.floor if self.result is not None else SCORE_FLOOR

    def shown(self) -> list[ReviewedMatch]:
        """Matches at or above the threshold (best first), then added boxes."""
        items: list[ReviewedMatch] = []
        if self.result is not None:
            for index, match in enumerate(self.result.matches):
                if match.score >= self.threshold and (FOUND, index) not in self.removed:
                    items.append(self._reviewed((FOUND, index), match))
        for index, match in enumerate(self.added):
            items.append(self._reviewed((ADDED, index), match))
        return items

    def accepted(self) -> list[Match]:
        """The boxes to save: shown and not rejected."""
        return [item.match for item in self.shown() if item.accepted]

    def count(self) -> int:
        return len(self.accepted())

    def find(self, key: MatchKey) -> ReviewedMatch | None:
        return next((item for item in self.shown() if item.key == key), None)

    def with_threshold(self, threshold: float) -> LabelReview:
        """The threshold moved, kept between the stored floor and MAX_THRESHOLD."""
        return replace(self, threshold=round(float(np.clip(threshold, self.floor(), MAX_THRESHOLD)), 4))

    def more(self) -> LabelReview:
        """The + button: a lower threshold, more boxes."""
        return self.with_threshold(self.threshold - THRESHOLD_STEP)

    def fewer(self) -> LabelReview:
        """The - button: a higher threshold, fewer boxes."""
        return self.with_threshold(self.threshold + THRESHOLD_STEP)

    def toggled(self, key: MatchKey) -> LabelReview:
        """Accept a rejected match or reject an accepted one."""
        return replace(self, rejected=self.rejected ^ {key})

    def with_result(self, result: MatchResult) -> LabelReview:
        """A new matching result; decisions on the old matches go, added boxes stay."""
        if result.label != self.label:
            raise ValueError(f"result for label {result.label!r} given to label {self.label!r}")
        # A first match takes the result's threshold (automatic for the template's size unless
        # given); later ones keep what the person set with + and -.
        threshold = result.threshold if self.result is None else max(self.threshold, result.floor)
        rejected = frozenset(key for key in self.rejected if key[0] == ADDED)
        edited = tuple((key, match) for key, match in self.edited if key[0] == ADDED)
        return replace(self, result=result, threshold=threshold, rejected=rejected, plain=False, edited=edited,
                       removed=frozenset())

    def with_added(self, box: Box) -> LabelReview:
        """A box the person drew around an occurrence the matcher missed."""
        return replace(self, added=(*self.added, _box_match(self.label, box)))

    def with_added_match(self, match: Match) -> LabelReview:
        """A box placed by hand with its pose (pasted, duplicated, or moved here from another label)."""
        return replace(self, added=(*self.added, replace(match, label=self.label)))

    def without_added(self, index: int) -> LabelReview:
        added = self.added[:index] + self.added[index + 1:]

        def shifted(key: MatchKey) -> MatchKey:
            return (ADDED, key[1] - 1) if key[0] == ADDED and key[1] > index else key

        rejected = frozenset(shifted(key) for key in self.rejected if key != (ADDED, index))
        edited = tuple((shifted(key), match) for key, match in self.edited if key != (ADDED, index))
        return replace(self, added=added, rejected=rejected, edited=edited)

    def without_match(self, key: MatchKey) -> LabelReview:
        """A box deleted by hand: an added one goes, a found one is removed (not shown, not saved)."""
        if key[0] == ADDED:
            return self.without_added(key[1])
        return replace(self, removed=self.removed | {key},
                       edited=tuple((k, m) for k, m in self.edited if k != key))

    def with_box_edited(self, key: MatchKey, quad: np.ndarray) -> LabelReview:
        """The box `key` moved or resized by hand: its new corners (4, 2), in the same corner order."""
        item = self.find(key)
        if item is None:
            raise KeyError(key)
        base = dict(self.edited).get(key) or self._match_of(key)
        moved = replace(base, quad=np.asarray(quad, dtype=float).reshape(4, 2))
        edited = (*((k, m) for k, m in self.edited if k != key), (key, moved))
        return replace(self, edited=edited)

    def with_template_moved(self, index: int, box: Box) -> LabelReview:
        templates = list(self.templates)
        templates[index] = tuple(float(v) for v in box)
        return replace(self, templates=tuple(templates))

    def _match_of(self, key: MatchKey) -> Match:
        if key[0] == ADDED:
            return self.added[key[1]]
        assert self.result is not None
        return self.result.matches[key[1]]

    def with_template(self, box: Box) -> LabelReview:
        return replace(self, templates=(*self.templates, tuple(float(v) for v in box)))

    def without_template(self, index: int) -> LabelReview:
        return replace(self, templates=self.templates[:index] + self.templates[index + 1:])

    def corrected(self) -> LabelReview:
        """Correct Label: report every box of this label plain (no flip, no turn), or undo that."""
        return replace(self, plain=not self.plain)

    def renamed(self, label: str, note: str | None) -> LabelReview:
        result = self.result
        if result is not None:
            result = replace(result, label=label, matches=tuple(replace(m, label=label) for m in result.matches))
        added = tuple(replace(m, label=label) for m in self.added)
        edited = tuple((key, replace(m, label=label)) for key, m in self.edited)
        return replace(self, label=label, note=note or None, result=result, added=added, edited=edited)

    def _reviewed(self, key: MatchKey, match: Match) -> ReviewedMatch:
        edited = dict(self.edited).get(key)
        match = edited or match
        shown = _plain(match) if self.plain else match
        return ReviewedMatch(key, shown, key not in self.rejected, edited is not None)


@dataclass(frozen=True)
class PageReview:
    """Every label of one page, in the order the person goes through them (Next Line)."""

    labels: tuple[LabelReview, ...] = field(default=())

    def names(self) -> list[str]:
        return [entry.label for entry in self.labels]

    def __contains__(self, label: object) -> bool:
        return any(entry.label == label for entry in self.labels)

    def get(self, label: str) -> LabelReview:
        for entry in self.labels:
            if entry.label == label:
                return entry
        raise KeyError(label)

    def replaced(self, entry: LabelReview) -> PageReview:
        """This review with `entry` in place of the label of the same name (appended if new)."""
        if entry.label not in self:
            return PageReview((*self.labels, entry))
        return PageReview(tuple(entry if e.label == entry.label else e for e in self.labels))

    def without(self, label: str) -> PageReview:
        return PageReview(tuple(e for e in self.labels if e.label != label))

    def with_template(self, label: str, box: Box, note: str | None = None) -> PageReview:
        """A template box drawn for `label`; a new label is added at the end."""
        entry = self.get(label) if label in self else LabelReview(label, note or None)
        if note:
            entry = replace(entry, note=note)
        return self.replaced(entry.with_template(box))

    def renamed(self, label: str, new_label: str, note: str | None) -> PageReview:
        """`label` renamed to `new_label` with `note`; refused if `new_label` is another label."""
        if new_label != label and new_label in self:
            raise MatchOptionsError(f"there is already a label {new_label!r}; choose another name")
        entry = self.get(label).renamed(new_label, note)
        return PageReview(tuple(entry if e.label == label else e for e in self.labels))

    def with_results(self, results: dict[str, MatchResult]) -> PageReview:
        """New matching results for some of the labels (see LabelReview.with_result)."""
        after = self
        for label, result in results.items():
            if label in after:
                after = after.replaced(after.get(label).with_result(result))
        return after

    def notes(self) -> dict[str, str]:
        return {entry.label: entry.note for entry in self.labels if entry.note}

    def total(self) -> int:
        return sum(entry.count() for entry in self.labels)


def review_from_label_file(label_file: LabelFile) -> tuple[PageReview, LabelFile]:
    """The review a LabelMe file holds, and a copy of the file with only the other shapes.

    Labels written "0 This is a Sun" become label "0" with the note "This is a Sun".
    """
    source = copy.deepcopy(label_file)
    # `dea score`'s labels are the detector's own ("unknown vignette" among them), never a label and a note.
    apply_label_notes(replace(source, shapes=[shape for shape in source.shapes if DEA_KEY not in shape.extra]))
    order: list[str] = []
    groups: dict[str, list[Shape]] = {}
    others: list[Shape] = []
    for shape in source.shapes:
        if _is_managed(shape):
            if shape.label not in groups:
                order.append(shape.label)
            groups.setdefault(shape.label, []).append(shape)
        else:
            others.append(shape)
    review = PageReview(tuple(_label_review(label, groups[label]) for label in order))
    return review, replace(source, shapes=others)


def review_to_label_file(base: LabelFile, review: PageReview, *, polygon: bool = False) -> LabelFile:
    """`base` (the file's other shapes) with every label's template boxes and accepted boxes.

    The match lying on a template box is written once, as the box was drawn and flagged as the
    template (with the match's score and pose); a template box without such a match is a plain
    rectangle.
    """
    shapes = list(base.shapes)
    for entry in review.labels:
        accepted = [item for item in entry.shown() if item.accepted]
        rest = list(accepted)
        for box in entry.templates:
            own = _own_occurrence([item for item in rest if not item.added], box)
            if own is None:
                shapes.append(_template_shape(entry.label, box, entry.note))
                continue
            rest.remove(own)
            shape = match_to_shape(own.match, is_template=True, description=entry.note)
            shapes.append(replace(shape, points=_template_shape(entry.label, box, None).points, shape_type="rectangle"))
        for item in sorted(rest, key=lambda it: (round(it.match.box[1]), it.match.box[0])):
            shape = match_to_shape(item.match, description=entry.note, polygon=polygon)
            if item.added:
                shape.extra[MATCH_KEY]["manual"] = True
            if item.edited:
                shape.extra[MATCH_KEY]["edited"] = True
            shapes.append(shape)
    return replace(base, shapes=shapes)


def matched_label_file(label_file: LabelFile, results: dict[str, MatchResult], *, polygon: bool = False) -> LabelFile:
    """`label_file` with matching results, written as the window writes them: read as a review,
    given the results, written back. The one way matches reach a file, from the window or `dea match`."""
    review, base = review_from_label_file(label_file)
    return review_to_label_file(base, review.with_results(results), polygon=polygon)


def _own_occurrence(found: list[ReviewedMatch], box: Box) -> ReviewedMatch | None:
    """The kept match lying on a template box (the template finds itself), if any.

    Found by overlap, not by pose: when the sizes searched do not include exactly 1, the template
    finds itself at a size such as 0.995.
    """
    quad = box_quad(box)
    best = max(found, key=lambda item: quad_iou(item.match.quad, quad), default=None)
    return best if best is not None and quad_iou(best.match.quad, quad) >= TEMPLATE_IOU else None


def lies_on_template(entry: LabelReview, match: Match) -> bool:
    """True for the match that is a template box's own occurrence (the template finding itself)."""
    return any(quad_iou(match.quad, box_quad(box)) >= TEMPLATE_IOU for box in entry.templates)


def box_quad(box: Box) -> np.ndarray:
    """Corners (4, 2) of an upright box: top-left, top-right, bottom-right, bottom-left."""
    x0, y0, x1, y1 = box
    x0, x1 = sorted((x0, x1))
    y0, y1 = sorted((y0, y1))
    return np.array([[x0, y0], [x1, y0], [x1, y1], [x0, y1]], dtype=float)


def _detected_vignette(shape: Shape) -> Match | None:
    """The occurrence a box of `dea score` stands for (upright, the detector's confidence as its score: 0 for ink
    no known vignette explains), or None for a shape without a `dea` record."""
    record = shape.extra.get(DEA_KEY)
    if not isinstance(record, dict):
        return None
    score = min(max(record_number(record, "detection_score"), 0.0), 1.0)
    return Match(shape.label, score, Pose(), box_quad(_shape_box(shape)))


def _box_match(label: str, box: Box) -> Match:
    return Match(label, ADDED_SCORE, Pose(), box_quad(box))


def _plain(match: Match) -> Match:
    """The match reported upright and unflipped, over the same box on the page."""
    return replace(match, pose=Pose(scale=match.pose.scale), quad=box_quad(match.box))


def _in_pose_order(match: Match) -> Match:
    """A match read from a LabelMe rectangle, its corners put back in the template's own order.

    A rectangle stores only the box, so `shape_to_match` gives its corners in reading order; a
    match turned 180 degrees or flipped needs them in pose order, or its crop comes out unturned.
    """
    x0, y0, x1, y1 = match.box
    width, height = x1 - x0, y1 - y0
    if round(match.pose.rotation) % 180 == 90:
        width, height = height, width
    scale = match.pose.scale
    return replace(match, quad=pose_quad(width / scale, height / scale, match.pose, match.centre))


def is_template_box(shape: Shape) -> bool:
    """A shape as review_to_label_file writes a template box that no match lies on: a plain rectangle."""
    return shape.shape_type == "rectangle" and not isinstance(shape.extra.get(MATCH_KEY), dict) \
        and DEA_KEY not in shape.extra


def _is_managed(shape: Shape) -> bool:
    if isinstance(shape.extra.get(MATCH_KEY), dict):
        return shape.shape_type in ("rectangle", "polygon", "oriented_rectangle")
    return shape.shape_type == "rectangle"


def _template_shape(label: str, box: Box, note: str | None) -> Shape:
    x0, y0, x1, y1 = box
    points = [[round(x0, 2), round(y0, 2)], [round(x1, 2), round(y1, 2)]]
    return Shape(label=label, points=points, shape_type="rectangle", description=note)


def _shape_box(shape: Shape) -> Box:
    xs = [p[0] for p in shape.points]
    ys = [p[1] for p in shape.points]
    return min(xs), min(ys), max(xs), max(ys)


def _label_review(label: str, shapes: list[Shape]) -> LabelReview:
    records = [shape.extra.get(MATCH_KEY) for shape in shapes]
    has_template_record = any(isinstance(r, dict) and r.get("template", False) for r in records)
    templates: list[Box] = []
    found: list[Match] = []
    added: list[Match] = []
    edited_found: list[Match] = []
    edited_added: list[int] = []
    for shape, record in zip(shapes, records):
        if not isinstance(record, dict):
            detected = _detected_vignette(shape)
            if detected is not None:
                found.append(detected)
            elif has_template_record:
                added.append(_box_match(label, _shape_box(shape)))
            else:
                templates.append(_shape_box(shape))
            continue
        match = shape_to_match(shape)
        if match is None:
            continue
        if shape.shape_type == "rectangle":
            match = _in_pose_order(match)
        if record.get("manual", False):
            if record.get("edited", False):
                edited_added.append(len(added))
            added.append(match)
            continue
        if record.get("template", False):
            templates.append(_shape_box(shape))
        if record.get("edited", False):
            edited_found.append(match)
        found.append(match)
    note = next((shape.description for shape in shapes if shape.description), None)
    entry = LabelReview(label, note, tuple(templates), added=tuple(added),
                        edited=tuple(((ADDED, i), added[i]) for i in edited_added))
    if not found:
        return entry
    found.sort(key=lambda m: -m.score)
    entry = replace(entry, edited=entry.edited + tuple(
        ((FOUND, i), m) for i, m in enumerate(found) if any(m is e for e in edited_found)))
    lowest = found[-1].score
    shown = math.floor(min(DEFAULT_THRESHOLD, lowest) * 1e4) / 1e4
    result = MatchResult(label, tuple(templates), tuple(found), min(SCORE_FLOOR, lowest), shown)
    # Everything the file holds was kept by someone: show it all.
    return replace(entry, result=result, threshold=shown)
