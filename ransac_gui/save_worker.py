"""Save Results off the GUI thread: a QThread that writes the run folder and reports each step."""

from __future__ import annotations

import traceback
from collections.abc import Callable

from PyQt5.QtCore import QThread, pyqtSignal

from dea_core.alignment.job import AlignReport
from dea_core.errors import DeaError


class SaveThread(QThread):
    """Runs `write(progress)` (which writes the files and returns an AlignReport); then exactly one
    of `saved` (the report) or `failed` (a message) follows the `progressed` steps."""

    progressed = pyqtSignal(int, int)  # steps done, steps in all
    saved = pyqtSignal(object)
    failed = pyqtSignal(str)

    def __init__(self, write: Callable[[Callable[[int, int], None]], AlignReport], parent=None) -> None:
        super().__init__(parent)
        self._write = write

    def run(self) -> None:
        try:
            report = self._write(self.progressed.emit)
        except DeaError as error:
            self.failed.emit(str(error))
        except Exception as error:  # noqa: BLE001  (PyQt aborts on an exception left in run())
            traceback.print_exc()
            self.failed.emit(f"saving stopped on an unexpected error: {error!r}")
        else:
            self.saved.emit(report)
