"""Boxes the detector found on the open page, shown as suggestions until the person decides.

A suggestion is not part of the page: it is drawn orange and dashed, and is not saved. Clicking
it accepts it: it becomes a box of its label (the label is created if the page lacks it), kept
like a box added by hand with the detector's score, and is saved with the page. "Reject
Remaining Suggestions" drops the others. Both are undo steps that change the review and the
suggestions together.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

from PyQt5.QtWidgets import QUndoCommand

from autolabelme.box_items import SUGGESTION_COLOUR, BoxSpec, BoxStyle
from dea_core.matching.poses import Pose
from dea_core.matching.result import Match
from dea_core.matching.review import Box, LabelReview, PageReview, box_quad

SUGGESTION = "suggestion"


@dataclass(frozen=True)
class Suggestion:
    """One box found by the detector: label, score in [0, 1], box (x0, y0, x1, y1) in page pixels."""

    label: str
    score: float
    box: Box


Suggestions = tuple[Suggestion, ...]
# apply(review, suggestions, label): show both, with `label` as the current label.
ApplySuggestions = Callable[[PageReview, Suggestions, "str | None"], None]


def suggestions_from(detections: list) -> Suggestions:
    """Suggestions from dea_core.detection.inference.Detection objects, best first."""
    return tuple(Suggestion(d.label, float(d.score), tuple(float(v) for v in d.box))
                 for d in sorted(detections, key=lambda d: -d.score))


def with_accepted(review: PageReview, suggestion: Suggestion) -> PageReview:
    """The review with the suggestion as a kept box of its label (added, with the detector's score)."""
    entry = review.get(suggestion.label) if suggestion.label in review else LabelReview(suggestion.label)
    match = Match(suggestion.label, round(suggestion.score, 4), Pose(), box_quad(suggestion.box))
    return review.replaced(replace(entry, added=(*entry.added, match)))


class SuggestionEdit(QUndoCommand):
    """Accept or reject suggestions: the review and the pending suggestions, before and after."""

    def __init__(self, text: str, before: tuple[PageReview, Suggestions], after: tuple[PageReview, Suggestions],
                 apply: ApplySuggestions, focus: str | None) -> None:
        super().__init__(text)
        self.before, self.after, self._apply, self.focus = before, after, apply, focus

    def redo(self) -> None:
        self._apply(*self.after, self.focus)

    def undo(self) -> None:
        self._apply(*self.before, self.focus)


def accept(review: PageReview, pending: Suggestions, index: int, apply: ApplySuggestions) -> SuggestionEdit:
    suggestion = pending[index]
    after = (with_accepted(review, suggestion), pending[:index] + pending[index + 1:])
    return SuggestionEdit(f"Accept a suggested box of {suggestion.label}", (review, pending), after, apply,
                          suggestion.label)


def accept_all(review: PageReview, pending: Suggestions, apply: ApplySuggestions) -> SuggestionEdit:
    after = review
    for suggestion in pending:
        after = with_accepted(after, suggestion)
    return SuggestionEdit(f"Accept {len(pending)} suggested boxes", (review, pending), (after, ()), apply, None)


def reject(review: PageReview, pending: Suggestions, index: int | None, apply: ApplySuggestions) -> SuggestionEdit:
    """Drop one suggestion, or all with `index` None."""
    kept = () if index is None else pending[:index] + pending[index + 1:]
    text = "Reject the remaining suggestions" if index is None else f"Reject a suggested box of {pending[index].label}"
    return SuggestionEdit(text, (review, pending), (review, kept), apply, None)


def suggestion_boxes(pending: Suggestions) -> list[BoxSpec]:
    """What the page view draws for the pending suggestions; a box's key is ("suggestion", label, index).
    The tag is the score alone, short enough to show on small boxes; the label is in the tooltip."""
    return [BoxSpec((SUGGESTION, s.label, index), box_quad(s.box), SUGGESTION_COLOUR, BoxStyle.SUGGESTED,
                    f"{s.score:.2f}?", describe(s))
            for index, s in enumerate(pending)]


def describe(suggestion: Suggestion) -> str:
    return (f"Suggested by the detector: label {suggestion.label} · score {suggestion.score:.3f} · click to accept, "
            "Del to reject")
