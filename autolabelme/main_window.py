"""The AutoLabelme window: the page on the left, the controls top right, the overview bottom right.

The window holds widgets, actions and the matching thread; the page's state is a PageReview
(dea_core.matching.review) changed only through undo commands, and all matching is the engine's.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
from PyQt5.QtCore import QPointF, QRectF, QSettings, QStandardPaths, Qt, QTimer, QUrl
from PyQt5.QtGui import QCloseEvent, QDesktopServices, QKeySequence
from PyQt5.QtWidgets import (
    QAction,
    QDockWidget,
    QFrame,
    QLabel,
    QMainWindow,
    QScrollArea,
    QSplitter,
    QStyle,
    QToolBar,
    QUndoStack,
)

from autolabelme import commands
from autolabelme.actions import build_actions, shortcut_text
from autolabelme.autosave import AUTOSAVE_INTERVAL_MS, AutosaveStore
from autolabelme.box_items import (
    REJECTED_COLOUR,
    TEMPLATE_COLOUR,
    BoxSpec,
    BoxStyle,
    boxes_text,
    match_colour,
    pose_name,
)
from autolabelme.brightness import NEUTRAL, BrightnessDialog, adjusted
from autolabelme.controls import ControlsPane
from autolabelme.dialogs import (
    APP_NAME,
    ShortcutsDialog,
    ask_template_name,
    show_error,
    show_info,
)
from autolabelme.docks import FileList, ShapeList
from autolabelme.document import PageDocument
from autolabelme.folder import FolderSession, TemplateLibrary
from autolabelme.label_list import LabelList
from autolabelme.labelme_launcher import LabelmeLauncher
from autolabelme.match_worker import MatchThread
from autolabelme.overview import OverviewView
from autolabelme.page_view import Mode, PageView, pixmap_from_bgr
from autolabelme.settings import AppSettings
from autolabelme.training_menu import TrainingMixin
from autolabelme.window_anomalies import AnomalyMixin
from autolabelme.window_files import PageFilesMixin
from autolabelme.window_matching import MatchingMixin
from dea_core.errors import MatchOptionsError
from dea_core.matching.poses import Pose
from dea_core.matching.result import Match
from dea_core.matching.review import ADDED, LabelReview, PageReview, box_quad, lies_on_template

GUIDE = Path(__file__).resolve().parents[1] / "docs" / "autolabelme.md"
EMPTY_HINT = ("Open a page: File > Open (Ctrl+O), a LabelMe JSON or a scanned picture,\n"
              "or a folder of pages: File > Open Folder (Ctrl+Shift+O).")
# A box key: ("template", label, index) or ("match", label, (kind, index)).
BoxKey = tuple
# Duplicate Box puts the copy this far (page pixels) right of and below the box.
DUPLICATE_OFFSET = 12.0


def _open_ransac_gui() -> None:
    from ransac_gui.app import open_window  # imported when asked for: the alignment engine loads torch

    open_window()


def default_autosave_folder() -> Path:
    return Path(QStandardPaths.writableLocation(QStandardPaths.AppDataLocation)) / "autosave"


class MainWindow(PageFilesMixin, MatchingMixin, TrainingMixin, AnomalyMixin, QMainWindow):
    """Open pages, draw templates, match them, check the boxes, save LabelMe JSON and crops."""

    def __init__(self, settings: QSettings | None = None, autosave_folder: Path | None = None,
                 labelme_program: str | None = None) -> None:
        super().__init__()
        self.settings = AppSettings(settings)
        self.autosaves = AutosaveStore(autosave_folder or default_autosave_folder())
        self.undo_stack = QUndoStack(self)
        self.document: PageDocument | None = None
        self.current_label: str | None = None
        self.folder: FolderSession | None = None
        self.library = TemplateLibrary()
        self.worker: MatchThread | None = None
        self._match_started = 0.0
        self._labelme_stamp: tuple[float, int] | None = None
        # Copy Box: (label, note, the match in its pose), pasted on this page or another
        self._box_clipboard: tuple[str, str | None, Match] | None = None

        self.page_view = PageView()
        self.page_view.set_hint(EMPTY_HINT)
        self.overview = OverviewView()
        self.label_list = LabelList()
        self.file_list = FileList()
        self.shape_list = ShapeList()
        self.hidden_labels: set[str] = set()
        self.brightness = (NEUTRAL, NEUTRAL)  # brightness, contrast (percent) of the page as shown
        self.act = build_actions(self)
        self.init_training()
        self.init_anomalies()
        self.controls = ControlsPane(self.act)
        self.labelme = LabelmeLauncher(self, labelme_program)
        self._build_layout()
        self._build_menus()
        self._build_status_bar()
        self._connect()
        self.controls.set_search_settings(self.settings.search_settings())
        geometry, state = self.settings.geometry()
        if geometry is not None:
            self.restoreGeometry(geometry)
        if state is not None:
            self.restoreState(state)
        self.autosave_timer = QTimer(self)
        self.autosave_timer.setInterval(AUTOSAVE_INTERVAL_MS)
        self.autosave_timer.timeout.connect(self.autosave_now)
        self.autosave_timer.start()
        self.refresh()
        self.reattach_training()

    # layout
    def _build_layout(self) -> None:
        self.setWindowTitle(APP_NAME)
        self.resize(1400, 900)
        # The controls scroll rather than squeeze on a short screen; the overview takes what is left.
        controls = QScrollArea()
        controls.setWidget(self.controls)
        controls.setWidgetResizable(True)
        controls.setFrameShape(QFrame.NoFrame)
        controls.setHorizontalScrollBarPolicy(Qt.ScrollBarAlwaysOff)
        controls.setMinimumHeight(160)
        controls.setMinimumWidth(self.controls.minimumSizeHint().width() + controls.verticalScrollBar().sizeHint().width())
        self.label_list.setMinimumHeight(70)
        self.overview.setMinimumHeight(120)
        right = self.right_splitter = QSplitter(Qt.Vertical)
        right.setChildrenCollapsible(False)
        for index, (widget, stretch) in enumerate(((controls, 0), (self.label_list, 1), (self.overview, 3))):
            right.addWidget(widget)
            right.setStretchFactor(index, stretch)
        self._right_sized = False
        main = QSplitter(Qt.Horizontal)
        main.addWidget(self.page_view)
        main.addWidget(right)
        main.setStretchFactor(0, 1)
        main.setStretchFactor(1, 0)
        main.setSizes([980, 420])
        self.setCentralWidget(main)
        self.file_dock = self._dock("Files", "files_dock", self.file_list)
        self.shape_dock = self._dock("Boxes", "boxes_dock", self.shape_list)
        self.file_dock.hide()  # shown in folder mode

    def _dock(self, title: str, name: str, widget) -> QDockWidget:
        dock = QDockWidget(title, self)
        dock.setObjectName(name)
        dock.setWidget(widget)
        dock.setFeatures(QDockWidget.DockWidgetMovable | QDockWidget.DockWidgetClosable)
        self.addDockWidget(Qt.LeftDockWidgetArea, dock)
        return dock

    def showEvent(self, event) -> None:
        super().showEvent(event)
        if not self._right_sized:
            self._right_sized = True
            self._size_right_column()

    def _size_right_column(self) -> None:
        """The controls at their full height if the column allows, a few rows of labels, the overview the rest."""
        total = self.right_splitter.height()
        wanted = self.controls.sizeHint().height() + 2
        controls = max(160, min(wanted, total - 70 - 120))
        labels = max(70, min(110, (total - controls) // 3))
        self.right_splitter.setSizes([controls, labels, max(120, total - controls - labels)])

    def _build_menus(self) -> None:
        a = self.act
        bar = self.menuBar()
        file_menu = bar.addMenu("&File")
        file_menu.addActions([a.open, a.open_folder])
        self.recent_menu = file_menu.addMenu("Open &Recent")
        self.recent_menu.aboutToShow.connect(self._fill_recent_menu)
        file_menu.addSeparator()
        file_menu.addActions([a.save_json, a.save_json_as, a.save_images, a.open_in_labelme])
        file_menu.addSeparator()
        file_menu.addActions([a.previous_page, a.next_page])
        file_menu.addSeparator()
        file_menu.addAction("Align Scans (&RANSAC GUI)...", lambda: _open_ransac_gui(), "Ctrl+Shift+A")
        file_menu.addSeparator()
        file_menu.addAction(a.quit)

        edit_menu = bar.addMenu("&Edit")
        self.undo_action = self.undo_stack.createUndoAction(self, "&Undo")
        self.undo_action.setShortcuts(QKeySequence.Undo)
        self.redo_action = self.undo_stack.createRedoAction(self, "&Redo")
        self.redo_action.setShortcuts([QKeySequence("Ctrl+Shift+Z"), QKeySequence("Ctrl+Y")])
        for action, tip in ((self.undo_action, "Undo the last edit"), (self.redo_action, "Redo the edit undone")):
            action.setToolTip(f"{tip} ({shortcut_text(action)})")
            self.addAction(action)
        edit_menu.addActions([self.undo_action, self.redo_action])
        edit_menu.addSeparator()
        edit_menu.addActions([a.draw_template, a.add_missed, a.edit_mode, a.cancel])
        edit_menu.addSeparator()
        edit_menu.addActions([a.toggle_selected, a.delete_selected, a.change_box_label, a.duplicate_box,
                              a.copy_box, a.paste_box])
        edit_menu.addSeparator()
        edit_menu.addActions([a.rename_label, a.delete_label])

        match_menu = bar.addMenu("&Match")
        match_menu.addActions([a.previous_line, a.next_line, a.more, a.fewer])
        match_menu.addSeparator()
        match_menu.addActions([a.rematch, a.match_all, a.correct_label])

        view_menu = bar.addMenu("&View")
        view_menu.addActions([a.zoom_in, a.zoom_out, a.fit, a.actual_size, a.brightness])
        view_menu.addSeparator()
        view_menu.addActions([self.file_dock.toggleViewAction(), self.shape_dock.toggleViewAction()])

        training_menu = bar.addMenu("&Training")
        self.build_training_menu(training_menu)
        self.add_anomaly_actions(view_menu)

        help_menu = bar.addMenu("&Help")
        help_menu.addActions([a.shortcuts, a.guide])

        toolbar = QToolBar("Main tools")
        toolbar.setObjectName("main_toolbar")
        toolbar.setToolButtonStyle(Qt.ToolButtonTextBesideIcon)
        toolbar.addActions([a.open, a.open_folder, a.save_json])
        toolbar.addSeparator()
        # The toolbar keeps short names; the menu's entries say what would be undone.
        self.undo_button_action = QAction("Undo", self)
        self.undo_button_action.setToolTip(self.undo_action.toolTip())
        self.undo_button_action.triggered.connect(self.undo_stack.undo)
        self.undo_stack.canUndoChanged.connect(self.undo_button_action.setEnabled)
        self.redo_button_action = QAction("Redo", self)
        self.redo_button_action.setToolTip(self.redo_action.toolTip())
        self.redo_button_action.triggered.connect(self.undo_stack.redo)
        self.undo_stack.canRedoChanged.connect(self.redo_button_action.setEnabled)
        self.undo_button_action.setEnabled(False)
        self.redo_button_action.setEnabled(False)
        toolbar.addActions([self.undo_button_action, self.redo_button_action])
        toolbar.addSeparator()
        toolbar.addActions([a.draw_template, a.add_missed, a.edit_mode])
        toolbar.addSeparator()
        toolbar.addActions([a.fit, a.previous_page, a.next_page])
        self.addToolBar(toolbar)
        self._set_icons()
        self._menus = [file_menu, edit_menu, match_menu, view_menu, training_menu, help_menu]
        for menu in self._menus:
            menu.setToolTipsVisible(True)  # a greyed-out item says why in its tooltip

    def _set_icons(self) -> None:
        """The style's standard icons on the toolbar's and menus' main commands (no bundled files)."""
        a, style = self.act, self.style()
        for action, icon in ((a.open, QStyle.SP_DialogOpenButton), (a.open_folder, QStyle.SP_DirOpenIcon),
                             (a.save_json, QStyle.SP_DialogSaveButton), (self.undo_button_action, QStyle.SP_ArrowBack),
                             (self.redo_button_action, QStyle.SP_ArrowForward),
                             (a.draw_template, QStyle.SP_FileDialogNewFolder),
                             (a.add_missed, QStyle.SP_FileDialogListView), (a.edit_mode, QStyle.SP_FileDialogDetailedView),
                             (a.fit, QStyle.SP_TitleBarMaxButton), (a.previous_page, QStyle.SP_MediaSeekBackward),
                             (a.next_page, QStyle.SP_MediaSeekForward)):
            action.setIcon(style.standardIcon(icon))
        self.undo_action.setIcon(style.standardIcon(QStyle.SP_ArrowBack))
        self.redo_action.setIcon(style.standardIcon(QStyle.SP_ArrowForward))

    def _build_status_bar(self) -> None:
        self.mode_label = QLabel()
        self.page_label = QLabel()
        self.zoom_label = QLabel()
        for widget in (self.mode_label, self.page_label, self.zoom_label):
            self.statusBar().addPermanentWidget(widget)

    def _connect(self) -> None:
        view = self.page_view
        view.boxDrawn.connect(self._box_drawn)
        view.boxClicked.connect(self._box_clicked)
        view.boxHovered.connect(self._box_hovered)
        view.boxEdited.connect(self._box_edited)
        view.zoomChanged.connect(self._zoom_changed)
        view.viewMoved.connect(self.overview.show_view_rect)
        self.overview.centreRequested.connect(self._centre_page_view)
        self.label_list.labelChosen.connect(self.choose_label)
        self.label_list.renameRequested.connect(self._rename_label)
        self.file_list.pageChosen.connect(self.go_to_page)
        self.shape_list.boxChosen.connect(self._shape_chosen)
        self.shape_list.visibilityChanged.connect(self._set_label_visible)
        self.controls.settingsChanged.connect(self._remember_search_settings)
        self.undo_stack.cleanChanged.connect(self._update_title)
        self.labelme.closed.connect(self._labelme_closed)
        self.labelme.failed.connect(self._labelme_failed)

    def _zoom_changed(self, scale: float) -> None:
        self.zoom_label.setText(f"{scale * 100:.0f}%")

    def _labelme_failed(self, message: str) -> None:
        show_error(self, "LabelMe", message)

    # state shown
    def is_busy(self) -> bool:
        return self.worker is not None

    def is_modified(self) -> bool:
        return self.document is not None and (not self.undo_stack.isClean() or self.document.recovered)

    def current_entry(self) -> LabelReview | None:
        if self.document is None or self.current_label not in self.document.review:
            return None
        return self.document.review.get(self.current_label)

    def carried_pages(self) -> dict[str, str]:
        """Labels of this page matched with templates from another page of the folder: that page."""
        if self.document is None:
            return {}
        carried = {}
        for entry in self.document.review.labels:
            template = self.library.get(entry.label)
            if not entry.templates and template is not None:
                carried[entry.label] = template.page_name
        return carried

    def refresh(self) -> None:
        """Show the document's review: boxes, overview, label list, controls, actions, title."""
        document, entry = self.document, self.current_entry()
        self.page_view.set_boxes(self._page_boxes())
        self.overview.set_boxes(self._overview_boxes())
        review = document.review if document is not None else PageReview()
        carried = self.carried_pages()
        self.label_list.set_labels(review, self.current_label, carried)
        self.shape_list.show_review(review, self.hidden_labels, self.page_view.selected())
        self.show_anomaly_marks()
        names = review.names()
        position = names.index(entry.label) + 1 if entry is not None else 0
        self.controls.show_label(entry, position, len(names), carried.get(self.current_label or ""),
                                 has_page=document is not None)
        self._update_actions()
        self._update_title()

    def _page_boxes(self) -> list[BoxSpec]:
        if self.document is None:
            return []
        specs = []
        for entry in self.document.review.labels:
            if entry.label in self.hidden_labels:
                continue
            current = entry.label == self.current_label
            for index, box in enumerate(entry.templates):
                style = BoxStyle.TEMPLATE if current else BoxStyle.OTHER_TEMPLATE
                tip = f"Template box of {entry.label}. Click its outline to select it; Del deletes it."
                specs.append(BoxSpec(("template", entry.label, index), box_quad(box), TEMPLATE_COLOUR, style,
                                     f"template {entry.label}", tip))
        entry = self.current_entry()
        if entry is not None and entry.label not in self.hidden_labels:
            for item in entry.shown():
                if not item.accepted:
                    style, colour, tag = BoxStyle.REJECTED, REJECTED_COLOUR, "rejected"
                elif item.added:
                    style, colour, tag = BoxStyle.ADDED, match_colour(item.match), "added"
                elif lies_on_template(entry, item.match):
                    style, colour, tag = BoxStyle.MATCH, match_colour(item.match), "template"  # finds itself
                else:
                    style, colour, tag = BoxStyle.MATCH, match_colour(item.match), f"{item.match.score:.2f}"
                key = ("match", entry.label, item.key)
                specs.append(BoxSpec(key, item.match.quad, colour, style, tag, self.describe_box(key)))
        return specs + self.suggestion_boxes() + self.anomaly_boxes()

    def _overview_boxes(self) -> list[BoxSpec]:
        if self.document is None:
            return []
        specs = []
        for entry in self.document.review.labels:
            for index, box in enumerate(entry.templates):
                specs.append(BoxSpec(("template", entry.label, index), box_quad(box), TEMPLATE_COLOUR,
                                     BoxStyle.TEMPLATE))
            for item in entry.shown():
                if item.accepted:
                    specs.append(BoxSpec(("match", entry.label, item.key), item.match.quad,
                                         match_colour(item.match), BoxStyle.MATCH))
        return specs

    def _update_actions(self) -> None:
        a, busy, document = self.act, self.is_busy(), self.document
        entry = self.current_entry()
        has_page = document is not None and not busy
        has_labels = has_page and bool(document.review.labels)
        matchable = entry is not None and (bool(entry.templates) or self.library.get(entry.label) is not None)
        for action in (a.open, a.open_folder):
            action.setEnabled(not busy)
        for action in (a.save_json, a.save_json_as, a.save_images, a.open_in_labelme, a.draw_template,
                       a.edit_mode, a.toggle_selected, a.delete_selected):
            action.setEnabled(has_page)
        editable = has_page and self.page_view.is_editable(self.page_view.selected())
        for action in (a.change_box_label, a.duplicate_box, a.copy_box):
            action.setEnabled(editable)
        a.paste_box.setEnabled(has_page and self._box_clipboard is not None)
        a.add_missed.setEnabled(has_page and entry is not None)
        for action in (a.next_line, a.previous_line, a.match_all):
            action.setEnabled(has_labels)
        a.rematch.setEnabled(has_page and matchable)
        for action in (a.more, a.fewer, a.correct_label):
            action.setEnabled(has_page and entry is not None and entry.matched)
        for action in (a.rename_label, a.delete_label):
            action.setEnabled(has_page and entry is not None)
        in_folder = self.folder is not None and not busy
        a.next_page.setEnabled(in_folder and self.folder.index + 1 < len(self.folder.pages))
        a.previous_page.setEnabled(in_folder and self.folder.index > 0)
        for action in (a.zoom_in, a.zoom_out, a.fit, a.actual_size, a.brightness):
            action.setEnabled(document is not None)
        a.cancel.setEnabled(busy or self.page_view.mode() is not Mode.BROWSE)
        self.update_training_actions()
        self.update_anomaly_actions()

    def _update_title(self, *_clean: bool) -> None:
        if self.document is None:
            self.setWindowTitle(APP_NAME)
        else:
            self.setWindowTitle(f"{self.document.name}[*] - {APP_NAME}")
        self.setWindowModified(self.is_modified())
        self.page_label.setText(self.folder.position() if self.folder is not None else "")
        if self.folder is not None:
            self.file_list.show_pages(self.folder.pages, self.folder.index)
        self.file_dock.setVisible(self.folder is not None)
        mode = self.page_view.mode()
        self.mode_label.setText({Mode.BROWSE: "", Mode.DRAW_TEMPLATE: "Drawing template boxes (Esc stops)",
                                 Mode.ADD_MISSED: "Adding missed boxes (Esc stops)",
                                 Mode.EDIT: "Editing boxes (Ctrl+J or Esc stops)"}[mode])

    def describe_box(self, key: BoxKey | None) -> str:
        """The status bar's line for a box: label, score and pose, and what a click does."""
        if key is not None and key[0] == "suggestion":
            return self.describe_suggestion(key)
        if key is not None and key[0] == "anomaly":
            return self.describe_anomaly(key)
        if key is None or self.document is None or key[1] not in self.document.review:
            return ""
        entry = self.document.review.get(key[1])
        if key[0] == "template":
            return f"Template box of label {entry.label} (Del deletes it)"
        item = entry.find(key[2])
        if item is None:
            return ""
        state = "kept, click to reject" if item.accepted else "rejected, click to accept"
        if item.added:
            return f"Label {entry.label} · box added by hand · {state}"
        return (f"Label {entry.label} · score {item.match.score:.3f} · {pose_name(item.match.pose)}"
                f" · {state}")

    # undoable edits
    def apply_review(self, review: PageReview, focus: str | None) -> None:
        """Called by undo commands: show `review`, with `focus` as the current label."""
        if self.document is None:
            return
        self.document.review = review
        if focus is not None and focus in review:
            self.current_label = focus
        elif self.current_label not in review:
            self.current_label = review.labels[0].label if review.labels else None
        self.refresh()

    def _push(self, command: commands.ReviewEdit) -> None:
        self.undo_stack.push(command)

    def _review(self) -> PageReview:
        assert self.document is not None
        return self.document.review

    def choose_label(self, label: str) -> None:
        if self.document is not None and label in self.document.review and label != self.current_label:
            self.current_label = label
            self.page_view.select(None)
            self.refresh()

    def more_boxes(self) -> None:
        self._move_threshold(more=True)

    def fewer_boxes(self) -> None:
        self._move_threshold(more=False)

    def _move_threshold(self, more: bool) -> None:
        entry = self.current_entry()
        if entry is None or not entry.matched or self.is_busy():
            return
        changed = entry.more() if more else entry.fewer()
        if changed.threshold == entry.threshold:
            limit = "lowest threshold the last match kept; Rematch to go lower" if more else "highest threshold"
            self.statusBar().showMessage(f"Threshold {entry.threshold:.2f} is the {limit}.", 5000)
            return
        self._push(commands.set_threshold(self._review(), entry.label, more, self.apply_review))
        self.statusBar().showMessage(f"Threshold {changed.threshold:.2f}: {boxes_text(changed.count())} for "
                                     f"{entry.label}.", 5000)

    def correct_label(self) -> None:
        entry = self.current_entry()
        if entry is not None and entry.matched and not self.is_busy():
            self._push(commands.correct_label(self._review(), entry.label, self.apply_review))

    def toggle_selected(self) -> None:
        key = self.page_view.selected()
        if key is not None and key[0] == "match":
            self._push(commands.toggle_match(self._review(), key[1], key[2], self.apply_review))
            self._show_box(key)
        elif key is not None and key[0] == "suggestion":
            self.accept_suggestion(key)

    def delete_selected(self) -> None:
        key = self.page_view.selected()
        if key is None or self.is_busy() or key[0] == "anomaly":
            return
        kind, label, which = key
        if kind == "suggestion":
            self.reject_suggestion(key)
        elif kind == "template":
            self._push(commands.delete_template(self._review(), label, which, self.apply_review))
        elif which[0] == ADDED:
            self._push(commands.delete_added_box(self._review(), label, which[1], self.apply_review))
        elif self.page_view.mode() is Mode.EDIT:
            self._push(commands.remove_match(self._review(), label, which, self.apply_review))
        elif which not in self._review().get(label).rejected:
            self._push(commands.toggle_match(self._review(), label, which, self.apply_review))

    def rename_current_label(self) -> None:
        if self.current_label is not None:
            self._rename_label(self.current_label)

    def _rename_label(self, label: str) -> None:
        if self.document is None or label not in self.document.review or self.is_busy():
            return
        entry = self.document.review.get(label)
        answer = ask_template_name(self, self.document.review.names(), entry.label, entry.note, title="Rename label")
        if answer is None or answer == (entry.label, entry.note):
            return
        try:
            command = commands.rename_label(self._review(), label, answer[0], answer[1], self.apply_review)
        except MatchOptionsError as error:
            show_error(self, "rename label", str(error))
            return
        self._push(command)

    def delete_current_label(self) -> None:
        if self.current_entry() is not None and not self.is_busy():
            self._push(commands.delete_label(self._review(), self.current_label, self.apply_review))

    # drawing and clicking on the page
    def set_draw_template_mode(self, on: bool) -> None:
        self._set_mode(Mode.DRAW_TEMPLATE if on else Mode.BROWSE)

    def set_add_missed_mode(self, on: bool) -> None:
        self._set_mode(Mode.ADD_MISSED if on else Mode.BROWSE)

    def set_edit_mode(self, on: bool) -> None:
        self._set_mode(Mode.EDIT if on else Mode.BROWSE)

    def _set_mode(self, mode: Mode) -> None:
        for action, its_mode in ((self.act.draw_template, Mode.DRAW_TEMPLATE), (self.act.add_missed, Mode.ADD_MISSED),
                                 (self.act.edit_mode, Mode.EDIT)):
            action.blockSignals(True)
            action.setChecked(mode is its_mode)
            action.blockSignals(False)
        self.page_view.set_mode(mode)
        hints = {Mode.DRAW_TEMPLATE: "Drag a box around one ornament; you name it next. Esc stops drawing.",
                 Mode.ADD_MISSED: "Drag a box around an occurrence the matcher missed. Esc stops.",
                 Mode.EDIT: "Click a box to select it; drag it to move it, drag a handle to resize it, arrows "
                            "nudge it; Del deletes it. Ctrl+J or Esc goes back to checking boxes.",
                 Mode.BROWSE: "Click a box to keep or reject it; Ctrl+drag adds a missed box; drag moves the page; "
                              "wheel zooms."}
        self.statusBar().showMessage(hints[mode], 8000)
        self._update_actions()
        self._update_title()

    def _box_drawn(self, rect: QRectF, mode: Mode) -> None:
        if self.document is None or self.is_busy():
            return
        box = (round(rect.left(), 1), round(rect.top(), 1), round(rect.right(), 1), round(rect.bottom(), 1))
        if mode is Mode.DRAW_TEMPLATE:
            review = self._review()
            answer = ask_template_name(self, review.names(), self._suggested_label())
            self.page_view.setFocus()
            if answer is not None:
                label, note = answer
                self._push(commands.add_template(review, label, note, box, self.apply_review))
                entry = self.current_entry()
                if entry is not None and not entry.matched:
                    self.statusBar().showMessage(f"Template box for {label}. Press Return to find every "
                                                 "occurrence (Rematch).", 8000)
        elif self.current_entry() is not None:
            self._push(commands.add_box(self._review(), self.current_label, box, self.apply_review))
        else:
            self.statusBar().showMessage("Choose a label first: an added box belongs to the current label.", 8000)

    def _suggested_label(self) -> str:
        names = set(self._review().names())
        number = 0
        while str(number) in names:
            number += 1
        return str(number)

    def _box_clicked(self, key: BoxKey | None) -> None:
        self.page_view.select(key)
        if self.page_view.mode() is Mode.EDIT:  # a click selects; nothing is accepted or rejected
            self._show_box(key)
            self._update_actions()
            return
        if key is not None and key[0] == "match" and not self.is_busy():
            self._push(commands.toggle_match(self._review(), key[1], key[2], self.apply_review))
        elif key is not None and key[0] == "suggestion":
            self.accept_suggestion(key)
        self._show_box(key)

    # edit mode: boxes moved, resized, relabelled, copied by hand
    def _box_edited(self, key: BoxKey, quad) -> None:
        if self.document is None or self.is_busy() or key[1] not in self.document.review:
            return
        kind, label, which = key
        if kind == "template":
            x0, y0 = quad.min(axis=0)
            x1, y1 = quad.max(axis=0)
            box = (round(float(x0), 1), round(float(y0), 1), round(float(x1), 1), round(float(y1), 1))
            self._push(commands.move_template(self._review(), label, which, box, self.apply_review))
        else:
            self._push(commands.edit_box(self._review(), label, which, quad, self.apply_review))
        self.page_view.select(key)
        self._show_box(key)

    def _selected_box(self) -> tuple[str, str | None, Match] | None:
        """The selected editable box as (label, note, match in its pose); a template as an upright box."""
        key = self.page_view.selected()
        if self.document is None or not self.page_view.is_editable(key) or key[1] not in self.document.review:
            return None
        entry = self.document.review.get(key[1])
        if key[0] == "template":
            return entry.label, entry.note, Match(entry.label, 1.0, Pose(), box_quad(entry.templates[key[2]]))
        item = entry.find(key[2])
        return None if item is None else (entry.label, entry.note, item.match)

    def copy_selected(self) -> None:
        self._box_clipboard = self._selected_box()
        if self._box_clipboard is not None:
            self.statusBar().showMessage(f"Copied a box of {self._box_clipboard[0]}; Ctrl+V pastes it on any page.",
                                         5000)
        self._update_actions()

    def paste_box(self, offset: float = 0.0, text: str = "Paste") -> None:
        if self.document is None or self.is_busy() or self._box_clipboard is None:
            return
        label, note, match = self._box_clipboard
        height, width = self.document.image.shape[:2]
        quad = match.quad + offset
        shift = np.minimum(0, np.array([width, height]) - quad.max(axis=0)) - np.minimum(0, quad.min(axis=0))
        placed = replace(match, quad=quad + shift)  # kept on the page
        self._push(commands.place_match(self._review(), label, note, placed, self.apply_review, text))
        entry = self.current_entry()
        if entry is not None and entry.added:
            self.page_view.select(("match", label, (ADDED, len(entry.added) - 1)))
        self._update_actions()

    def duplicate_selected(self) -> None:
        selected = self._selected_box()
        if selected is None:
            return
        kept, self._box_clipboard = self._box_clipboard, selected
        self.paste_box(offset=DUPLICATE_OFFSET, text="Duplicate")
        self._box_clipboard = kept

    def change_selected_label(self) -> None:
        key = self.page_view.selected()
        if self.document is None or self.is_busy() or not self.page_view.is_editable(key):
            return
        kind, label, which = key
        entry = self.document.review.get(label)
        answer = ask_template_name(self, self.document.review.names(), label, entry.note, title="Change box label")
        if answer is None or answer[0] == label:
            return
        new_label, note = answer
        box_key = ("template", which) if kind == "template" else which
        self._push(commands.change_box_label(self._review(), label, box_key, new_label, note, self.apply_review))
        self.statusBar().showMessage(f"The box is now in label {new_label}.", 5000)

    # the side lists
    def _shape_chosen(self, key: BoxKey) -> None:
        if self.document is None or key[1] not in self.document.review:
            return
        if key[1] != self.current_label:
            self.choose_label(key[1])
        self.page_view.select(key)
        self.page_view.centre_on_box(key)
        self._show_box(key)
        self._update_actions()

    def _set_label_visible(self, label: str, visible: bool) -> None:
        if visible:
            self.hidden_labels.discard(label)
        else:
            self.hidden_labels.add(label)
        self.refresh()

    def _box_hovered(self, key: BoxKey | None) -> None:
        text = self.describe_box(key) or self.describe_box(self.page_view.selected())
        if text:
            self.statusBar().showMessage(text)
        else:
            self.statusBar().clearMessage()

    def _show_box(self, key: BoxKey | None) -> None:
        text = self.describe_box(key)
        if text:
            self.statusBar().showMessage(text)

    def _centre_page_view(self, point: QPointF) -> None:
        self.page_view.centerOn(point)

    def adjust_brightness(self) -> None:
        """View > Brightness and Contrast: the page follows the sliders; the scan itself is untouched."""
        if self.document is None:
            return
        dialog = BrightnessDialog(*self.brightness, self)
        dialog.changed.connect(self.set_brightness)
        dialog.exec_()

    def set_brightness(self, brightness: int, contrast: int) -> None:
        self.brightness = (brightness, contrast)
        if self.document is not None:
            self.page_view.replace_picture(pixmap_from_bgr(adjusted(self.document.image, brightness, contrast)))

    # menus without their own module
    def show_shortcuts(self) -> None:
        rows = []
        for menu in self._menus:
            for action in menu.actions():
                if action.isSeparator() or action.menu() is not None:
                    continue
                name = {self.undo_action: "Undo", self.redo_action: "Redo"}.get(action, action.text().replace("&", ""))
                rows.append((name, shortcut_text(action), action.statusTip()))
        rows.append(("Zoom", "mouse wheel", "Zoom in or out around the pointer"))
        rows.append(("Pan", "drag (middle button: always)", "Move the page"))
        rows.append(("Add a missed box", "Ctrl+drag", "Box an occurrence the matcher missed (current label)"))
        rows.append(("Accept / reject", "click a box", "Keep or drop a match"))
        ShortcutsDialog(rows, self).exec_()

    def open_guide(self) -> None:
        if GUIDE.is_file():
            QDesktopServices.openUrl(QUrl.fromLocalFile(str(GUIDE)))
        else:
            show_info(self, "Guide", "The guide (docs/autolabelme.md) is not installed with this copy.")

    # closing
    def closeEvent(self, event: QCloseEvent) -> None:
        if not self.confirm_close_training():
            event.ignore()
            return
        if self.worker is not None:
            self.worker.cancel()
            self.wait_for_matching()
        if not self.maybe_save():
            event.ignore()
            return
        if self.document is not None and not self.is_modified():
            self.autosaves.discard(self._autosave_key(self.document))
        self.settings.set_geometry(self.saveGeometry(), self.saveState())
        self._remember_search_settings()
        self.settings.sync()
        event.accept()
