"""The window's files: open a page or a folder, save JSON and images, autosave and recovery,
the round trip through LabelMe. A mixin of MainWindow (main_window.py)."""

from __future__ import annotations

from pathlib import Path

from PyQt5.QtCore import QStandardPaths
from PyQt5.QtWidgets import QFileDialog

from autolabelme.autosave import Autosave, write_quietly
from autolabelme.box_items import boxes_text
from autolabelme.brightness import NEUTRAL
from autolabelme.dialogs import ask_recover, ask_reload, ask_save_changes, show_error, show_info
from autolabelme.document import PageDocument
from autolabelme.folder import FolderSession, pages_in_folder
from autolabelme.page_view import Mode, pixmap_from_bgr
from dea_core.errors import DeaError, MatchOptionsError
from dea_core.io.labelme_json import IMAGE_SUFFIXES
from dea_core.matching.review import LabelReview

PAGE_FILTER = "Pages (*.json " + " ".join(f"*{s}" for s in IMAGE_SUFFIXES) + ");;All files (*)"


class PageFilesMixin:
    """Opening, saving and recovering pages for MainWindow."""

    def choose_file(self) -> None:
        start = str(self.settings.last_folder() or Path.home())
        path, _ = QFileDialog.getOpenFileName(self, "Open a page", start, PAGE_FILTER)
        if path:
            self.open_path(Path(path))

    def choose_folder(self) -> None:
        start = str(self.settings.last_folder() or Path.home())
        folder = QFileDialog.getExistingDirectory(self, "Open a folder of pages", start)
        if folder:
            self.open_folder(Path(folder))

    def open_path(self, path: Path) -> bool:
        """Open a page (LabelMe JSON or picture) or a folder; False if it was not opened."""
        path = Path(path)
        if path.is_dir():
            return self.open_folder(path)
        if self.is_busy() or not self.maybe_save():
            return False
        opened = self._load(path)
        if opened:
            self.folder = None
            self.library.clear()
            self._update_actions()
            self._update_title()
        return opened

    def open_folder(self, folder: Path) -> bool:
        folder = Path(folder)
        if self.is_busy():
            return False
        try:
            pages = pages_in_folder(folder)
        except OSError as error:
            show_error(self, "cannot open folder", f"{folder}: cannot be read ({error.strerror or error})")
            return False
        if not pages:
            show_error(self, "no pages", f"{folder}: no pictures or LabelMe JSON files in this folder")
            return False
        if not self.maybe_save():
            return False
        self.settings.set_last_folder(folder)
        self.folder = FolderSession(folder, pages)
        self.library.clear()
        self._load(pages[0], in_folder=True)
        self._update_actions()
        self._update_title()
        return True

    def next_page(self) -> None:
        self._step_page(+1)

    def previous_page(self) -> None:
        self._step_page(-1)

    def go_to_page(self, index: int) -> None:
        """Folder mode: open the folder's page number `index` (the file list's click)."""
        if self.folder is not None and index != self.folder.index:
            self._step_page(index - self.folder.index)
        elif self.folder is not None:
            self.refresh()  # the list's selection back on the open page

    def _step_page(self, step: int) -> None:
        folder = self.folder
        if folder is None or self.is_busy() or not 0 <= folder.index + step < len(folder.pages):
            return
        if not self.maybe_save():
            return
        self._learn_templates()
        folder.index += step
        if not self._load(folder.current, in_folder=True):
            self._set_document(None)
        self._update_actions()
        self._update_title()

    def _load(self, path: Path, in_folder: bool = False) -> bool:
        try:
            document = PageDocument.open(path)
        except DeaError as error:
            show_error(self, "cannot open", str(error))
            return False
        document = self._offer_autosave_of(document)
        if document is None:
            return False
        self._set_document(document, in_folder)
        self.settings.add_recent(path)
        self.settings.set_last_folder(Path(path).absolute().parent)
        if document.bundled:
            self.statusBar().showMessage("This is the bundled sample, read-only: Save (Ctrl+S) asks where to keep "
                                         "your copy.", 15000)
        return True

    def _offer_autosave_of(self, document: PageDocument) -> PageDocument | None:
        autosave = self.autosaves.find(self._autosave_key(document))
        if autosave is None:
            return document
        try:
            newer = autosave.saved_at > document.source.stat().st_mtime
        except OSError:
            newer = True
        if not newer:
            self.autosaves.discard(autosave.source)
            return document
        if not ask_recover(self, autosave.describe()):
            self.autosaves.discard(autosave.source)
            return document
        return self._recovered(autosave) or document

    def _recovered(self, autosave: Autosave) -> PageDocument | None:
        try:
            return PageDocument.recover(autosave.path, autosave.source, autosave.json_path)
        except DeaError as error:
            show_error(self, "cannot recover", f"{error}\n\nThe autosaved copy is kept in {autosave.path}.")
            return None

    def offer_recovery(self) -> bool:
        """At start: offer each page autosaved by a session that ended without saving; True if one opened."""
        for autosave in self.autosaves.pending():
            if not ask_recover(self, autosave.describe()):
                self.autosaves.discard(autosave.source)
                continue
            document = self._recovered(autosave)
            if document is not None:
                self.folder = None
                self._set_document(document)
                self._update_title()
                return True
        return False

    def _set_document(self, document: PageDocument | None, in_folder: bool = False) -> None:
        self.document = document
        self.undo_stack.clear()
        self.current_label = None
        self.hidden_labels.clear()
        pixmap = pixmap_from_bgr(document.image) if document is not None else None
        self.page_view.set_page(pixmap)
        if document is not None and self.brightness != (NEUTRAL, NEUTRAL):  # kept from page to page
            self.set_brightness(*self.brightness)
        self.overview.set_page(pixmap)
        self._set_mode(Mode.BROWSE)
        if document is not None:
            if in_folder:
                self._learn_templates()
                for label in self.library.labels():
                    if label not in document.review:
                        carried = self.library.get(label)
                        document.review = document.review.replaced(LabelReview(label, carried.note))
            self.current_label = document.review.labels[0].label if document.review.labels else None
        self.refresh()
        if document is None:
            return
        if not document.review.labels:
            self.statusBar().showMessage("Press T, then drag a box around one ornament of each kind.", 15000)
        elif self.current_entry() is not None and not self.current_entry().matched:
            self.statusBar().showMessage(f"Press Return to find every occurrence of {self.current_label} "
                                         "(Rematch), or N to match label by label.", 15000)

    def _learn_templates(self) -> None:
        """Folder mode: remember this page's template pictures for the other pages."""
        if self.folder is None or self.document is None:
            return
        for entry in self.document.review.labels:
            if entry.templates:
                self.library.learn(entry.label, entry.note, self.document.template_crops(entry.label),
                                   self.document.name)

    def maybe_save(self) -> bool:
        """Before the page is replaced or the window closes: True to go on."""
        if not self.is_modified():
            return True
        answer = ask_save_changes(self, self.document.name)
        if answer == "save":
            return self.save_json()
        if answer == "discard":
            self.autosaves.discard(self._autosave_key(self.document))
            return True
        return False

    def save_json(self) -> bool:
        if self.document is None:
            return False
        if self.document.json_path is None:
            return self.save_json_as()
        return self._save_to(self.document.json_path)

    def save_json_as(self, path: Path | None = None) -> bool:
        if self.document is None:
            return False
        if path is None:
            default = self.document.json_path or self.document.source.with_suffix(".json")
            if self.document.bundled:  # the sample is read-only: the copy goes in a folder of the person's
                default = _documents_folder() / default.name
            chosen, _ = QFileDialog.getSaveFileName(self, "Save LabelMe JSON", str(default), "LabelMe JSON (*.json)")
            if not chosen:
                return False
            path = Path(chosen)
        return self._save_to(path)

    def _save_to(self, path: Path) -> bool:
        document = self.document
        old_key = self._autosave_key(document)
        try:
            saved = document.save_json(path)
        except DeaError as error:
            show_error(self, "cannot save", str(error))
            return False
        self.autosaves.discard(old_key)
        self.autosaves.discard(saved)
        self.undo_stack.setClean()
        if self.folder is not None:
            self.folder.replace_current(saved)
        self.settings.add_recent(saved)
        self._update_title()
        self.statusBar().showMessage(f"Saved {saved} ({boxes_text(document.review.total())}).", 8000)
        return True

    def save_images(self, folder: Path | None = None) -> bool:
        document = self.document
        if document is None:
            return False
        if document.review.total() == 0:
            show_info(self, "Save Images", "There is no box to save yet: match a label first (Return).")
            return False
        if folder is None:
            start = (document.json_path or document.source).parent / f"{document.stem}_crops"
            if document.bundled and document.json_path is None:
                start = _documents_folder() / start.name
            chosen = QFileDialog.getExistingDirectory(self, "Folder for the cut-out ornaments", str(start.parent))
            if not chosen:
                return False
            folder = Path(chosen)
        try:
            written = document.save_crops(folder)
        except DeaError as error:
            show_error(self, "cannot save images", str(error))
            return False
        self.statusBar().showMessage(f"Saved {len(written)} pictures in {folder}, a folder per label.", 8000)
        return True

    def _autosave_key(self, document: PageDocument) -> Path:
        return document.json_path or document.source

    def autosave_now(self) -> None:
        """Keep a copy of unsaved changes where a crash cannot take them (see autosave.py)."""
        document = self.document
        if document is None or not self.is_modified():
            return
        problem = write_quietly(self.autosaves, self._autosave_key(document), document.json_path,
                                document.label_file())
        if problem:
            self.statusBar().showMessage(f"Autosave failed: {problem}", 8000)

    def _fill_recent_menu(self) -> None:
        self.recent_menu.clear()
        recent = self.settings.recent_files()
        for path in recent:
            self.recent_menu.addAction(str(path), lambda path=path: self._open_recent(path))
        if not recent:
            self.recent_menu.addAction("(none yet)").setEnabled(False)

    def _open_recent(self, path: Path) -> None:
        if not path.exists():
            self.settings.forget_recent(path)
            show_error(self, "cannot open", f"{path}: file not found (removed from the recent files)")
            return
        self.open_path(path)

    def _remember_search_settings(self) -> None:
        try:
            self.settings.set_search_settings(self.controls.search_settings())
        except MatchOptionsError:
            pass  # a half-typed number; it is checked again when matching starts

    # LabelMe
    def open_in_labelme(self) -> None:
        document = self.document
        if document is None or self.is_busy():
            return
        needs_save = self.is_modified() or document.json_path is None or not document.json_path.exists()
        if needs_save and not self.save_json():
            return
        path = document.json_path
        self._labelme_stamp = _stamp(path)
        if self.labelme.launch(path):
            self.statusBar().showMessage(f"LabelMe is open on {path.name}; AutoLabelme reloads it when LabelMe "
                                         "closes.")

    def _labelme_closed(self, path: str) -> None:
        document = self.document
        if document is None or document.json_path != Path(path):
            return
        if _stamp(Path(path)) == self._labelme_stamp:
            self.statusBar().showMessage("LabelMe closed without changing the page.", 8000)
            return
        if self.is_modified() and not ask_reload(self, Path(path).name):
            return
        in_folder = self.folder is not None
        if self._load(Path(path), in_folder=in_folder):
            self.statusBar().showMessage(f"Reloaded {Path(path).name} as LabelMe saved it.", 8000)


def _documents_folder() -> Path:
    """The person's documents folder (their home when the desktop names none)."""
    return Path(QStandardPaths.writableLocation(QStandardPaths.DocumentsLocation) or Path.home())


def _stamp(path: Path) -> tuple[float, int] | None:
    try:
        status = path.stat()
    except OSError:
        return None
    return status.st_mtime, status.st_size
