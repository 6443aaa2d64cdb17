"""The window's results: save them, open a saved run again, carry the reference's annotation onto
the aligned sources and open those in AutoLabelme. Mixed into MainWindow."""

from __future__ import annotations

from pathlib import Path

from PyQt5.QtCore import Qt
from PyQt5.QtWidgets import QApplication, QMainWindow, QMessageBox

from dea_core.alignment.saved_runs import SUMMARY_NAME, read_run, transfer_labels, write_run
from dea_core.errors import DeaError
from dea_core.io.images import image_size, read_image
from dea_core.io.labelme_json import load_label_file
from ransac_gui import dialogs
from ransac_gui.scans import AlignedScan, Scan, Status


class ResultsMixin:
    """Needs the MainWindow's scans, settings, scan_list, compare and refresh()."""

    def may_drop_results(self, doing: str) -> bool:
        """True when nothing unsaved would be lost by `doing` (asks to save first)."""
        if not self.unsaved:
            return True
        answer = dialogs.ask_save_results(self, doing)
        if answer == QMessageBox.Save:
            return self.save_results()
        return answer == QMessageBox.Discard

    def save_results(self) -> bool:
        """Write every aligned source and the set's pictures into a folder chosen by the person."""
        if self.is_busy():
            return False
        outcomes = [s.outcome for s in self.scans.sources]
        if not any(o is not None and o.ok for o in outcomes):
            if self.scans.aligned() and self.saved_to is not None:
                dialogs.show_info(self, "Save Results", f"These results are already saved in {self.saved_to}.")
            else:
                dialogs.show_info(self, "Save Results", "Nothing to save yet: Start Alignment first.")
            return False
        start = self.saved_to or self.settings.path("last_output") or self._default_output()
        folder = dialogs.choose_folder(self, "Save the aligned pictures into", start)
        if folder is None:
            return False
        if folder != self.saved_to and (folder / SUMMARY_NAME).exists() and not dialogs.ask_yes_no(
                self, "Save Results", f"{folder} already holds saved results. Replace their files?"):
            return False
        sources = [s.path for s in self.scans.sources]
        QApplication.setOverrideCursor(Qt.WaitCursor)
        try:
            report = write_run(self.scans.reference, self.reference_image, sources, outcomes, folder,
                               save_mapping=self.options_pane.save_mapping.isChecked())
        except DeaError as error:
            dialogs.show_error(self, "Save Results", str(error))
            return False
        finally:
            QApplication.restoreOverrideCursor()
        self.saved_to, self.unsaved = folder, False
        self.settings.set_path("last_output", folder)
        self.statusBar().showMessage(f"Saved {len(report.written)} files in {folder}")
        self.refresh()
        return True

    def _default_output(self) -> Path | None:
        base = self.input_folder or (self.scans.reference.parent if self.scans.reference else None)
        return base / "aligned" if base is not None else None

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
