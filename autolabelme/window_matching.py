"""The window's matching: Rematch, Match All, Next / Previous Line, the worker thread and Cancel.

A mixin of MainWindow (main_window.py); the engine does the matching (dea_core.matching.label_jobs).
"""

from __future__ import annotations

import time
from dataclasses import replace

from autolabelme import commands
from autolabelme.box_items import boxes_text
from autolabelme.dialogs import show_error
from autolabelme.match_worker import MatchThread
from autolabelme.page_view import Mode
from autolabelme.search_settings import SearchSettings
from dea_core.errors import MatchOptionsError
from dea_core.matching.label_jobs import LabelJob, run_jobs
from dea_core.matching.result import MatchResult
from dea_core.matching.review import LabelReview


def narrow_search_hint(search: SearchSettings) -> str:
    """What to try when boxes seem missing: the original defaults find only upright copies nearby."""
    upright = not search.flip and search.rotation_max is None
    if upright and not search.whole_page:
        return "Only upright copies near the template were searched: tick flip, set rotation max or whole page for more."
    if upright:
        return "Only upright copies were searched: tick flip or set rotation max for turned ones."
    if not search.whole_page:
        return "Only rows near the template were searched: tick 'whole page' to look everywhere."
    return "Click a box to reject it; + / - for more or fewer boxes."


class MatchingMixin:
    """Matching for MainWindow: at most one MatchThread at a time, in `self.worker`."""

    def rematch(self) -> None:
        if self.current_label is not None:
            self.start_matching([self.current_label])

    def match_all(self) -> None:
        if self.document is not None:
            labels = [e.label for e in self.document.review.labels
                      if e.templates or self.library.get(e.label) is not None]
            if labels:
                self.start_matching(labels)
            else:
                self.statusBar().showMessage("No label has a template box: press T and draw one.", 8000)

    def next_line(self) -> None:
        self._step_label(+1)

    def previous_line(self) -> None:
        self._step_label(-1)

    def _step_label(self, step: int) -> None:
        if self.document is None or self.is_busy():
            return
        names = self.document.review.names()
        if not names:
            return
        if self.current_label in names:
            index = names.index(self.current_label) + step
        else:
            index = 0 if step > 0 else len(names) - 1
        if not 0 <= index < len(names):
            self.statusBar().showMessage("That is the last label." if step > 0 else "That is the first label.", 5000)
            return
        self.current_label = names[index]
        self.page_view.select(None)
        self.refresh()
        entry = self.current_entry()
        if entry is not None and not entry.matched and (entry.templates or self.library.get(entry.label)):
            self.start_matching([entry.label])

    def start_matching(self, labels: list[str]) -> bool:
        """Match `labels` in the worker thread; False when there is nothing to do or the options are wrong."""
        if self.document is None or self.is_busy():
            return False
        document = self.document
        try:
            search = self.controls.search_settings()
            self._learn_templates()
            jobs = [self._job(document.review.get(label), search) for label in labels]
        except MatchOptionsError as error:
            show_error(self, "cannot match", str(error))
            return False
        self.settings.set_search_settings(search)
        # The other labels keep their boxes; the labels matched now may not take their ink.
        rivals = {e.label: replace(e.result, threshold=e.threshold) for e in document.review.labels
                  if e.result is not None and e.label not in labels}

        def work(progress, cancel) -> dict[str, MatchResult]:
            return run_jobs(jobs, document.matcher, progress, cancel, rivals)

        worker = MatchThread(work, self)
        worker.progressed.connect(self.controls.set_progress)
        worker.succeeded.connect(self._match_succeeded)
        worker.failed.connect(self._match_failed)
        worker.cancelled.connect(self._match_cancelled)
        worker.finished.connect(self._match_finished)
        self.worker = worker
        self._match_started = time.perf_counter()
        self._match_search = search
        self.page_view.set_mode(Mode.BROWSE)
        self._set_mode_checks_off()
        self.controls.set_busy(True)
        self._update_actions()
        self.statusBar().showMessage(f"Matching {', '.join(labels)} ({search.describe()}); Esc cancels.")
        worker.start()
        return True

    def _job(self, entry: LabelReview, search: SearchSettings) -> LabelJob:
        # The engine picks each template's threshold; the person's +/- choice is kept in the review.
        options = search.to_options(None)
        if entry.templates:
            return LabelJob(entry.label, options, boxes=entry.templates)
        carried = self.library.get(entry.label)
        if carried is None:
            raise MatchOptionsError(f"label {entry.label} has no template box on this page: press T and draw "
                                    "a box around one of its ornaments")
        return LabelJob(entry.label, options, carried=carried.crops)

    def _set_mode_checks_off(self) -> None:
        for action in (self.act.draw_template, self.act.add_missed):
            action.blockSignals(True)
            action.setChecked(False)
            action.blockSignals(False)

    # The worker's signals: one worker runs at a time, so the sender is self.worker.
    def _match_succeeded(self, results: dict[str, MatchResult]) -> None:
        if self.worker is None or self.worker.cancel_requested() or self.document is None:
            self._match_cancelled()
            return
        focus = self.current_label if self.current_label in results else next(iter(results), None)
        self._push(commands.set_results(self._review(), results, self.apply_review, focus))
        seconds = time.perf_counter() - self._match_started
        counts = ", ".join(f"Label {label}: {boxes_text(self._review().get(label).count())}" for label in results)
        self.statusBar().showMessage(f"{counts} ({seconds:.2f} s; searched {self._match_search.describe()}). "
                                     f"{narrow_search_hint(self._match_search)}", 15000)
        self.autosave_now()

    def _match_failed(self, message: str) -> None:
        show_error(self, "matching failed", message)

    def _match_cancelled(self) -> None:
        self.statusBar().showMessage("Matching cancelled; nothing changed.", 8000)

    def _match_finished(self) -> None:
        if self.worker is not None:
            self.worker.deleteLater()
            self.worker = None
        self.controls.set_busy(False)
        self.refresh()

    def cancel(self) -> None:
        """Esc: stop matching if it runs, else stop drawing."""
        if self.worker is not None:
            self.worker.cancel()
            self.statusBar().showMessage("Cancelling...")
        elif self.page_view.mode() is not Mode.BROWSE:
            self._set_mode(Mode.BROWSE)

    def wait_for_matching(self, msecs: int = 10000) -> None:
        """Block until the worker thread ends (closing the window, tests)."""
        if self.worker is not None:
            self.worker.wait(msecs)
