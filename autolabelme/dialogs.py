"""The window's dialogs: naming a template, errors, unsaved changes, recovery, shortcuts."""

from __future__ import annotations

from PyQt5.QtCore import Qt
from PyQt5.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from dea_core.io.label_notes import split_label_note

APP_NAME = "AutoLabelme"


class TemplateNameDialog(QDialog):
    """Label and note of a template box. 'Label' may be typed the original way, '0 This is a Sun'."""

    def __init__(self, labels: list[str], label: str = "", note: str | None = None, *, title: str = "Name the ornament",
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(title)
        self.label_edit = QComboBox()
        self.label_edit.setEditable(True)
        self.label_edit.addItems(labels)
        self.label_edit.setEditText(label)
        self.label_edit.setToolTip("The ornament type's name, e.g. 0, 1, sun. Choose an existing label to add a "
                                   "second template box to it.")
        self.note_edit = QLineEdit(note or "")
        self.note_edit.setPlaceholderText("optional, e.g. This is a Sun")
        self.note_edit.setToolTip("A free note kept with every box of this label (LabelMe's description) and "
                                  "in the .label_notes.json file beside the saved JSON.")
        hint = QLabel("Typing '0 This is a Sun' as the label gives label 0 with the note 'This is a Sun'.")
        hint.setWordWrap(True)
        hint.setStyleSheet("color: gray")
        form = QFormLayout()
        form.addRow("&Label", self.label_edit)
        form.addRow("&Note", self.note_edit)
        self.buttons = QDialogButtonBox(QDialogButtonBox.Ok | QDialogButtonBox.Cancel)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(hint)
        layout.addWidget(self.buttons)
        self.label_edit.editTextChanged.connect(self._update_ok)
        self._update_ok()
        self.label_edit.setFocus()
        self.label_edit.lineEdit().selectAll()

    def values(self) -> tuple[str, str | None]:
        """(label, note): words typed after the label are a note (labels have no spaces, so that
        LabelMe files keep the original tool's convention), put before the note field's text."""
        label, typed_note = split_label_note(self.label_edit.currentText().strip())
        parts = [part for part in (typed_note, self.note_edit.text().strip()) if part]
        return label, " ".join(parts) or None

    def _update_ok(self) -> None:
        self.buttons.button(QDialogButtonBox.Ok).setEnabled(bool(self.label_edit.currentText().strip()))


def ask_template_name(parent: QWidget, labels: list[str], label: str = "", note: str | None = None,
                      title: str = "Name the ornament") -> tuple[str, str | None] | None:
    """(label, note) for a template box, or None when cancelled."""
    dialog = TemplateNameDialog(labels, label, note, title=title, parent=parent)
    accepted = dialog.exec_() == QDialog.Accepted
    # Give the keyboard back to the window (without a window manager nothing would): Esc and
    # Return work at once, without a click on the page first.
    parent.window().activateWindow()
    if not accepted:
        return None
    label, note = dialog.values()
    return (label, note) if label else None


def show_error(parent: QWidget, title: str, message: str) -> None:
    """A problem the person can act on; never a traceback."""
    QMessageBox.warning(parent, f"{APP_NAME}: {title}", message)


def show_info(parent: QWidget, title: str, message: str) -> None:
    QMessageBox.information(parent, f"{APP_NAME}: {title}", message)


def ask_save_changes(parent: QWidget, name: str) -> str:
    """'save', 'discard' or 'cancel' for a page with unsaved changes."""
    answer = QMessageBox.question(
        parent, f"{APP_NAME}: unsaved changes", f"{name} has changes that are not saved. Save them?",
        QMessageBox.Save | QMessageBox.Discard | QMessageBox.Cancel, QMessageBox.Save)
    return {QMessageBox.Save: "save", QMessageBox.Discard: "discard"}.get(answer, "cancel")


def ask_recover(parent: QWidget, description: str) -> bool:
    """True to reopen an autosaved page; False discards the autosave."""
    answer = QMessageBox.question(
        parent, f"{APP_NAME}: recover unsaved work",
        f"AutoLabelme closed without saving {description}.\n\nRecover that work? "
        "(No deletes the autosaved copy.)",
        QMessageBox.Yes | QMessageBox.No, QMessageBox.Yes)
    return answer == QMessageBox.Yes


def ask_reload(parent: QWidget, name: str) -> bool:
    answer = QMessageBox.question(
        parent, f"{APP_NAME}: reload from LabelMe",
        f"LabelMe changed {name}, and this window has changes made since. Reload the file from LabelMe "
        "(your changes here are lost)?", QMessageBox.Yes | QMessageBox.No, QMessageBox.Yes)
    return answer == QMessageBox.Yes


# The shortcut table's last column (what each command does), wrapped at this width.
DESCRIPTION_WIDTH = 420


class ShortcutsDialog(QDialog):
    """A table of every command and its keys, made from the actions so it is never out of date."""

    def __init__(self, rows: list[tuple[str, str, str]], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(f"{APP_NAME}: keyboard shortcuts")
        table = QTableWidget(len(rows), 3)
        table.setHorizontalHeaderLabels(["Command", "Keys", "What it does"])
        for row, values in enumerate(rows):
            for column, value in enumerate(values):
                item = QTableWidgetItem(value)
                item.setFlags(item.flags() & ~Qt.ItemIsEditable)
                table.setItem(row, column, item)
        table.resizeColumnsToContents()
        table.verticalHeader().setVisible(False)
        # The first two columns at their width, the explanations wrapped in the rest: no sideways scrolling.
        table.setHorizontalScrollBarPolicy(Qt.ScrollBarAlwaysOff)
        table.horizontalHeader().setStretchLastSection(True)
        table.setWordWrap(True)
        table.setColumnWidth(2, DESCRIPTION_WIDTH)
        table.resizeRowsToContents()
        self.table = table
        buttons = QDialogButtonBox(QDialogButtonBox.Close)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(table)
        layout.addWidget(buttons)
        width = table.columnWidth(0) + table.columnWidth(1) + DESCRIPTION_WIDTH + table.verticalScrollBar().sizeHint().width()
        self.resize(width + 40, 600)
