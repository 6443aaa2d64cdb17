"""What a training loop tells whoever follows it after every step, with the time left."""

from __future__ import annotations

import time
from dataclasses import dataclass


@dataclass
class TrainProgress:
    """What the progress callback receives after every step."""

    epoch: int  # from 0
    epochs: int
    step: int  # steps done in this epoch
    steps_per_epoch: int
    loss: float  # mean training loss of this epoch so far
    learning_rate: float
    elapsed_s: float
    eta_s: float

    @property
    def fraction(self) -> float:
        return (self.epoch * self.steps_per_epoch + self.step) / max(1, self.epochs * self.steps_per_epoch)


class StepClock:
    """Times a run (or its resumed part) to say, after each step, how long the rest will take."""

    def __init__(self, epochs: int, steps_per_epoch: int, epoch: int, step: int) -> None:
        self.epochs, self.steps_per_epoch = epochs, steps_per_epoch
        self.start, self.done_at_start = time.monotonic(), epoch * steps_per_epoch + step

    def progress(self, epoch: int, step: int, loss: float, learning_rate: float) -> TrainProgress:
        """The report after `step` steps of epoch `epoch` (from 0), the ETA from this session's pace."""
        elapsed = time.monotonic() - self.start
        done = epoch * self.steps_per_epoch + step
        left = self.epochs * self.steps_per_epoch - done
        return TrainProgress(epoch, self.epochs, step, self.steps_per_epoch, loss, learning_rate, elapsed,
                             elapsed / max(done - self.done_at_start, 1) * left)
