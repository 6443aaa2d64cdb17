"""The window's Training menu: prepare a dataset, train the detector or DEA in a separate process
followed by the training panel, evaluate, and detect on the open page as suggestions.

A mixin of MainWindow (main_window.py). Short engine work (preparing, evaluating, detecting) runs in
the window's worker thread like matching; training runs as its own process (training_process.py).
"""

from __future__ import annotations

import importlib.util
from collections.abc import Callable
from dataclasses import dataclass
from html import escape
from pathlib import Path

from PyQt5.QtCore import Qt
from PyQt5.QtWidgets import QAction, QMenu, QMessageBox

from autolabelme import suggestions
from autolabelme.actions import make_action
from autolabelme.dialogs import APP_NAME, show_error, show_info
from autolabelme.match_worker import MatchThread
from autolabelme.suggestions import Suggestions
from autolabelme.training_commands import CommandSpec
from autolabelme.training_dialogs import (
    CommandDialog,
    DetectDialog,
    EvaluateDialog,
    PrepareDialog,
    TrainDeaDialog,
    TrainDetectorDialog,
)
from autolabelme.training_panel import TrainingPanel
from autolabelme.training_process import TrainingJob, TrainingOutcome, TrainingProcess
from dea_core.errors import DeaError, MatchCancelled

JOB_SETTING = "training/job"  # the folder of a run the window follows, kept while it runs


class DetectorThread(MatchThread):
    """The window's worker thread for the detector's work: the detector's cancel counts as one."""

    TASK = "the detector"

    def __init__(self, work, parent=None) -> None:
        from dea_core.detection.errors import DetectionCancelled  # the detector package loads torch

        super().__init__(work, parent)
        self.CANCELLED = (MatchCancelled, DetectionCancelled)


class ModelCache:
    """One loaded model, kept while its file and device stay the same (loading takes seconds).
    `load(path, device)` is called in the worker thread, so it may import PyTorch."""

    def __init__(self, load: Callable[[Path, str], object]) -> None:
        self._load = load
        self._key: tuple[str, float, str] | None = None
        self._model: object = None

    def get(self, path: Path, device: str) -> object:
        key = (str(path.resolve()), path.stat().st_mtime, device)
        if key != self._key:
            self._model, self._key = self._load(path, device), key
        return self._model


def _load_detector(path: Path, device: str) -> object:
    from dea_core.detection.inference import Detector

    return Detector.from_checkpoint(path, device)


@dataclass
class TrainingActions:
    """The Training menu's actions."""

    prepare: QAction
    train_detector: QAction
    train_dea: QAction
    evaluate: QAction
    detect: QAction
    accept_suggestions: QAction
    reject_suggestions: QAction


PREPARE_TIP = "Cut the open folder's boxed pages into training pictures for the detector"


def build_training_actions(w) -> TrainingActions:
    return TrainingActions(
        prepare=make_action(w, "&Prepare Dataset...", w.prepare_dataset, tip=PREPARE_TIP),
        train_detector=make_action(w, "&Train Detector...", w.train_detector,
                                   tip="Train the ornament detector on a prepared dataset (a separate process)"),
        train_dea=make_action(w, "Train D&EA...", w.train_dea,
                              tip="Train DEA, which flags ornaments that differ, on top of a trained detector"),
        evaluate=make_action(w, "E&valuate...", w.evaluate_detector,
                             tip="Measure a trained detector's average precision on a dataset"),
        detect=make_action(w, "&Detect on This Page", w.detect_on_page, ("Ctrl+D",),
                           tip="Find ornaments on this page with a trained detector, as suggestions to accept"),
        accept_suggestions=make_action(w, "Accept &All Suggestions", w.accept_all_suggestions,
                                       tip="Keep every suggested box of this page"),
        reject_suggestions=make_action(w, "&Reject Remaining Suggestions", w.reject_remaining_suggestions,
                                       tip="Drop the suggested boxes not accepted"),
    )


