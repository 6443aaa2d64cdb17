"""The training loop: Adam, SSD's multibox loss, a learning rate cut on plateaus, exact resume.

The network is `model.SSD`; this module only feeds it. Everything random is derived from the seed:
the crops' order in epoch e from (seed, e), each crop's augmentation from (seed, e, index). So a run
stopped anywhere, even mid-epoch, and resumed from its checkpoint takes exactly the steps the
uninterrupted run would have taken (on the same device and number of threads).

Learning rate: Adam at 1e-4, divided by 10 when the epoch's mean loss has not dropped by 2% below
the best so far (the internship report's rule), after `plateau_patience` such epochs.
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any, Final

import numpy as np
import torch

from dea_core.detection.checkpoint import load_checkpoint, save_checkpoint
from dea_core.detection.dataset import CropDataset, PreparedDataset, collate, load_dataset
from dea_core.detection.device import resolve_device
from dea_core.detection.errors import CheckpointError, DetectionOptionsError, TrainingCancelled
from dea_core.detection.losses import LOSS_KINDS, multibox_loss
from dea_core.detection.model import SSD, ModelConfig
from dea_core.detection.priors import PriorLayout, make_priors
from dea_core.detection.vgg_weights import load_vgg16_weights

DEFAULT_LEARNING_RATE: Final = 1e-4


@dataclass(frozen=True)
class TrainConfig:
    """How to train; saved in the checkpoint. `epochs` may be raised when resuming."""

    epochs: int = 30
    batch_size: int = 8
    learning_rate: float = DEFAULT_LEARNING_RATE
    loss: str = "diou"
    alpha: float = 1.0  # weight of the localization loss
    plateau_drop: float = 0.02  # an epoch must lower the best mean loss by this share ...
    plateau_patience: int = 1  # ... or, after this many more epochs, the rate is divided by 10
    min_learning_rate: float = 1e-7
    seed: int = 0
    mirror: bool = True
    validate: bool = True  # mean validation loss after each epoch, in the history
    device: str = "auto"
    workers: int = 0

    def __post_init__(self) -> None:
        if self.loss not in LOSS_KINDS:
            raise DetectionOptionsError(f"unknown box loss {self.loss!r}; choose one of {', '.join(LOSS_KINDS)}")
        if self.epochs < 1 or self.batch_size < 1 or not self.learning_rate > 0:
            raise DetectionOptionsError("epochs and batch size must be at least 1, the learning rate positive")


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


@dataclass
class TrainState:
    """Where training stands: saved in every checkpoint, restored on resume."""

    epoch: int = 0
    step: int = 0
    loss_sum: float = 0.0  # sum of this epoch's step losses so far
    best_loss: float = math.inf
    bad_epochs: int = 0
    learning_rate: float = DEFAULT_LEARNING_RATE
    history: list[dict[str, float]] = field(default_factory=list)
    finished: bool = False


@dataclass
class TrainResult:
    checkpoint: Path
    state: TrainState
    model_config: ModelConfig


ProgressCallback = Callable[[TrainProgress], None]


def train_detector(dataset_dir: str | os.PathLike[str], checkpoint_path: str | os.PathLike[str],
                   model_config: ModelConfig | None = None, config: TrainConfig = TrainConfig(), *,
                   backbone: str = "vgg16", priors: str = "ssd300", vgg_weights: str | os.PathLike[str] | None = None,
                   resume: str | os.PathLike[str] | None = None, progress: ProgressCallback | None = None,
                   cancel: Callable[[], bool] | None = None) -> TrainResult:
    """Train (or resume training) an SSD on a prepared dataset; the checkpoint is written after every
    epoch and on cancel (then TrainingCancelled is raised, naming the file to resume from).

    Without `model_config`, the classes come from the dataset and backbone/priors from the arguments.
    With `resume`, the model, its settings and the training state come from that checkpoint;
    `config.epochs` may extend the run.
    """
    dataset = load_dataset(dataset_dir)
    checkpoint_path = Path(checkpoint_path)
    if resume is not None:
        model, model_config, config, state, optimizer_state = _resumed(resume, dataset, config)
    else:
        model_config = model_config or ModelConfig(tuple(dataset.classes), backbone, priors)
        torch.manual_seed(config.seed)
        model = SSD(model_config)
        if vgg_weights is not None:
            load_vgg16_weights(model, vgg_weights)
        state, optimizer_state = TrainState(learning_rate=config.learning_rate), None
    device = resolve_device(config.device)
    trainer = _Trainer(model, model_config, config, dataset, device, state, optimizer_state)
    return trainer.run(checkpoint_path, progress, cancel)


def _resumed(path: str | os.PathLike[str], dataset: PreparedDataset, config: TrainConfig):
    record = load_checkpoint(path)
    if "training" not in record or "optimizer" not in record:
        raise CheckpointError(f"{path}: holds weights only, no training state to resume from")
    model_config = ModelConfig.from_dict(record["model_config"])
    if list(model_config.classes) != dataset.classes:
        raise CheckpointError(f"{path}: trained on classes {', '.join(model_config.classes)}, but the dataset "
                              f"has {', '.join(dataset.classes)}; resume on the same dataset")
    saved = TrainConfig(**record["train_config"])
    config = replace(saved, epochs=max(config.epochs, saved.epochs), device=config.device, workers=config.workers)
    model = SSD(model_config)
    model.load_state_dict(record["model"])
    return model, model_config, config, TrainState(**record["training"]), record["optimizer"]


class _Trainer:
    def __init__(self, model: SSD, model_config: ModelConfig, config: TrainConfig, dataset: PreparedDataset,
                 device: torch.device, state: TrainState, optimizer_state: dict | None) -> None:
        self.model, self.model_config, self.config, self.dataset = model.to(device), model_config, config, dataset
        self.device, self.state = device, state
        self.priors = make_priors(PriorLayout(model_config.priors)).to(device)
        self.optimizer = torch.optim.Adam(self.model.parameters(), lr=state.learning_rate)
        if optimizer_state is not None:
            self.optimizer.load_state_dict(optimizer_state)
        self.amp = device.type == "cuda"
        self.scaler = torch.amp.GradScaler("cuda", enabled=self.amp)
        classes = model_config.classes
        self.train_set = CropDataset(dataset, "train", classes, augment=True, seed=config.seed, mirror_too=config.mirror)
        self.val_set = CropDataset(dataset, "val", classes)
        if len(self.train_set) == 0:
            raise DetectionOptionsError(f"{dataset.root}: the training split has no crops")

    def run(self, checkpoint_path: Path, progress: ProgressCallback | None,
            cancel: Callable[[], bool] | None) -> TrainResult:
        config, state = self.config, self.state
        steps = math.ceil(len(self.train_set) / config.batch_size)
        start, done_at_start = time.monotonic(), state.epoch * steps + state.step
        while state.epoch < config.epochs:
            self.train_set.set_epoch(state.epoch)
            self.model.train()
            for batch_index, batch in self._batches(state.epoch, state.step):
                if cancel is not None and cancel():
                    self._save(checkpoint_path)
                    raise TrainingCancelled(
                        f"training cancelled at epoch {state.epoch + 1}, step {state.step}; resume with "
                        f"--resume {checkpoint_path}")
                state.loss_sum += self._step(batch)
                state.step = batch_index + 1
                if progress is not None:
                    elapsed = time.monotonic() - start
                    done = state.epoch * steps + state.step - done_at_start
                    left = config.epochs * steps - state.epoch * steps - state.step
                    progress(TrainProgress(state.epoch, config.epochs, state.step, steps, state.loss_sum / state.step,
                                           state.learning_rate, elapsed, elapsed / max(done, 1) * left))
            self._end_epoch(steps)
            self._save(checkpoint_path)
        state.finished = True
        self._save(checkpoint_path)
        return TrainResult(checkpoint_path, state, self.model_config)

    def _batches(self, epoch: int, skip: int):
        order = np.random.default_rng([self.config.seed, epoch]).permutation(len(self.train_set))
        size = self.config.batch_size
        batches = [order[i:i + size].tolist() for i in range(0, len(order), size)]
        loader = torch.utils.data.DataLoader(self.train_set, batch_sampler=batches[skip:], collate_fn=collate,
                                             num_workers=self.config.workers)
        return enumerate(loader, start=skip)

    def _step(self, batch) -> float:
        images, boxes, labels = batch
        images = images.to(self.device, non_blocking=True)
        boxes = [b.to(self.device) for b in boxes]
        labels = [lbl.to(self.device) for lbl in labels]
        with torch.autocast(self.device.type, dtype=torch.float16, enabled=self.amp):
            offsets, scores = self.model(images)
        loss, _ = multibox_loss(offsets, scores, self.priors, boxes, labels, self.config.loss, self.config.alpha)
        self.optimizer.zero_grad(set_to_none=True)
        self.scaler.scale(loss).backward()
        self.scaler.step(self.optimizer)
        self.scaler.update()
        return float(loss.detach())

    def _end_epoch(self, steps: int) -> None:
        config, state = self.config, self.state
        mean = state.loss_sum / max(state.step, 1)
        record = {"epoch": state.epoch + 1, "loss": mean, "learning_rate": state.learning_rate}
        if config.validate and len(self.val_set):
            record["val_loss"] = validation_loss(self.model, self.val_set, self.priors, config, self.device)
        state.history.append(record)
        if mean < state.best_loss * (1 - config.plateau_drop):
            state.best_loss, state.bad_epochs = mean, 0
        else:
            state.bad_epochs += 1
            if state.bad_epochs > config.plateau_patience:
                state.learning_rate = max(state.learning_rate * 0.1, config.min_learning_rate)
                state.bad_epochs = 0
                for group in self.optimizer.param_groups:
                    group["lr"] = state.learning_rate
        state.epoch, state.step, state.loss_sum = state.epoch + 1, 0, 0.0

    def _save(self, path: Path) -> None:
        save_checkpoint(path, {
            "model_config": self.model_config.to_dict(),
            "data": data_settings(self.dataset),
            "train_config": asdict(self.config),
            "model": {k: v.detach().cpu() for k, v in self.model.state_dict().items()},
            "optimizer": _to_cpu(self.optimizer.state_dict()),
            "training": asdict(self.state),
        })


def data_settings(dataset: PreparedDataset) -> dict[str, Any]:
    """What inference must know of the training data: the crop's size on the page and the input size."""
    return {"crop_size": dataset.options.crop_size, "image_size": dataset.options.image_size,
            "dataset": str(dataset.root.resolve())}


@torch.no_grad()
def validation_loss(model: SSD, crops: CropDataset, priors: torch.Tensor, config: TrainConfig,
                    device: torch.device) -> float:
    """Mean multibox loss over a split, without augmentation."""
    model.eval()
    loader = torch.utils.data.DataLoader(crops, batch_size=config.batch_size, collate_fn=collate)
    total, count = 0.0, 0
    for images, boxes, labels in loader:
        with torch.autocast(device.type, dtype=torch.float16, enabled=device.type == "cuda"):
            offsets, scores = model(images.to(device))
        loss, _ = multibox_loss(offsets, scores, priors, [b.to(device) for b in boxes],
                                [lbl.to(device) for lbl in labels], config.loss, config.alpha)
        total, count = total + float(loss) * len(images), count + len(images)
    model.train()
    return total / max(count, 1)


def _to_cpu(value: Any) -> Any:
    if isinstance(value, torch.Tensor):
        return value.detach().cpu()
    if isinstance(value, dict):
        return {k: _to_cpu(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_to_cpu(v) for v in value]
    return value
