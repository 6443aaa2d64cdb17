"""Open a saved page in the installed LabelMe for hand edits, and say when LabelMe closes."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

from PyQt5.QtCore import QObject, QProcess, pyqtSignal

NOT_INSTALLED = ("LabelMe could not be started{why}. Install it in the environment AutoLabelme runs in "
                 "(pip install 'labelme>=6,<7'), or open {path} in LabelMe yourself.")


def find_labelme() -> str | None:
    """The `labelme` command beside this Python (a virtual environment), else on PATH."""
    beside = Path(sys.executable).with_name("labelme")
    if beside.is_file():
        return str(beside)
    return shutil.which("labelme")


class LabelmeLauncher(QObject):
    """Runs `labelme FILE` in a QProcess; `closed(path)` when it ends, `failed(message)` when it
    cannot start. One LabelMe at a time."""

    closed = pyqtSignal(str)
    failed = pyqtSignal(str)

    def __init__(self, parent: QObject | None = None, program: str | None = None) -> None:
        super().__init__(parent)
        self.program = program if program is not None else find_labelme()
        self._process: QProcess | None = None
        self._path: Path | None = None

    def running(self) -> bool:
        return self._process is not None

    def launch(self, path: Path) -> bool:
        """Start LabelMe on `path`; False (and `failed`) when there is no LabelMe to start."""
        if self._process is not None:
            self.failed.emit("LabelMe is already open; close it first, and AutoLabelme reloads the page.")
            return False
        if not self.program:
            self.failed.emit(NOT_INSTALLED.format(why=" (no 'labelme' command found)", path=path))
            return False
        process = QProcess(self)
        process.setProcessChannelMode(QProcess.ForwardedChannels)
        process.finished.connect(self._finished)
        process.errorOccurred.connect(self._error)
        self._process, self._path = process, Path(path)
        process.start(self.program, [str(path)])
        return True

    def wait(self, msecs: int = 30000) -> None:
        if self._process is not None:
            self._process.waitForFinished(msecs)

    def _finished(self, *_args) -> None:
        path = self._path
        self._drop()
        if path is not None:
            self.closed.emit(str(path))

    def _error(self, error: QProcess.ProcessError) -> None:
        if error != QProcess.FailedToStart:
            return
        path = self._path
        self._drop()
        self.failed.emit(NOT_INSTALLED.format(why=f" ('{self.program}' did not start)", path=path))

    def _drop(self) -> None:
        if self._process is not None:
            self._process.deleteLater()
        self._process = self._path = None
