"""Which matching call each label needs, and the page's labels matched together.

One place for the choice the window and `dea match` both make: a label drawn on this page is
matched from its boxes (the first the template, further ones templates for the pose they show);
a label known only from another page is matched from the pictures carried from there. All the
labels of a run then compete for the same ink (nms.compete).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from dea_core.matching.cross_page import match_carried
from dea_core.matching.matcher import CancelCheck, MatchOptions, PageMatcher, ProgressCallback
from dea_core.matching.nms import compete
from dea_core.matching.result import MatchResult
from dea_core.matching.review import PageReview

Box = tuple[float, float, float, float]
# The progress range for one whole run.
PROGRESS_STEPS = 1000


@dataclass(frozen=True)
class LabelJob:
    """What to match for one label: its boxes on this page, or pictures cut from another page."""

    label: str
    options: MatchOptions
    boxes: tuple[Box, ...] = ()
    carried: tuple[np.ndarray, ...] = ()

    def run(self, matcher: PageMatcher, progress: ProgressCallback | None = None,
            cancel: CancelCheck | None = None) -> MatchResult:
        if self.boxes:
            return matcher.match_boxes(self.label, list(self.boxes), self.options, progress=progress, cancel=cancel)
        return match_carried(matcher, self.label, list(self.carried), self.options, progress=progress, cancel=cancel)


def review_jobs(review: PageReview, options: MatchOptions, labels: list[str] | None = None) -> list[LabelJob]:
    """A job for each label of `review` with template boxes (or only for `labels`), in review order."""
    return [LabelJob(entry.label, options, boxes=entry.templates) for entry in review.labels
            if entry.templates and (labels is None or entry.label in labels)]


def run_jobs(jobs: list[LabelJob], matcher: PageMatcher, progress: ProgressCallback | None = None,
             cancel: CancelCheck | None = None,
             rivals: Mapping[str, MatchResult] | None = None) -> dict[str, MatchResult]:
    """Each job's result, the labels competing for ink with each other and with `rivals` (other
    labels' results, left as they are). progress: PROGRESS_STEPS over all jobs, never stepping back."""
    results: dict[str, MatchResult] = {}
    last = [-1]
    for index, job in enumerate(jobs):
        def label_progress(done: int, total: int, index: int = index) -> None:
            share = min(1.0, done / total) if total else 1.0
            value = int((index + share) * PROGRESS_STEPS / len(jobs))
            if progress is not None and value > last[0]:  # the engine learns of more steps as it goes
                last[0] = value
                progress(value, PROGRESS_STEPS)

        results[job.label] = job.run(matcher, label_progress, cancel)
    return compete(results, rivals)
