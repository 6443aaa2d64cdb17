"""The AutoLabelme main window. The annotation panes arrive with their own issue; the window,
its menus and its entry point are here so that the suite installs and starts as a whole."""

from __future__ import annotations

import sys

from PyQt5.QtCore import Qt
from PyQt5.QtWidgets import QApplication, QLabel, QMainWindow, QMessageBox

APP_NAME = "AutoLabelme"


class MainWindow(QMainWindow):
    """AutoLabelme's window: for now, its menus and a pointer to the command line."""

    def __init__(self) -> None:
        super().__init__()
        self.setWindowTitle(APP_NAME)
        self.resize(1000, 700)
        message = QLabel(
            "The annotation window is being built.\n\n"
            "Until then, match a LabelMe page from a terminal:\n"
            "dea match PAGE.json -o OUT.json --rotations 0,90,180,270 --flip --neighbourhood page")
        message.setAlignment(Qt.AlignCenter)
        message.setTextInteractionFlags(Qt.TextSelectableByMouse)
        self.setCentralWidget(message)
        file_menu = self.menuBar().addMenu("&File")
        file_menu.addAction("&Quit", self.close, "Ctrl+Q")
        training_menu = self.menuBar().addMenu("&Training")
        self.train_action = training_menu.addAction("Train detector...", self._training_not_ready)

    def _training_not_ready(self) -> None:
        QMessageBox.information(self, APP_NAME, "Detector training is not available yet.")


def main(argv: list[str] | None = None) -> int:
    """Start the window (the `autolabelme` command)."""
    app = QApplication(list(sys.argv if argv is None else argv))
    window = MainWindow()
    window.show()
    return app.exec_()
