"""Every command of the window as a QAction: one text, one shortcut list, one tooltip that names
the shortcut, shared by the menus, the toolbar and the controls pane's buttons."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from PyQt5.QtCore import Qt
from PyQt5.QtGui import QKeySequence
from PyQt5.QtWidgets import QAction, QWidget

Key = str | int | QKeySequence.StandardKey


def make_action(parent: QWidget, text: str, slot: Callable[[], object], shortcuts: tuple[Key, ...] = (),
                tip: str = "", checkable: bool = False) -> QAction:
    """An action that works from the keyboard anywhere in the window, its shortcut in its tooltip."""
    action = QAction(text, parent)
    action.setShortcuts([QKeySequence(key) for key in shortcuts])
    action.setShortcutContext(Qt.WindowShortcut)
    action.setCheckable(checkable)
    description = tip or text.replace("&", "")
    keys = shortcut_text(action)
    action.setToolTip(f"{description} ({keys})" if keys else description)
    action.setStatusTip(description)
    if checkable:
        action.toggled.connect(slot)
    else:
        action.triggered.connect(lambda _checked=False: slot())
    parent.addAction(action)
    return action


def shortcut_text(action: QAction) -> str:
    """The action's keys as a person types them (leaving out F13 and above, Sun keyboards' Undo and Redo)."""
    keys = (key.toString(QKeySequence.NativeText) for key in action.shortcuts())
    return ", ".join(key for key in keys if not (key[:1] == "F" and key[1:].isdigit() and int(key[1:]) > 12))


@dataclass
class Actions:
    """The window's actions, by what they do."""

    open: QAction
    open_folder: QAction
    save_json: QAction
    save_json_as: QAction
    save_images: QAction
    open_in_labelme: QAction
    next_page: QAction
    previous_page: QAction
    quit: QAction
    draw_template: QAction
    add_missed: QAction
    edit_mode: QAction
    change_box_label: QAction
    duplicate_box: QAction
    copy_box: QAction
    paste_box: QAction
    cancel: QAction
    toggle_selected: QAction
    delete_selected: QAction
    rename_label: QAction
    delete_label: QAction
    next_line: QAction
    previous_line: QAction
    more: QAction
    fewer: QAction
    rematch: QAction
    match_all: QAction
    correct_label: QAction
    zoom_in: QAction
    zoom_out: QAction
    fit: QAction
    actual_size: QAction
    brightness: QAction
    shortcuts: QAction
    guide: QAction


