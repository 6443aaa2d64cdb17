"""The training loop: Adam, SSD's multibox loss, a learning rate cut on plateaus, exact resume.

The network is `model.SSD`; this module only feeds it. Everything random is derived from the seed:
the crops' order in epoch e from (seed, e), each crop's augmentation from (seed, e, index). So a run
stopped anywhere, even mid-epoch, and resumed from its checkpoint takes exactly the steps the
uninterrupted run would have taken (on the same device and number of threads).

Under torchrun the run is data-parallel (`dea_core.training.distributed`): `batch_size` stays the
global batch, each of the N processes trains on its share of every step's crops, and the loss is
divided by the positives of the whole batch, so the run is the one-process run up to rounding
(with batch norm over the global batch). A checkpoint therefore resumes under any number of
processes: exactly under the same number, up to rounding under another. Rank 0 alone validates,
reports progress and writes the checkpoint; a cancel in any process stops all at the same step.

Learning rate: Adam at 1e-4, divided by 10 when the epoch's mean loss has not dropped by 2% below
the best so far (the internship report's rule), after `plateau_patience` such epochs.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any, Final

import torch

from dea_core.detection.assess import evaluate_on_crops
from dea_core.detection.checkpoint import load_checkpoint, save_checkpoint, to_cpu
from dea_core.detection.dataset import CropDataset, PreparedDataset, collate, load_dataset
from dea_core.detection.device import resolve_device
from dea_core.detection.errors import CheckpointError, DetectionOptionsError
from dea_core.detection.inference import Detector
from dea_core.detection.losses import LOSS_KINDS, multibox_loss
from dea_core.detection.model import SSD, ModelConfig
from dea_core.detection.priors import PriorLayout, make_priors
from dea_core.detection.vgg_weights import load_vgg16_weights
from dea_core.training.defaults import DETECTOR_EPOCHS
from dea_core.training.distributed import Distributed, distributed
from dea_core.training.loop import EpochTrainer
from dea_core.training.progress import TrainProgress

DEFAULT_LEARNING_RATE: Final = 1e-3  # what both benchmarks train with (Adam, /10 on a plateau)
VAL_AP_THRESHOLDS: Final = (0.5, 0.75)  # history keys val_ap50, val_ap75


@dataclass(frozen=True)
class TrainConfig:
    """How to train; saved in the checkpoint. `epochs` may be raised when resuming."""

    epochs: int = DETECTOR_EPOCHS
    batch_size: int = 8  # crops per step, over all processes under torchrun
    learning_rate: float = DEFAULT_LEARNING_RATE
    loss: str = "diou"
    alpha: float = 1.0  # weight of the localization loss
    plateau_drop: float = 0.02  # an epoch must lower the best mean loss by this share ...
    plateau_patience: int = 1  # ... or, after this many more epochs, the rate is divided by 10
    min_learning_rate: float = 1e-7
    seed: int = 0
    mirror: bool = True
    validate: bool = True  # validation loss and AP@0.5, AP@0.75 after each epoch, in the history
    device: str = "auto"
    workers: int = 0

    def __post_init__(self) -> None:
        if self.loss not in LOSS_KINDS:
            raise DetectionOptionsError(f"unknown box loss {self.loss!r}; choose one of {', '.join(LOSS_KINDS)}")
        if self.epochs < 1 or self.batch_size < 1 or not self.learning_rate > 0:
            raise DetectionOptionsError("epochs and batch size must be at least 1, the learning rate positive")


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
    model: SSD  # the trained network, on the device it trained on


ProgressCallback = Callable[[TrainProgress], None]


def train_detector(dataset_dir: str | os.PathLike[str], checkpoint_path: str | os.PathLike[str],
                   model_config: ModelConfig | None = None, config: TrainConfig = TrainConfig(), *,
                   backbone: str = "vgg16", priors: str = "ssd300", vgg_weights: str | os.PathLike[str] | None = None,
                   resume: str | os.PathLike[str] | None = None, progress: ProgressCallback | None = None,
                   cancel: Callable[[], bool] | None = None) -> TrainResult:
    """Train (or resume training) an SSD on a prepared dataset; the checkpoint is written after every
    epoch and on cancel (then TrainingCancelled is raised, naming the file to resume from).
    Under torchrun every process calls it; rank 0 alone reports progress and writes the file.

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
    with distributed(resolve_device(config.device)) as dist:
        trainer = _Trainer(model, model_config, config, dataset, dist, state, optimizer_state)
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
    config = replace(saved, epochs=config.epochs, device=config.device, workers=config.workers)
    state = TrainState(**record["training"])
    check_new_total(path, config.epochs, state.epoch)
    model = SSD(model_config)
    model.load_state_dict(record["model"])
    return model, model_config, config, state, record["optimizer"]


