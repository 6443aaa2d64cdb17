"""The epoch loop both trainers share (the detector's and the DEA's).

Each process takes its share of every seeded global batch (`Distributed.epoch_batches`); a run
resumed mid-epoch skips the steps already done, so it takes exactly the steps the uninterrupted
run would have. A cancel in any process stops all at the same step, after the checkpoint is saved.
Only rank 0 reports progress. A subclass says what a step, the end of an epoch and a checkpoint
are; its `state` holds epoch, step and loss_sum, its `config` epochs, batch_size and seed.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch

from dea_core.detection.dataset import collate
from dea_core.detection.errors import DetectionError, TrainingCancelled
from dea_core.training.distributed import Distributed
from dea_core.training.progress import StepClock, TrainProgress


class TrainingDiverged(DetectionError):
    """The loss became NaN or infinite: the weights are garbage from there on, so training stops."""


class EpochTrainer(ABC):
    """Base of a training loop over `train_set`, a CropDataset of a prepared dataset."""

    dist: Distributed
    config: Any
    state: Any
    train_set: Any
    network: torch.nn.Module
    what = "training"  # for the cancel message
    workers = 0

    def train_epochs(self, path: Path, progress: Callable[[TrainProgress], None] | None,
                     cancel: Callable[[], bool] | None) -> None:
        """Run the epochs left, with a checkpoint at `path` after each; TrainingCancelled on cancel."""
        config, state, dist = self.config, self.state, self.dist
        clock = StepClock(config.epochs, len(self._epoch_batches(0)), state.epoch, state.step)
        while state.epoch < config.epochs:
            self.train_set.set_epoch(state.epoch)
            self._train_mode()
            for batch_index, batch in self._batches(state.epoch, state.step):
                if dist.any(cancel is not None and cancel()):
                    self._save(path)
                    raise TrainingCancelled(f"{self.what} cancelled at epoch {state.epoch + 1}, step {state.step}; "
                                            f"resume with --resume {path}")
                loss = self._step(batch)
                if not math.isfinite(loss):
                    raise TrainingDiverged(f"{path}: the loss became {loss} at epoch {state.epoch + 1}, step "
                                           f"{batch_index + 1}; this epoch is not saved. Check the dataset's boxes "
                                           "(`dea prepare` again) or lower --lr")
                state.loss_sum += loss
                state.step = batch_index + 1
                if progress is not None and dist.is_main:
                    progress(clock.progress(state.epoch, state.step, state.loss_sum / state.step, self.learning_rate))
            self._end_epoch()
            self._save(path)

    @property
    def learning_rate(self) -> float:
        return self.config.learning_rate

    def _train_mode(self) -> None:
        self.network.train()

    def _epoch_batches(self, epoch: int) -> list[list[int]]:
        """This process's items of each step of an epoch (all of them when alone)."""
        return self.dist.epoch_batches(len(self.train_set), self.config.batch_size, self.config.seed, epoch)

    def _batches(self, epoch: int, skip: int):
        loader = torch.utils.data.DataLoader(self.train_set, batch_sampler=self._epoch_batches(epoch)[skip:],
                                             collate_fn=collate, num_workers=self.workers)
        return enumerate(loader, start=skip)

    @abstractmethod
    def _step(self, batch: Any) -> float:
        """One optimiser step; the batch's loss, the same in every process."""

    @abstractmethod
    def _end_epoch(self) -> None:
        """Record the epoch in `state.history` and move `state` to the next epoch's start."""

    @abstractmethod
    def _save(self, path: Path) -> None:
        """Write the checkpoint (rank 0), the others waiting for it."""
