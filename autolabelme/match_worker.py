"""Matching off the GUI thread: a QThread that runs the engine, reports progress, and stops on Cancel."""

from __future__ import annotations

import threading
import traceback
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from PyQt5.QtCore import QThread, pyqtSignal

from dea_core.errors import DeaError, MatchCancelled
from dea_core.matching.cross_page import match_templates_from_elsewhere
from dea_core.matching.matcher import CancelCheck, MatchOptions, PageMatcher, ProgressCallback
from dea_core.matching.result import MatchResult

Box = tuple[float, float, float, float]
# The progress bar's range for one whole job.
PROGRESS_STEPS = 1000


@dataclass(frozen=True)
class LabelJob:
    """What to match for one label: its boxes on this page, or pictures cut from another page."""

    label: str
    options: MatchOptions
    boxes: tuple[Box, ...] = ()
    carried: tuple[np.ndarray, ...] = ()

    def run(self, matcher: PageMatcher, page: np.ndarray, progress: ProgressCallback,
            cancel: CancelCheck) -> MatchResult:
        if len(self.boxes) == 1:
            return matcher.match(self.label, self.boxes[0], self.options, progress=progress, cancel=cancel)
        if self.boxes:
            found = matcher.match_all({self.label: list(self.boxes)}, self.options, progress=progress,
                                      cancel=cancel)
            return found[self.label]
        return match_templates_from_elsewhere(page, self.label, list(self.carried), self.options,
                                              progress=progress, cancel=cancel)


def run_jobs(jobs: list[LabelJob], matcher: PageMatcher, page: np.ndarray, progress: ProgressCallback,
             cancel: CancelCheck) -> dict[str, MatchResult]:
    """Each label's result; progress in PROGRESS_STEPS over all labels, reported when it grows."""
    results: dict[str, MatchResult] = {}
    last = [-1]
    for index, job in enumerate(jobs):
        def label_progress(done: int, total: int, index: int = index) -> None:
            share = min(1.0, done / total) if total else 1.0
            value = int((index + share) * PROGRESS_STEPS / len(jobs))
            if value > last[0]:  # the engine learns of more steps as it goes: never step back
                last[0] = value
                progress(value, PROGRESS_STEPS)

        results[job.label] = job.run(matcher, page, label_progress, cancel)
    return results


class MatchThread(QThread):
    """Runs `work(progress, cancel)` once; exactly one of succeeded, failed, cancelled follows.

    A result that arrives after Cancel was pressed is reported as cancelled: the person asked for
    nothing to change, and nothing does.
    """

    progressed = pyqtSignal(int, int)
    succeeded = pyqtSignal(object)
    # Subclasses running other engine work (the detector) name it and the errors that mean "cancelled".
    TASK = "matching"
    CANCELLED: tuple[type[Exception], ...] = (MatchCancelled,)
    failed = pyqtSignal(str)
    cancelled = pyqtSignal()

    def __init__(self, work: Callable[[ProgressCallback, CancelCheck], object], parent=None) -> None:
        super().__init__(parent)
        self._work = work
        self._stop = threading.Event()

    def cancel(self) -> None:
        self._stop.set()

    def cancel_requested(self) -> bool:
        return self._stop.is_set()

    def run(self) -> None:
        try:
            result = self._work(self.progressed.emit, self._stop.is_set)
        except self.CANCELLED:
            self.cancelled.emit()
        except DeaError as error:
            self.failed.emit(str(error))
        except Exception as error:  # noqa: BLE001  (PyQt aborts on an exception left in run())
            traceback.print_exc()
            self.failed.emit(f"{self.TASK} stopped on an unexpected error: {error!r}")
        else:
            if self._stop.is_set():
                self.cancelled.emit()
            else:
                self.succeeded.emit(result)
