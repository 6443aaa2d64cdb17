"""Matching off the GUI thread: a QThread that runs the engine, reports progress, and stops on Cancel."""

from __future__ import annotations

import threading
import traceback
from collections.abc import Callable

from PyQt5.QtCore import QThread, pyqtSignal

from dea_core.errors import DeaError, MatchCancelled
from dea_core.matching.matcher import CancelCheck, ProgressCallback


class MatchThread(QThread):
    """Runs `work(progress, cancel)` once; exactly one of succeeded, failed, cancelled follows.

    A result that arrives after Cancel was pressed is reported as cancelled: the person asked for
    nothing to change, and nothing does.
    """

    progressed = pyqtSignal(int, int)
    succeeded = pyqtSignal(object)
    # Subclasses running other engine work (the detector) name it and the errors that mean "cancelled".
    TASK = "matching"
    CANCELLED: tuple[type[Exception], ...] = (MatchCancelled,)
    failed = pyqtSignal(str)
    cancelled = pyqtSignal()

    def __init__(self, work: Callable[[ProgressCallback, CancelCheck], object], parent=None) -> None:
        super().__init__(parent)
        self._work = work
        self._stop = threading.Event()

    def cancel(self) -> None:
        self._stop.set()

    def cancel_requested(self) -> bool:
        return self._stop.is_set()

    def run(self) -> None:
        try:
            result = self._work(self.progressed.emit, self._stop.is_set)
        except self.CANCELLED:
            self.cancelled.emit()
        except DeaError as error:
            self.failed.emit(str(error))
        except Exception as error:  # noqa: BLE001  (PyQt aborts on an exception left in run())
            traceback.print_exc()
            self.failed.emit(f"{self.TASK} stopped on an unexpected error: {error!r}")
        else:
            if self._stop.is_set():
                self.cancelled.emit()
            else:
                self.succeeded.emit(result)