def check_new_total(path: str | os.PathLike[str], epochs: int, done: int) -> None:
    """Refuse a resumed run whose new total of epochs (`--epochs`) is below the epochs already done."""
    if epochs < done:
        raise DetectionOptionsError(f"{path}: --epochs {epochs} is fewer than the {done} epochs already trained; "
                                    f"give the new total, at least {done} (or leave --epochs out to finish the run)")


class _Trainer(EpochTrainer):
    def __init__(self, model: SSD, model_config: ModelConfig, config: TrainConfig, dataset: PreparedDataset,
                 dist: Distributed, state: TrainState, optimizer_state: dict | None) -> None:
        device = dist.device
        self.model, self.model_config, self.config, self.dataset = model.to(device), model_config, config, dataset
        self.dist, self.device, self.state = dist, device, state
        self.network = dist.wrap(self.model)  # what trains (DDP under torchrun); self.model is saved
        self.priors = make_priors(PriorLayout(model_config.priors)).to(device)
        self.optimizer = torch.optim.Adam(self.network.parameters(), lr=state.learning_rate)
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
        self.train_epochs(checkpoint_path, progress, cancel)
        self.state.finished = True
        self._save(checkpoint_path)
        return TrainResult(checkpoint_path, self.state, self.model_config, self.model)

    @property
    def learning_rate(self) -> float:
        return self.state.learning_rate

    @property
    def workers(self) -> int:
        return self.config.workers

    def _step(self, batch) -> float:
        images, boxes, labels = batch
        images = images.to(self.device, non_blocking=True)
        boxes = [b.to(self.device) for b in boxes]
        labels = [lbl.to(self.device) for lbl in labels]
        with torch.autocast(self.device.type, dtype=torch.float16, enabled=self.amp):
            offsets, scores = self.network(images)
        loss, parts = multibox_loss(offsets, scores, self.priors, boxes, labels, self.config.loss, self.config.alpha)
        loss = loss * self.dist.share_of_global(parts["positives"])
        self.optimizer.zero_grad(set_to_none=True)
        self.scaler.scale(loss).backward()
        self.scaler.step(self.optimizer)
        self.scaler.update()
        return self.dist.mean(float(loss.detach()))

    def _end_epoch(self) -> None:
        config, state = self.config, self.state
        record = self.dist.broadcast(self._epoch_record() if self.dist.is_main else None)
        state.history.append(record)
        mean = record["loss"]
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

    def _epoch_record(self) -> dict[str, float]:
        """The epoch's line of the history: mean loss, learning rate and, when validating, val scores."""
        state = self.state
        record = {"epoch": state.epoch + 1, "loss": state.loss_sum / max(state.step, 1),
                  "learning_rate": state.learning_rate}
        if self.config.validate and len(self.val_set):
            record["val_loss"] = validation_loss(self.model, self.val_set, self.priors, self.config, self.device)
            record.update(self._validation_ap())
        return record

    def _validation_ap(self) -> dict[str, float]:
        """Mean AP over the classes on the val crops at VAL_AP_THRESHOLDS (none when they hold no box)."""
        options = self.dataset.options
        detector = Detector(self.model, options.crop_size, options.image_size, self.device)
        report = evaluate_on_crops(detector, self.dataset, "val", self.config.batch_size)
        self.model.train()
        return {f"val_ap{round(100 * t)}": report.mean[t] for t in VAL_AP_THRESHOLDS if not math.isnan(report.mean[t])}

    def _save(self, path: Path) -> None:
        """Rank 0 writes the checkpoint; the other processes wait until it is there."""
        if self.dist.is_main:
            self._write(path)
        self.dist.barrier()

    def _write(self, path: Path) -> None:
        save_checkpoint(path, {
            "model_config": self.model_config.to_dict(),
            "data": data_settings(self.dataset),
            "train_config": asdict(self.config),
            "model": {k: v.detach().cpu() for k, v in self.model.state_dict().items()},
            "optimizer": to_cpu(self.optimizer.state_dict()),
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
