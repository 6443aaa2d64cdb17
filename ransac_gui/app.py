"""The RANSAC GUI main window. Alignment arrives with its own issue; the window and its entry
point are here so that the suite installs and starts as a whole."""

from __future__ import annotations

import sys

from PyQt5.QtCore import Qt
from PyQt5.QtWidgets import QApplication, QLabel, QMainWindow

APP_NAME = "RANSAC GUI"


class MainWindow(QMainWindow):
    """The alignment window: for now, its title and a note on what is coming."""

    def __init__(self, folder: str | None = None) -> None:
        super().__init__()
        self.setWindowTitle(APP_NAME if folder is None else f"{APP_NAME} - {folder}")
        self.resize(1000, 700)
        message = QLabel("Aligning page scans to a reference is being built.")
        message.setAlignment(Qt.AlignCenter)
        self.setCentralWidget(message)
        self.menuBar().addMenu("&File").addAction("&Quit", self.close, "Ctrl+Q")


def main(argv: list[str] | None = None) -> int:
    """Start the window (the `ransac-gui [FOLDER]` command)."""
    args = list(sys.argv if argv is None else argv)
    app = QApplication(args)
    window = MainWindow(args[1] if len(args) > 1 else None)
    window.show()
    return app.exec_()
