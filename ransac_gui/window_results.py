"""The window's results: save them, open a saved run again, carry the reference's annotation onto
the aligned sources and open those in AutoLabelme. Mixed into MainWindow."""

from __future__ import annotations

from pathlib import Path

from PyQt5.QtCore import QEventLoop, QStandardPaths, Qt
from PyQt5.QtWidgets import QMainWindow, QMessageBox, QProgressDialog

from dea_core.alignment.saved_runs import read_run, transfer_labels, write_run
from dea_core.errors import DeaError
from dea_core.io.images import image_size, read_image
from dea_core.io.labelme_json import load_label_file
from dea_core.io.safe_folders import check_output_folder, is_bundled, other_files
from ransac_gui import dialogs
from ransac_gui.save_worker import SaveThread
from ransac_gui.scans import AlignedScan, Scan, Status


class ResultsMixin:
    """Needs the MainWindow's scans, settings, scan_list, compare, refresh() and `saver` (None when idle)."""

    def may_drop_results(self, doing: str) -> bool:
        """True when nothing unsaved would be lost by `doing` (asks to save first)."""
        if not self.unsaved:
            return True
        answer = dialogs.ask_save_results(self, doing)
        if answer == QMessageBox.Save:
            return self.save_results()
        return answer == QMessageBox.Discard

    def save_results(self) -> bool:
        """Write every aligned source and the set's pictures into a folder chosen by the person.

        The folder is made when missing; system folders, the home folder itself and the suite's own
        files are refused; a folder already holding files is written into only when the person says
        so. The files are written off the GUI thread, with a progress dialog (see save_worker.py).
        """
        if self.is_busy():
            return False
        outcomes = [s.outcome for s in self.scans.sources]
        if not any(o is not None and o.ok for o in outcomes):
            if self.scans.aligned() and self.saved_to is not None:
                dialogs.show_info(self, "Save Results", f"These results are already saved in {self.saved_to}.")
            else:
                dialogs.show_info(self, "Save Results", "Nothing to save yet: Start Alignment first.")
            return False
        folder = self._choose_save_folder()
        if folder is None:
            return False
        sources = [s.path for s in self.scans.sources]
        reference_path, reference = self.scans.reference, self.reference_image
        save_mapping = self.options_pane.save_mapping.isChecked()
        return self._write_in_thread(lambda progress: write_run(
            reference_path, reference, sources, outcomes, folder, save_mapping=save_mapping, progress=progress),
            folder)

    def _choose_save_folder(self) -> Path | None:
        """Ask for the results folder until it is one we may write into; None when cancelled."""
        proposal = self.saved_to or self._default_output()
        while True:
            chosen = dialogs.choose_output_folder(self, proposal)
            if chosen is None:
                return None
            try:
                folder = check_output_folder(chosen)
                names = other_files(folder)
            except DeaError as error:
                dialogs.show_error(self, "Save Results", str(error))
                proposal = chosen
                continue
            if names and folder != self.saved_to and not dialogs.ask_write_into(self, folder, names):
                proposal = chosen
                continue
            return folder

    def _write_in_thread(self, write, folder: Path) -> bool:
        """Run `write(progress)` in a SaveThread behind a progress dialog; True when it saved."""
        progress = QProgressDialog(f"Saving the results in {folder}\u2026", "", 0, 0, self)
        progress.setWindowTitle(f"{dialogs.APP_NAME}: saving")
        progress.setCancelButton(None)
        progress.setWindowModality(Qt.WindowModal)
        progress.setMinimumDuration(0)
        self.saver = SaveThread(write, self)
        outcome: dict[str, object] = {}
        loop = QEventLoop()

        def step(done: int, total: int) -> None:
            progress.setMaximum(total)
            progress.setValue(done)

        self.saver.progressed.connect(step)
        self.saver.saved.connect(lambda report: outcome.update(report=report))
        self.saver.failed.connect(lambda message: outcome.update(error=message))
        self.saver.finished.connect(loop.quit)
        self.refresh()
        progress.show()
        self.saver.start()
        loop.exec_()
        self.saver.wait()
        self.saver.deleteLater()
        self.saver = None
        progress.close()
        self.refresh()
        if "error" in outcome:
            dialogs.show_error(self, "Save Results", str(outcome["error"]))
            return False
        report = outcome["report"]
        self.saved_to, self.unsaved = folder, False
        self.settings.set_path("last_output", folder)
        self.statusBar().showMessage(f"Saved {len(report.written)} files in {folder}")
        self.refresh()
        return True

    def _default_output(self) -> Path | None:
        """A new folder 'aligned' beside the scans, or in the person's documents for bundled scans."""
        base = self.input_folder or (self.scans.reference.parent if self.scans.reference else None)
        if base is None:
            return None
        if is_bundled(base):
            documents = QStandardPaths.writableLocation(QStandardPaths.DocumentsLocation) or str(Path.home())
            return Path(documents) / f"{base.name}-aligned"
        return base / "aligned"

    def open_results(self) -> None:
        folder = dialogs.choose_folder(self, "A folder of saved results", self.settings.path("last_output"))
        if folder is not None:
            self.open_run(folder)

    def open_run(self, folder: Path) -> bool:
        """Show a saved run: its reference, each source with its quality or error, the aligned pictures."""
        if self.is_busy() or not self.may_drop_results("opening saved results"):
            return False
        try:
            run = read_run(folder)
            reference = read_image(run.reference)
        except DeaError as error:
            dialogs.show_error(self, "Open Results Folder", f"{error}\n\nThe results cannot be shown without "
                               "their reference picture.")
            return False
        self.input_folder = None
        self.scans.set_pictures(run.reference, [pair.source for pair in run.pairs])
        for scan, pair in zip(self.scans.sources, run.pairs):
            _fill_from_saved(scan, pair)
        self._pictures_changed()
        self.saved_to = folder
        self.settings.set_path("last_output", folder)
        self.reference_image = reference
        self.compare.set_reference(reference, run.reference.name)
        for scan in self.scans.sources:
            self.scan_list.update_scan(scan)
        first = next((s for s in self.scans.sources if s.result is not None), None)
        if first is not None:
            self.scan_list.select(first.path)
        self.refresh()
        return True

    def transfer_annotation(self) -> None:
        """Carry a LabelMe file drawn on the reference onto every aligned source (into the results folder)."""
        movable = [s for s in self.scans.aligned() if s.result.mapping is not None]
        if not movable:
            dialogs.show_info(self, "Carry Annotation", "No aligned source with its mapping: Start Alignment "
                              "first (or open results saved with 'Save mappings').")
            return
        start = self.scans.reference.parent if self.scans.reference else None
        path = dialogs.choose_labelme(self, start)
        if path is None:
            return
        try:
            labels = load_label_file(path)
            width, height = image_size(self.scans.reference)
        except DeaError as error:
            dialogs.show_error(self, "Carry Annotation", str(error))
            return
        if (labels.image_width, labels.image_height) not in ((width, height), (None, None)):
            dialogs.show_error(self, "Carry Annotation",
                               f"{path.name} was drawn on a {labels.image_width}x{labels.image_height} picture, but "
                               f"the reference {self.scans.reference.name} is {width}x{height}. Choose the "
                               "annotation of the reference.")
            return
        if self.saved_to is None or self.unsaved:
            dialogs.show_info(self, "Carry Annotation", "The annotations are written beside the saved results: "
                              "choose where to save them first.")
            if not self.save_results():
                return
        try:
            written = transfer_labels(labels, [(s.path, s.result.mapping) for s in movable], self.saved_to)
        except DeaError as error:
            dialogs.show_error(self, "Carry Annotation", str(error))
            return
        self.transferred = dict(zip([s.path for s in movable], written))
        self.refresh()
        self.statusBar().showMessage(f"Carried {len(labels.shapes)} shape(s) onto {len(movable)} source(s), "
                                     f"in {self.saved_to}; Open in AutoLabelme shows them")
        selected = self.scan_list.selected_path()
        if selected not in self.transferred:
            self.scan_list.select(movable[0].path)

    def open_in_autolabelme(self) -> QMainWindow | None:
        """The selected source's carried annotation in an AutoLabelme window (this process)."""
        path = self.transferred.get(self.scan_list.selected_path()) or next(iter(self.transferred.values()), None)
        if path is None:
            dialogs.show_info(self, "Open in AutoLabelme", "Carry an annotation to the sources first.")
            return None
        window = self.new_autolabelme_window()
        self.autolabelme_windows.append(window)
        window.show()
        window.open_path(path)
        return window

    def new_autolabelme_window(self) -> QMainWindow:
        from autolabelme.main_window import MainWindow as AutoLabelmeWindow  # only when asked for

        return AutoLabelmeWindow()


def _fill_from_saved(scan: Scan, pair) -> None:
    if not pair.ok:
        scan.status, scan.error = Status.FAILED, pair.error or "not aligned in the saved run"
        return
    try:
        saved = pair.load()
    except DeaError as error:
        scan.status, scan.error = Status.FAILED, f"saved files unreadable: {error}"
        return
    scan.status, scan.progress = Status.ALIGNED, 1.0
    scan.result = AlignedScan(saved.aligned, saved.confidence, saved.inside, saved.mapping, pair.quality,
                              saved.observed)