class TrainingMixin:
    """Training for MainWindow: one followed training process, suggestions of the open page."""

    def init_training(self) -> None:
        """Make the actions, the panel and the process follower (before the menus are built)."""
        self.train_act = build_training_actions(self)
        self.training = TrainingProcess(self)
        self.training_panel = TrainingPanel(self)
        self.addDockWidget(Qt.BottomDockWidgetArea, self.training_panel)
        self.training_panel.hide()
        self.training.recordRead.connect(self.training_panel.show_record)
        self.training.ended.connect(self._training_ended)
        self.training_panel.stopRequested.connect(self.stop_training)
        self.training_panel.resumeRequested.connect(self.resume_training)
        self._suggestions: Suggestions = ()
        self._suggestions_page: object = None
        self._detectors = ModelCache(_load_detector)
        self._dea_installed = importlib.util.find_spec("dea_core.dea") is not None

    def build_training_menu(self, menu: QMenu) -> None:
        t = self.train_act
        menu.addActions([t.prepare, t.train_detector, t.train_dea, t.evaluate])
        menu.addSeparator()
        menu.addActions([t.detect, t.accept_suggestions, t.reject_suggestions, self.score_action])
        menu.addSeparator()
        panel = self.training_panel.toggleViewAction()
        panel.setText("Show Training &Panel")
        menu.addAction(panel)

    def update_training_actions(self) -> None:
        t, busy, training = self.train_act, self.is_busy(), self.training.is_running()
        t.prepare.setEnabled(not busy and self.folder is not None)
        reason = "" if self.folder is not None else " (open a folder of boxed pages first: File > Open Folder)"
        t.prepare.setToolTip(PREPARE_TIP + reason)
        t.prepare.setStatusTip(PREPARE_TIP + reason)
        t.train_detector.setEnabled(not training)
        t.train_dea.setEnabled(not training and self._dea_installed)
        if not self._dea_installed:
            t.train_dea.setToolTip("Needs the DEA engine (dea_core.dea), not installed in this copy")
        t.evaluate.setEnabled(not busy)
        t.detect.setEnabled(not busy and self.document is not None)
        for action in (t.accept_suggestions, t.reject_suggestions):
            action.setEnabled(not busy and bool(self.pending_suggestions()))

    # work in the worker thread
    def _run_detector_work(self, work, what: str, done) -> None:
        """Run `work(progress, cancel)` in the window's worker thread; `done(result)` on success."""
        worker = DetectorThread(work, self)
        worker.progressed.connect(self.controls.set_progress)
        worker.succeeded.connect(done)
        worker.failed.connect(lambda message: show_error(self, f"{what} failed", message))
        worker.cancelled.connect(lambda: self.statusBar().showMessage(f"{what.capitalize()} cancelled.", 8000))
        worker.finished.connect(self._match_finished)
        self.worker = worker
        self.controls.set_busy(True)
        self.controls.progress.setFormat(f"{what} %p%")
        self._update_actions()
        self.statusBar().showMessage(f"{what.capitalize()}...; Esc cancels.")
        worker.start()

    def prepare_dataset(self) -> None:
        if self.folder is None or self.is_busy():
            return
        dialog = PrepareDialog(self.settings.qsettings, self.folder.folder, self)
        if dialog.exec_() == PrepareDialog.Accepted:
            self._prepare(dialog)

    def _prepare(self, dialog: PrepareDialog) -> None:
        from dea_core.cli.detection_commands import _label_files
        from dea_core.detection.dataset import PrepareOptions, prepare_dataset

        pages, out, overwrite = dialog.pages.path(), dialog.dataset.path(), dialog.overwrite.isChecked()
        try:
            options = PrepareOptions(crops_per_page=dialog.crops.value(), crop_size=dialog.crop_size.value(),
                                     val_fraction=dialog.val_share.value())
            files = _label_files([pages])
        except DeaError as error:
            show_error(self, "cannot prepare", str(error))
            return

        def work(progress, cancel):
            return prepare_dataset(files, out, options, None, overwrite, progress=progress, cancel=cancel)

        def done(dataset) -> None:
            counts = {split: len(dataset.crops[split]) for split in ("train", "val")}
            self.settings.qsettings.setValue("training/train_detector/dataset", str(out))
            show_info(self, "dataset ready", f"{out}: {counts['train']} training and {counts['val']} validation "
                      f"pictures of {len(dataset.classes)} ornaments ({', '.join(dataset.classes)}).\n\n"
                      "Next: Training > Train Detector.")

        self._run_detector_work(work, "preparing the dataset", done)

    def evaluate_detector(self) -> None:
        if self.is_busy():
            return
        dialog = EvaluateDialog(self.settings.qsettings, self)
        if dialog.exec_() == EvaluateDialog.Accepted:
            model, dataset, split = dialog.model.path(), dialog.dataset.path(), dialog.split.currentData()

            def work(progress, cancel):
                from dea_core.detection.assess import evaluate_on_crops
                from dea_core.detection.dataset import load_dataset
                from dea_core.detection.inference import Detector

                return evaluate_on_crops(Detector.from_checkpoint(model), load_dataset(dataset), split,
                                         progress=progress)

            # <pre>: the table's columns line up in a fixed-width font.
            self._run_detector_work(work, "evaluating", lambda report: show_info(
                self, "evaluation", f"<p>{escape(model.name)} on the {split} pictures of {escape(dataset.name)}:</p>"
                f"<pre>{escape(report.table())}</pre>"))

    # training processes
    def train_detector(self) -> None:
        self._ask_and_train(TrainDetectorDialog(self.settings.qsettings, self))

    def train_dea(self) -> None:
        self._ask_and_train(TrainDeaDialog(self.settings.qsettings, self))

    def _ask_and_train(self, dialog: CommandDialog) -> None:
        if not self.training.is_running() and dialog.exec_() == CommandDialog.Accepted:
            self.start_training(dialog.spec())

    def start_training(self, spec: CommandSpec) -> bool:
        """Start `spec` as a detached process and follow it in the panel."""
        if self.training.is_running():
            return False
        self.training_panel.begin(spec)
        try:
            job = self.training.start(spec)
        except DeaError as error:
            self.training_panel.finish(TrainingOutcome("failed", str(error), None))
            return False
        self.settings.qsettings.setValue(JOB_SETTING, str(job.folder))
        self._update_actions()
        self.statusBar().showMessage(f"{spec.title} started in the background; the Training panel follows it.", 8000)
        return True

    def stop_training(self) -> None:
        if self.training.is_running():
            self.training.stop()
            self.training_panel.show_stopping()

    def resume_training(self) -> None:
        if self.training.spec is not None:
            self.start_training(self.training.spec.resumed())

    def reattach_training(self) -> None:
        """At start: follow a run left running when a window closed (or say how it ended)."""
        folder = self.settings.qsettings.value(JOB_SETTING, "")
        if not folder or self.training.is_running():
            return
        job = TrainingJob(Path(folder))
        try:
            spec = job.spec()
        except (OSError, ValueError, KeyError):
            self.settings.qsettings.remove(JOB_SETTING)
            return
        self.training_panel.begin(spec)
        self.training.follow(job)
        self._update_actions()

    def _training_ended(self, outcome: TrainingOutcome) -> None:
        self.settings.qsettings.remove(JOB_SETTING)
        self.training_panel.finish(outcome)
        self._update_actions()
        self.statusBar().showMessage(outcome.message, 15000)

    def confirm_close_training(self) -> bool:
        """Closing the window while training runs: stop it, leave it running, or stay. False: stay."""
        if not self.training.is_running():
            return True
        answer = QMessageBox.question(
            self, f"{APP_NAME}: training is running",
            f"{self.training.spec.title} is still running.\n\nStop it now? The model so far is saved, and Resume in "
            "the Training panel continues it.\n\nNo: leave it running without the window; AutoLabelme follows it "
            "again when you reopen it.", QMessageBox.Yes | QMessageBox.No | QMessageBox.Cancel, QMessageBox.No)
        if answer == QMessageBox.Cancel:
            return False
        if answer == QMessageBox.Yes:
            self.training.stop()
            self.settings.qsettings.remove(JOB_SETTING)
        self.training.detach()
        return True

    # detection on the open page
    def detect_on_page(self) -> None:
        document = self.document
        if document is None or self.is_busy():
            return
        dialog = DetectDialog(self.settings.qsettings, document.image_file or document.source, self)
        if dialog.exec_() != DetectDialog.Accepted:
            return
        model, threshold, device = dialog.model.path(), dialog.threshold.value(), dialog.device.currentData()
        image = document.image

        def work(progress, cancel):
            detector = self._detectors.get(model, device)
            return detector.detect_page(image, threshold, progress=progress, cancel=cancel)

        self._run_detector_work(work, "detecting", lambda found: self._show_suggestions(document, found))

    def _show_suggestions(self, document, found: list) -> None:
        if document is not self.document:
            return
        self._suggestions, self._suggestions_page = suggestions.suggestions_from(found), document
        self.refresh()
        if self._suggestions:
            self.statusBar().showMessage(f"{len(self._suggestions)} suggested boxes (orange, dashed): click one to "
                                         "accept it, Del rejects the selected one. Only accepted boxes are saved.",
                                         15000)
        else:
            self.statusBar().showMessage("The detector found nothing on this page at that score.", 10000)

    def pending_suggestions(self) -> Suggestions:
        """The open page's suggestions not decided yet (none once another page is opened)."""
        return self._suggestions if self._suggestions_page is self.document else ()

    def suggestion_boxes(self) -> list:
        return suggestions.suggestion_boxes(self.pending_suggestions())

    def apply_suggestions(self, review, pending: Suggestions, focus: str | None) -> None:
        """Called by suggestion undo commands."""
        self._suggestions, self._suggestions_page = pending, self.document
        self.apply_review(review, focus)

    def accept_suggestion(self, key: tuple) -> None:
        if not self.is_busy() and key[2] < len(self.pending_suggestions()):
            self._push(suggestions.accept(self._review(), self.pending_suggestions(), key[2], self.apply_suggestions))

    def reject_suggestion(self, key: tuple) -> None:
        if not self.is_busy() and key[2] < len(self.pending_suggestions()):
            self._push(suggestions.reject(self._review(), self.pending_suggestions(), key[2], self.apply_suggestions))

    def accept_all_suggestions(self) -> None:
        if self.pending_suggestions() and not self.is_busy():
            self._push(suggestions.accept_all(self._review(), self.pending_suggestions(), self.apply_suggestions))

    def reject_remaining_suggestions(self) -> None:
        if self.pending_suggestions() and not self.is_busy():
            self._push(suggestions.reject(self._review(), self.pending_suggestions(), None, self.apply_suggestions))

    def describe_suggestion(self, key: tuple) -> str:
        pending = self.pending_suggestions()
        return suggestions.describe(pending[key[2]]) if key[2] < len(pending) else ""
