"""The RANSAC GUI's main window: pictures on the left, the compare view on the right.

Choose a folder (its last picture in name order is the reference) or a reference and sources by
hand, Start Alignment (a QThread; Cancel keeps the sources already aligned), look at each source
against the reference, then Save Results; see docs/ransac_gui.md.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
from PyQt5.QtCore import QSettings, Qt, QUrl
from PyQt5.QtGui import QCloseEvent, QDesktopServices, QKeySequence
from PyQt5.QtWidgets import (
    QAction,
    QApplication,
    QHBoxLayout,
    QLabel,
    QMainWindow,
    QProgressBar,
    QPushButton,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from dea_core.alignment.job import folder_inputs
from dea_core.alignment.pipeline import PairOutcome
from dea_core.errors import DeaError
from dea_core.io.images import image_size
from dea_core.paths import RESOURCES
from ransac_gui import dialogs
from ransac_gui.align_worker import AlignThread
from ransac_gui.compare_view import MODES, CompareView
from ransac_gui.options_pane import OptionsPane
from ransac_gui.scan_list import ScanList
from ransac_gui.scans import AlignedScan, Scan, ScanSet, Status
from ransac_gui.settings import RansacSettings
from ransac_gui.window_results import ResultsMixin

APP_NAME = dialogs.APP_NAME
SAMPLE_PAIR = RESOURCES / "sample_pair"
GUIDE = Path(__file__).resolve().parents[1] / "docs" / "ransac_gui.md"
OVERALL_STEPS = 1000
# The left column never narrows below this, so the scans' names stay readable in every view.
LEFT_COLUMN_WIDTH = 420


class MainWindow(ResultsMixin, QMainWindow):
    """Align a folder of scans to a reference and compare them (the original RANSAC window, grown)."""

    def __init__(self, settings: QSettings | None = None, folder: str | Path | None = None) -> None:
        super().__init__()
        self.settings = RansacSettings(settings)
        self.scans = ScanSet()
        self.reference_image: np.ndarray | None = None
        self.worker: AlignThread | None = None
        self.saver = None  # a SaveThread while Save Results writes
        self.batch: list[Path] = []
        self.input_folder: Path | None = None
        self.saved_to: Path | None = None
        self.unsaved = False
        self.transferred: dict[Path, Path] = {}
        self.autolabelme_windows: list[QMainWindow] = []
        self._started = 0.0

        self.scan_list = ScanList()
        self.compare = CompareView()
        self.options_pane = OptionsPane()
        self.options_pane.set_options(self.settings.options())
        mode, opacity = self.settings.compare()
        self.compare.opacity.setValue(opacity)
        self.compare.set_mode(mode)
        self._build_actions()
        self._build_layout()
        self._build_menus()
        self.scan_list.source_selected.connect(self.show_source)
        self.scan_list.reference_chosen.connect(self.make_reference)
        geometry = self.settings.geometry()
        if geometry is not None:
            self.restoreGeometry(geometry)
        else:
            self.resize(1280, 800)
        self.refresh()
        if folder is not None:
            self.open_folder(Path(folder))

    # layout
    def _build_actions(self) -> None:
        def action(text: str, slot, shortcut=None, tip: str = "") -> QAction:
            made = QAction(text, self)
            if shortcut is not None:
                made.setShortcut(QKeySequence(shortcut))
            made.setStatusTip(tip or text.replace("&", ""))
            made.setToolTip(made.statusTip())
            made.triggered.connect(lambda _checked=False: slot())
            self.addAction(made)
            return made

        self.choose_folder_action = action("Choose &Folder...", self.choose_folder, QKeySequence.Open,
                                           "A folder of scans: the last picture in name order is the reference")
        self.choose_reference_action = action("Choose &Target (Reference)...", self.choose_reference, None,
                                              "The picture every source is laid onto")
        self.add_sources_action = action("Choose &Source(s)...", self.add_sources, None,
                                         "Add one or more pictures to align onto the reference")
        self.open_sample_action = action("Open the Sample &Pair", lambda: self.open_folder(SAMPLE_PAIR), None,
                                         "Two 1616 printings of one headpiece, bundled for a first try")
        self.start_action = action("S&tart Alignment", self.start_alignment, "Ctrl+Return",
                                   "Align every source onto the reference")
        self.cancel_action = action("&Cancel", self.cancel_alignment, Qt.Key_Escape,
                                    "Stop aligning; the sources already aligned are kept")
        self.save_action = action("Sa&ve Results...", self.save_results, QKeySequence.Save,
                                  "Write the aligned pictures, mappings, average, difference and GIF into a folder")
        self.open_run_action = action("&Open Results Folder...", self.open_results, "Ctrl+Shift+O",
                                      "Look again at a folder written by Save Results or 'dea align'")
        self.transfer_action = action("Carry &Annotation to Sources...", self.transfer_annotation, None,
                                      "Place the reference's LabelMe boxes on every aligned source")
        self.autolabelme_action = action("Open in Auto&Labelme", self.open_in_autolabelme, "Ctrl+L",
                                         "Open the selected source with its carried boxes in AutoLabelme")
        self.quit_action = action("&Quit", self.close, QKeySequence.Quit)
        self.guide_action = action("RANSAC GUI &Guide", self.open_guide, QKeySequence.HelpContents)
        self.mode_actions = [action(f"&{i}  {text}", lambda key=key: self.compare.set_mode(key), str(i))
                             for i, (key, text) in enumerate(MODES.items(), start=1)]
        self.fit_action = action("&Fit", self.compare.right_view.fit, "F", "Show the whole picture")

    def _build_layout(self) -> None:
        buttons = QVBoxLayout()
        for row in ((self.choose_folder_action,), (self.choose_reference_action, self.add_sources_action),
                    (self.start_action, self.cancel_action), (self.save_action, self.open_run_action)):
            line = QHBoxLayout()
            for act in row:
                line.addWidget(_button_for(act))
            buttons.addLayout(line)
        self.start_button = buttons.itemAt(2).layout().itemAt(0).widget()
        self.start_button.setStyleSheet("font-weight: bold")
        self.progress = QProgressBar()
        self.progress.setRange(0, OVERALL_STEPS)
        self.progress.setFormat("all sources: %p%")
        self.hint = QLabel()
        self.hint.setWordWrap(True)
        left = QWidget()
        column = QVBoxLayout(left)
        column.addLayout(buttons)
        column.addWidget(self.progress)
        column.addWidget(self.hint)
        column.addWidget(self.scan_list, 1)
        column.addWidget(self.options_pane)
        # Never narrower than its buttons' labels (a fixed width clipped 'Choose Target (Reference)...').
        left.setMinimumWidth(max(LEFT_COLUMN_WIDTH, left.minimumSizeHint().width()))
        splitter = QSplitter(Qt.Horizontal)
        splitter.addWidget(left)
        splitter.addWidget(self.compare)
        splitter.setStretchFactor(1, 1)
        splitter.setSizes([480, 800])
        self.setCentralWidget(splitter)

    def _build_menus(self) -> None:
        bar = self.menuBar()
        file_menu = bar.addMenu("&File")
        file_menu.addActions([self.choose_folder_action, self.choose_reference_action, self.add_sources_action,
                              self.open_sample_action])
        file_menu.addSeparator()
        file_menu.addActions([self.save_action, self.open_run_action])
        file_menu.addSeparator()
        file_menu.addAction(self.quit_action)
        align_menu = bar.addMenu("&Align")
        align_menu.addActions([self.start_action, self.cancel_action])
        labels_menu = bar.addMenu("A&nnotations")
        labels_menu.addActions([self.transfer_action, self.autolabelme_action])
        view_menu = bar.addMenu("&View")
        view_menu.addActions([*self.mode_actions, self.fit_action])
        bar.addMenu("&Help").addAction(self.guide_action)

    # state shown
    def is_busy(self) -> bool:
        return self.worker is not None or self.saver is not None

    def refresh(self) -> None:
        busy = self.is_busy()
        ready = self.scans.reference is not None and bool(self.scans.sources)
        for act in (self.choose_folder_action, self.choose_reference_action, self.add_sources_action,
                    self.open_sample_action, self.open_run_action, self.save_action, self.transfer_action):
            act.setEnabled(not busy)
        self.start_action.setEnabled(ready and not busy)
        self.cancel_action.setEnabled(busy)
        has_aligned = bool(self.scans.aligned())
        self.save_action.setEnabled(not busy and has_aligned)
        self.transfer_action.setEnabled(not busy and any(s.result and s.result.mapping is not None
                                                         for s in self.scans.aligned()))
        self.autolabelme_action.setEnabled(bool(self.transferred))
        self.options_pane.setEnabled(not busy)
        self.scan_list.set_busy(busy)
        self.hint.setText(self._hint())
        where = self.input_folder or (self.scans.reference.parent if self.scans.reference else None)
        title = APP_NAME if where is None else f"{APP_NAME} - {where}"
        self.setWindowTitle(title + (" *" if self.unsaved else ""))

    def _hint(self) -> str:
        if self.is_busy():
            if self.saver is not None:
                return "Saving the results\u2026"
            return "Aligning\u2026 the window stays usable; Cancel keeps what is done."
        if self.scans.reference is None:
            return ("Start with Choose Folder (the last picture in name order becomes the reference) "
                    "or File > Open the Sample Pair.")
        if not self.scans.sources:
            return "Add the pictures to align with Choose Source(s)."
        if not self.scans.has_results():
            return f"Press Start Alignment to lay {len(self.scans.sources)} source(s) onto the reference."
        if self.unsaved:
            return "Click a source to compare it. Save Results writes the aligned pictures."
        return f"Saved in {self.saved_to}." if self.saved_to else "Click a source to compare it."

    # choosing pictures
    def choose_folder(self) -> None:
        folder = dialogs.choose_folder(self, "Folder of scans", self.settings.path("last_folder"))
        if folder is not None:
            self.open_folder(folder)

    def open_folder(self, folder: Path) -> bool:
        """Take the pictures of `folder`, the last in name order as the reference."""
        if self.is_busy() or not self.may_drop_results("opening another folder"):
            return False
        try:
            reference, sources = folder_inputs(Path(folder))
        except DeaError as error:
            dialogs.show_error(self, "Choose Folder", str(error))
            return False
        self.input_folder = Path(folder)
        self.settings.set_path("last_folder", self.input_folder)
        self._set_pictures(reference, sources)
        return True

    def choose_reference(self) -> None:
        path = dialogs.choose_picture(self, "Reference picture (target)", self._start_folder())
        if path is None or not self._readable(path, "Choose Target") or not self.may_drop_results("changing the reference"):
            return
        sources = [s.path for s in self.scans.sources if s.path != path]
        self._set_pictures(path, sources)

    def add_sources(self) -> None:
        paths = dialogs.choose_pictures(self, "Pictures to align onto the reference", self._start_folder())
        readable = [p for p in paths if self._readable(p, "Choose Source")]
        if readable:
            self.scans.add_sources(readable)
            self.settings.set_path("last_folder", readable[0].parent)
            self.scan_list.show_scans(self.scans)
            self.refresh()

    def make_reference(self, path: Path) -> None:
        """The list's 'Make reference': `path` becomes the reference, the old one a source."""
        if self.is_busy() or not self.may_drop_results("changing the reference"):
            return
        self.scans.make_reference(path)
        self._pictures_changed()

    def _set_pictures(self, reference: Path, sources: list[Path]) -> None:
        self.scans.set_pictures(reference, sources)
        self._pictures_changed()

    def _pictures_changed(self) -> None:
        self.reference_image = None
        self.saved_to = None
        self.unsaved = False
        self.transferred.clear()
        self.progress.setValue(0)
        self.compare.set_reference(None)
        self.scan_list.show_scans(self.scans)
        self.refresh()

    def _readable(self, path: Path, title: str) -> bool:
        try:
            image_size(path)
        except DeaError as error:
            dialogs.show_error(self, title, str(error))
            return False
        return True

    def _start_folder(self) -> Path | None:
        return self.input_folder or self.settings.path("last_folder")

    # aligning
    def start_alignment(self) -> None:
        if self.is_busy() or self.scans.reference is None or not self.scans.sources:
            return
        if not self.may_drop_results("aligning again"):
            return
        options = self.options_pane.options()
        self.settings.set_options(options)
        self.scans.clear_results()
        self.saved_to, self.unsaved = None, False
        self.transferred.clear()
        self.batch = [s.path for s in self.scans.sources]
        self.compare.set_reference(None)
        self.worker = AlignThread(self.scans.reference, self.batch, options.align_options(), self)
        self.worker.reference_read.connect(self._reference_read)
        self.worker.image_progress.connect(self._image_progress)
        self.worker.aligned_one.connect(self._aligned_one)
        self.worker.finished_batch.connect(lambda: self._batch_ended("done"))
        self.worker.cancelled.connect(lambda: self._batch_ended("cancelled"))
        self.worker.failed.connect(self._batch_failed)
        self.scans.sources[0].status = Status.ALIGNING
        self.scan_list.show_scans(self.scans)
        self.progress.setValue(0)
        self._started = time.perf_counter()
        self.worker.start()
        self.statusBar().showMessage(f"Aligning {len(self.batch)} source(s) onto {self.scans.reference.name}\u2026")
        self.refresh()

    def cancel_alignment(self) -> None:
        if self.worker is not None:
            self.worker.cancel()
            self.statusBar().showMessage("Cancelling after the current step\u2026")

    def _scan(self, index: int) -> Scan | None:
        if index >= len(self.batch):
            return None
        return next((s for s in self.scans.sources if s.path == self.batch[index]), None)

    def _reference_read(self, image: np.ndarray) -> None:
        self.reference_image = image
        self.compare.set_reference(image, self.scans.reference.name if self.scans.reference else "")

    def _image_progress(self, index: int, fraction: float) -> None:
        scan = self._scan(index)
        if scan is None or scan.status not in (Status.WAITING, Status.ALIGNING):
            return
        scan.status, scan.progress = Status.ALIGNING, fraction
        self.scan_list.update_scan(scan)
        self.progress.setValue(int(OVERALL_STEPS * (index + fraction) / len(self.batch)))

    def _aligned_one(self, index: int, outcome: PairOutcome) -> None:
        scan = self._scan(index)
        if scan is None:
            return
        scan.outcome = outcome
        scan.progress = 1.0
        if outcome.alignment is not None:
            a = outcome.alignment
            scan.status = Status.ALIGNED
            scan.result = AlignedScan(a.aligned, a.confidence, a.inside, a.mapping, a.quality, a.observed)
            self.unsaved = True
        else:
            scan.status, scan.error = Status.FAILED, outcome.error or "not aligned"
        self.scan_list.update_scan(scan)
        following = self._scan(index + 1)
        if following is not None:
            following.status = Status.ALIGNING
            self.scan_list.update_scan(following)
        self.progress.setValue(int(OVERALL_STEPS * (index + 1) / len(self.batch)))
        if scan.result is not None and self.compare.source is None:
            self.scan_list.select(scan.path)
        elif self.scan_list.selected_path() == scan.path:
            self.show_source(scan.path)
        self.refresh()

    def _batch_ended(self, how: str) -> None:
        self._finish_worker()
        for scan in self.scans.sources:
            if scan.status in (Status.WAITING, Status.ALIGNING):
                scan.status, scan.progress = Status.CANCELLED, 0.0
                self.scan_list.update_scan(scan)
        aligned = sum(s.status is Status.ALIGNED for s in self.scans.sources)
        failed = sum(s.status is Status.FAILED for s in self.scans.sources)
        seconds = time.perf_counter() - self._started
        text = f"Aligned {aligned} of {len(self.batch)} source(s)"
        if failed:
            text += f", {failed} failed (see the list)"
        text += " (cancelled)" if how == "cancelled" else f" in {seconds:.1f} s"
        self.statusBar().showMessage(text)
        self.refresh()

    def _batch_failed(self, message: str) -> None:
        self._finish_worker()
        for scan in self.scans.sources:
            if scan.status is Status.ALIGNING:
                scan.status = Status.WAITING
        self.scan_list.show_scans(self.scans)
        self.refresh()
        dialogs.show_error(self, "Start Alignment", message)

    def _finish_worker(self) -> None:
        if self.worker is not None:
            self.worker.wait()
            self.worker.deleteLater()
            self.worker = None

    def wait_for_alignment(self) -> None:
        """Block until the batch has ended and its signals were handled (closing, tests)."""
        if self.worker is not None:
            self.worker.wait()
        QApplication.processEvents()

    # comparing
    def show_source(self, path: Path | None) -> None:
        scan = next((s for s in self.scans.sources if s.path == path), None)
        if scan is None or scan.result is None:
            message = ""
            if scan is not None and scan.status is Status.FAILED:
                message = f"{scan.path.name} could not be aligned:\n{scan.error}"
            elif scan is not None:
                message = f"{scan.path.name}: {scan.describe()}. Start Alignment to compare it with the reference."
            elif path == self.scans.reference and path is not None:
                message = "This is the reference. Select a source to compare it with the reference."
            self.compare.set_source(None, message=message)
            return
        self.compare.set_source(scan.result, scan.path.name)
        self.statusBar().showMessage(f"{scan.path.name}: {scan.describe()}")

    # help and closing
    def open_guide(self) -> None:
        if GUIDE.is_file():
            QDesktopServices.openUrl(QUrl.fromLocalFile(str(GUIDE)))
        else:
            dialogs.show_info(self, "Guide", "The guide (docs/ransac_gui.md) is not installed with this copy.")

    def closeEvent(self, event: QCloseEvent) -> None:
        if self.worker is not None:
            if not dialogs.ask_yes_no(self, "Aligning", "An alignment is running. Stop it and close?"):
                event.ignore()
                return
            self.worker.cancel()
            self.wait_for_alignment()
            self._finish_worker()
        if not self.may_drop_results("closing"):
            event.ignore()
            return
        self.settings.set_options(self.options_pane.options())
        self.settings.set_compare(self.compare.mode, self.compare.opacity.value())
        self.settings.set_geometry(self.saveGeometry())
        self.settings.sync()
        event.accept()


def _button_for(action: QAction) -> QPushButton:
    """A push button that mirrors `action` (text, tooltip, enabled) and triggers it."""
    button = QPushButton(action.text().replace("&", ""))
    button.setToolTip(action.toolTip())
    button.clicked.connect(action.trigger)
    action.changed.connect(lambda: button.setEnabled(action.isEnabled()))
    button.setEnabled(action.isEnabled())
    return button
