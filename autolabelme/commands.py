"""Undo commands: every edit of a page's review is one QUndoCommand holding the review before and
after (reviews are immutable, so undo is putting the old one back)."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from PyQt5.QtWidgets import QUndoCommand

from dea_core.matching.result import Match, MatchResult
from dea_core.matching.review import Box, LabelReview, MatchKey, PageReview

# apply(review, label): show `review`, with `label` as the current label.
Apply = Callable[[PageReview, "str | None"], None]
THRESHOLD_MERGE_ID = 1


class ReviewEdit(QUndoCommand):
    """Replace the page's review; `focus` is the label the edit concerns, shown on undo and redo."""

    def __init__(self, text: str, before: PageReview, after: PageReview, apply: Apply,
                 focus: str | None, merge_id: int = -1) -> None:
        super().__init__(text)
        self.before, self.after = before, after
        self._apply, self.focus, self._merge_id = apply, focus, merge_id

    def redo(self) -> None:
        self._apply(self.after, self.focus)

    def undo(self) -> None:
        self._apply(self.before, self.focus)

    def id(self) -> int:
        return self._merge_id

    def mergeWith(self, other: QUndoCommand) -> bool:
        """Several presses of + or - on one label undo as one step."""
        if not isinstance(other, ReviewEdit) or other.focus != self.focus or other.before is not self.after:
            return False
        self.after = other.after
        self.setText(other.text())
        return True


def _label_edit(text: str, review: PageReview, entry: LabelReview, apply: Apply, merge_id: int = -1) -> ReviewEdit:
    return ReviewEdit(text, review, review.replaced(entry), apply, entry.label, merge_id)


def set_threshold(review: PageReview, label: str, more: bool, apply: Apply) -> ReviewEdit:
    entry = review.get(label)
    changed = entry.more() if more else entry.fewer()
    return _label_edit(f"Threshold of {label} to {changed.threshold:.2f}", review, changed, apply, THRESHOLD_MERGE_ID)


def toggle_match(review: PageReview, label: str, key: MatchKey, apply: Apply) -> ReviewEdit:
    entry = review.get(label)
    verb = "Reject" if key not in entry.rejected else "Accept"
    return _label_edit(f"{verb} a box of {label}", review, entry.toggled(key), apply)


def add_box(review: PageReview, label: str, box: Box, apply: Apply) -> ReviewEdit:
    return _label_edit(f"Add a box to {label}", review, review.get(label).with_added(box), apply)


def delete_added_box(review: PageReview, label: str, index: int, apply: Apply) -> ReviewEdit:
    return _label_edit(f"Delete an added box of {label}", review, review.get(label).without_added(index), apply)


def add_template(review: PageReview, label: str, note: str | None, box: Box, apply: Apply) -> ReviewEdit:
    return ReviewEdit(f"Draw a template box for {label}", review, review.with_template(label, box, note),
                      apply, label)


def delete_template(review: PageReview, label: str, index: int, apply: Apply) -> ReviewEdit:
    """Remove a template box; a label left with nothing (no box, no match) goes with it."""
    entry = review.get(label).without_template(index)
    empty = not entry.templates and not entry.matched and not entry.added
    after = review.without(label) if empty else review.replaced(entry)
    return ReviewEdit(f"Delete a template box of {label}", review, after, apply, None if empty else label)


def delete_label(review: PageReview, label: str, apply: Apply) -> ReviewEdit:
    return ReviewEdit(f"Delete label {label}", review, review.without(label), apply, None)


def rename_label(review: PageReview, label: str, new_label: str, note: str | None, apply: Apply) -> ReviewEdit:
    """MatchOptionsError when `new_label` is another existing label."""
    return ReviewEdit(f"Rename {label} to {new_label}", review, review.renamed(label, new_label, note), apply,
                      new_label)


def correct_label(review: PageReview, label: str, apply: Apply) -> ReviewEdit:
    entry = review.get(label).corrected()
    text = f"Correct label {label} (plain boxes)" if entry.plain else f"Undo Correct label {label}"
    return _label_edit(text, review, entry, apply)


def set_results(review: PageReview, results: dict[str, MatchResult], apply: Apply, focus: str | None) -> ReviewEdit:
    """New matching results for one or several labels, as one undo step."""
    after = review.with_results(results)
    names = ", ".join(results)
    return ReviewEdit(f"Match {names}", review, after, apply, focus)


def edit_box(review: PageReview, label: str, key: MatchKey, quad: np.ndarray, apply: Apply) -> ReviewEdit:
    """A match or added box moved or resized by hand (edit mode)."""
    return _label_edit(f"Move or resize a box of {label}", review, review.get(label).with_box_edited(key, quad), apply)


def move_template(review: PageReview, label: str, index: int, box: Box, apply: Apply) -> ReviewEdit:
    return _label_edit(f"Move or resize a template box of {label}", review,
                       review.get(label).with_template_moved(index, box), apply)


def remove_match(review: PageReview, label: str, key: MatchKey, apply: Apply) -> ReviewEdit:
    """Edit mode's Delete: the box goes (a found one is not merely rejected)."""
    return _label_edit(f"Delete a box of {label}", review, review.get(label).without_match(key), apply)


def place_match(review: PageReview, label: str, note: str | None, match: Match, apply: Apply,
                text: str = "Paste") -> ReviewEdit:
    """A box placed with its pose (paste, duplicate) into `label`, made if the page lacks it."""
    entry = review.get(label) if label in review else LabelReview(label, note)
    return ReviewEdit(f"{text} a box of {label}", review, review.replaced(entry.with_added_match(match)), apply, label)


def change_box_label(review: PageReview, label: str, key: tuple, new_label: str, note: str | None,
                     apply: Apply) -> ReviewEdit:
    """Move one box to another label (made when new): a template stays a template, a match becomes
    a box placed by hand in its pose. `key` is ("template", index) or a MatchKey."""
    source = review.get(label)
    if key[0] == "template":
        box = source.templates[key[1]]
        after = review.replaced(source.without_template(key[1])).with_template(new_label, box, note)
    else:
        item = source.find(key)
        if item is None:
            raise KeyError(key)
        after = review.replaced(source.without_match(key))
        target = after.get(new_label) if new_label in after else LabelReview(new_label, note or None)
        after = after.replaced(target.with_added_match(item.match))
    return ReviewEdit(f"Move a box from {label} to {new_label}", review, after, apply, new_label)
