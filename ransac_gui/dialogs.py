"""The window's dialogs: messages, the unsaved-results question, file and folder choosers.

Each goes through QMessageBox's and QFileDialog's static functions, which tests replace, except
the results folder's dialog (OutputFolderDialog: tests replace its exec_).
"""

from __future__ import annotations

from pathlib import Path

from PyQt5.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from dea_core.alignment.job import IMAGE_SUFFIXES

APP_NAME = "RANSAC GUI"
PICTURE_FILTER = "Pictures ({})".format(" ".join(f"*{s} *{s.upper()}" for s in IMAGE_SUFFIXES))


def show_error(parent: QWidget, title: str, text: str) -> None:
    QMessageBox.warning(parent, f"{APP_NAME}: {title}", text)


def show_info(parent: QWidget, title: str, text: str) -> None:
    QMessageBox.information(parent, f"{APP_NAME}: {title}", text)


def ask_save_results(parent: QWidget, doing: str) -> int:
    """Before `doing` would drop unsaved results: QMessageBox.Save, Discard or Cancel."""
    return QMessageBox.question(
        parent, f"{APP_NAME}: unsaved results",
        f"The aligned pictures have not been saved. Save them before {doing}?",
        QMessageBox.Save | QMessageBox.Discard | QMessageBox.Cancel, QMessageBox.Save)


def ask_yes_no(parent: QWidget, title: str, text: str) -> bool:
    answer = QMessageBox.question(parent, f"{APP_NAME}: {title}", text, QMessageBox.Yes | QMessageBox.No,
                                  QMessageBox.No)
    return answer == QMessageBox.Yes


def choose_folder(parent: QWidget, title: str, start: Path | None) -> Path | None:
    chosen = QFileDialog.getExistingDirectory(parent, title, str(start or ""))
    return Path(chosen) if chosen else None


def choose_picture(parent: QWidget, title: str, start: Path | None) -> Path | None:
    chosen, _ = QFileDialog.getOpenFileName(parent, title, str(start or ""), PICTURE_FILTER)
    return Path(chosen) if chosen else None


def choose_pictures(parent: QWidget, title: str, start: Path | None) -> list[Path]:
    chosen, _ = QFileDialog.getOpenFileNames(parent, title, str(start or ""), PICTURE_FILTER)
    return [Path(p) for p in chosen]


def choose_labelme(parent: QWidget, start: Path | None) -> Path | None:
    chosen, _ = QFileDialog.getOpenFileName(parent, "Annotation of the reference (LabelMe JSON)",
                                            str(start or ""), "LabelMe JSON (*.json)")
    return Path(chosen) if chosen else None


class OutputFolderDialog(QDialog):
    """Where Save Results writes: a folder path to edit (it is created when missing), or Browse."""

    def __init__(self, parent: QWidget | None, proposal: Path | None) -> None:
        super().__init__(parent)
        self.setWindowTitle(f"{APP_NAME}: save the results")
        self.path_edit = QLineEdit(str(proposal or ""))
        self.path_edit.setMinimumWidth(460)
        browse = QPushButton("Browse...")
        browse.clicked.connect(self._browse)
        row = QHBoxLayout()
        row.addWidget(self.path_edit, 1)
        row.addWidget(browse)
        buttons = QDialogButtonBox(QDialogButtonBox.Save | QDialogButtonBox.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        self.path_edit.textChanged.connect(
            lambda text: buttons.button(QDialogButtonBox.Save).setEnabled(bool(text.strip())))
        buttons.button(QDialogButtonBox.Save).setEnabled(bool(self.path_edit.text().strip()))
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel("Save the aligned pictures into this folder (a new one is made if it does not "
                                "exist yet):"))
        layout.addLayout(row)
        layout.addWidget(buttons)

    def _browse(self) -> None:
        start = Path(self.path_edit.text().strip() or ".")
        while not start.is_dir() and start != start.parent:
            start = start.parent
        chosen = QFileDialog.getExistingDirectory(self, "A folder for the results", str(start))
        if chosen:
            self.path_edit.setText(chosen)

    def folder(self) -> Path | None:
        text = self.path_edit.text().strip()
        return Path(text).expanduser() if text else None


def choose_output_folder(parent: QWidget, proposal: Path | None) -> Path | None:
    """The folder the person wants the results in (maybe not made yet); None when cancelled."""
    dialog = OutputFolderDialog(parent, proposal)
    return dialog.folder() if dialog.exec_() == QDialog.Accepted else None


def ask_write_into(parent: QWidget, folder: Path, names: list[str]) -> bool:
    """Before writing into a folder that already holds files: True to go on."""
    shown = ", ".join(names[:5]) + (f" and {len(names) - 5} more" if len(names) > 5 else "")
    return ask_yes_no(parent, "Save Results",
                      f"{folder} already holds {len(names)} file(s): {shown}.\n\nWrite the results into it? "
                      "Files with the results' names (the aligned pictures, average.png, difference.png, "
                      "overlay.gif, summary.json and summary.csv) are replaced.")
