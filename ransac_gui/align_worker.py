"""The batch off the GUI thread: a QThread that aligns each source in turn, reports each as it ends,
and stops at Cancel (pairs already done stay done)."""

from __future__ import annotations

import threading
import traceback
from pathlib import Path

from PyQt5.QtCore import QThread, pyqtSignal

from dea_core.alignment.errors import AlignmentCancelled
from dea_core.alignment.pipeline import PAIR_STEPS, AlignOptions, align_batch
from dea_core.errors import DeaError
from dea_core.io.images import read_image


class AlignThread(QThread):
    """Aligns `sources` to `reference`; after `started`, exactly one of finished_batch, cancelled,
    failed follows, and before it one `aligned_one` per source that was finished.

    failed carries a message for the whole batch (the reference cannot be read, a bad option);
    a source that cannot be read or aligned is an outcome with its error, and the batch goes on.
    """

    reference_read = pyqtSignal(object)        # (H, W, 3) uint8 BGR
    image_progress = pyqtSignal(int, float)    # source index, fraction done
    aligned_one = pyqtSignal(int, object)      # source index, PairOutcome
    finished_batch = pyqtSignal()
    cancelled = pyqtSignal()
    failed = pyqtSignal(str)

    def __init__(self, reference: Path, sources: list[Path], options: AlignOptions, parent=None) -> None:
        super().__init__(parent)
        self.reference = reference
        self.sources = list(sources)
        self.options = options
        self._stop = threading.Event()

    def cancel(self) -> None:
        self._stop.set()

    def run(self) -> None:
        try:
            reference = read_image(self.reference)
            self.reference_read.emit(reference)
            outcomes = iter(range(len(self.sources)))
            align_batch(reference, [(p.name, p) for p in self.sources], self.options,
                        progress=self._report, cancel=self._stop.is_set,
                        on_outcome=lambda outcome: self.aligned_one.emit(next(outcomes), outcome))
        except AlignmentCancelled:
            self.cancelled.emit()
        except DeaError as error:
            self.failed.emit(str(error))
        except Exception as error:  # noqa: BLE001  (PyQt aborts on an exception left in run())
            traceback.print_exc()
            self.failed.emit(f"alignment stopped on an unexpected error: {error!r}")
        else:
            self.finished_batch.emit()

    def _report(self, done: int, total: int) -> None:
        # align_batch counts PAIR_STEPS per source; step k*PAIR_STEPS ends source k-1.
        index = max(done - 1, 0) // PAIR_STEPS
        if index < len(self.sources):
            self.image_progress.emit(index, (done - index * PAIR_STEPS) / PAIR_STEPS)
