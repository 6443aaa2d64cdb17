"""The window's dialogs: messages, the unsaved-results question, file and folder choosers.

Each goes through QMessageBox's and QFileDialog's static functions, which tests replace.
"""

from __future__ import annotations

from pathlib import Path

from PyQt5.QtWidgets import QFileDialog, QMessageBox, QWidget

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