def build_actions(window) -> Actions:
    """The actions, wired to the window's methods of the same purpose."""
    w = window
    return Actions(
        open=make_action(w, "&Open...", w.choose_file, (QKeySequence.Open,),
                         "Open a page: a LabelMe JSON or a scanned picture"),
        open_folder=make_action(w, "Open &Folder...", w.choose_folder, ("Ctrl+Shift+O",),
                                "Open a folder of pages and step through them"),
        save_json=make_action(w, "&Save JSON", w.save_json, (QKeySequence.Save,),
                              "Save the page as LabelMe JSON (LabelMe opens it)"),
        save_json_as=make_action(w, "Save JSON &As...", w.save_json_as, ("Ctrl+Shift+S",),
                                 "Save the page as LabelMe JSON under another name"),
        save_images=make_action(w, "Save &Images...", w.save_images, ("Ctrl+E",),
                                "Save every kept box cut out and turned upright, in a folder per label"),
        open_in_labelme=make_action(w, "Open in &LabelMe", w.open_in_labelme, ("Ctrl+L",),
                                    "Save, open the page in LabelMe for hand edits, reload it when LabelMe closes"),
        next_page=make_action(w, "Next &Page", w.next_page, ("D",), "Folder mode: the next page"),
        previous_page=make_action(w, "Previous Pa&ge", w.previous_page, ("A",), "Folder mode: the previous page"),
        quit=make_action(w, "&Quit", w.close, ("Ctrl+Q",)),
        draw_template=make_action(w, "Draw &Template Boxes", w.set_draw_template_mode, ("T",),
                                  "Drag a box around one ornament of a kind, then name it", checkable=True),
        add_missed=make_action(w, "Add &Missed Boxes", w.set_add_missed_mode, ("B",),
                               "Drag a box around an occurrence the matcher missed (current label)",
                               checkable=True),
        edit_mode=make_action(w, "&Edit Boxes", w.set_edit_mode, ("Ctrl+J",),
                              "LabelMe's edit mode: click a box to select it, drag it to move it, drag a handle "
                              "to resize it, arrow keys nudge it (Shift: 10 px)", checkable=True),
        change_box_label=make_action(w, "C&hange Box Label...", w.change_selected_label, ("Ctrl+Shift+E",),
                                     "Give the selected box another label (a new one or an existing one)"),
        duplicate_box=make_action(w, "D&uplicate Box", w.duplicate_selected, ("Ctrl+Shift+D",),
                                  "A copy of the selected box beside it, in the same label and pose"),
        copy_box=make_action(w, "&Copy Box", w.copy_selected, (QKeySequence.Copy,),
                             "Copy the selected box, to paste it on this page or another"),
        paste_box=make_action(w, "&Paste Box", w.paste_box, (QKeySequence.Paste,),
                              "Paste the copied box at the same place, in its label"),
        cancel=make_action(w, "&Cancel", w.cancel, (Qt.Key_Escape,), "Stop matching, or stop drawing boxes"),
        toggle_selected=make_action(w, "Accept / Reject &Box", w.toggle_selected, ("X",),
                                    "Keep or drop the selected box (a click on a box does the same)"),
        delete_selected=make_action(w, "&Delete Box", w.delete_selected, (QKeySequence.Delete,),
                                    "Delete the selected template box or added box; reject a found box"),
        rename_label=make_action(w, "&Rename Label...", w.rename_current_label, ("F2",),
                                 "Rename the current label or change its note"),
        delete_label=make_action(w, "Delete &Label", w.delete_current_label, ("Ctrl+Del",),
                                 "Delete the current label: its template boxes and all its boxes"),
        next_line=make_action(w, "&Next Line >>", w.next_line, ("N",),
                              "Go to the next label and match it (if not matched yet)"),
        previous_line=make_action(w, "<< &Previous Line", w.previous_line, ("P",),
                                  "Go to the previous label"),
        more=make_action(w, "&More Boxes (+)", w.more_boxes, (Qt.Key_Plus, Qt.Key_Equal),
                         "More boxes: lower the threshold (no new matching)"),
        fewer=make_action(w, "&Fewer Boxes (-)", w.fewer_boxes, (Qt.Key_Minus,),
                          "Fewer boxes: raise the threshold (no new matching)"),
        rematch=make_action(w, "&Rematch", w.rematch, (Qt.Key_Return, Qt.Key_Enter),
                            "Match the current label again with the search options"),
        match_all=make_action(w, "Match &All Labels", w.match_all, ("Ctrl+Return",),
                              "Match every label of the page with the search options"),
        correct_label=make_action(w, "C&orrect Label", w.correct_label, ("C",),
                                  "Report every box of this label plain: no flip, no turn (press again to undo)"),
        zoom_in=make_action(w, "Zoom &In", w.page_view.zoom_in, (QKeySequence.ZoomIn, "Ctrl+=")),
        zoom_out=make_action(w, "Zoom &Out", w.page_view.zoom_out, (QKeySequence.ZoomOut,)),
        fit=make_action(w, "&Fit Page", w.page_view.fit, ("Ctrl+0", "F"), "Show the whole page"),
        actual_size=make_action(w, "&Actual Pixels", w.page_view.actual_size, ("Ctrl+1",),
                                "One screen pixel per page pixel"),
        brightness=make_action(w, "&Brightness and Contrast...", w.adjust_brightness, ("Ctrl+Shift+M",),
                               "Make a faint or dark scan easier to see (the scan itself is not changed)"),
        shortcuts=make_action(w, "&Keyboard Shortcuts", w.show_shortcuts, (QKeySequence.HelpContents,)),
        guide=make_action(w, "AutoLabelme &Guide", w.open_guide, tip="Open the user guide"),
    )
