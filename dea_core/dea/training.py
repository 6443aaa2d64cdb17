"""Training the DEA's decoder on the catalogue's vignettes, and calibrating its alarm threshold.

The redraw decoder (the default) is trained by `redraw_training.py`, in one go, on one process;
what follows is the seed decoders' (fc, deconv) training.

Data: a dataset prepared for the detector (`dea prepare`): every box of every training crop is a
vignette to reconstruct (L2 loss on the paper-normalised box, `vignettes.vignette_targets`). The
detector is frozen by default (its weights and batch statistics stay as trained, so the encoder
keeps the features that recognise the catalogue); with `fine_tune_detector` it trains jointly,
its own box loss (the one it was trained with: GIoU, DIoU ...) added to the reconstruction loss.

Adam at 1e-4, seeded batch order and augmentation (as the detector's training), checkpoints after
every epoch and on cancel, exact resume. At the end, the threshold is calibrated: the anomaly
scores of the genuine vignettes of the validation pages (never trained on) are computed and the
threshold is put where only `false_alarm_rate` of them (default 1%) would raise an alarm.

Under torchrun the run is data-parallel as the detector's (`dea_core.training.distributed`):
`batch_size` is the global batch, the reconstruction loss is averaged over the vignettes of the
whole batch, rank 0 alone validates, calibrates, reports progress and writes the checkpoint.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any, Final

import numpy as np
import torch
import torch.nn.functional as F

from dea_core.dea.model import DEA, DEAConfig
from dea_core.dea.redraw_training import calibrate_leave_one_out, fit_redraw, genuine_layouts
from dea_core.dea.saved import CHECKPOINT_KIND, dea_from_record
from dea_core.dea.vignettes import anomaly_scores, redraw, vignette_targets
from dea_core.detection.checkpoint import first_line, load_checkpoint, save_checkpoint, to_cpu
from dea_core.detection.dataset import CropDataset, PreparedDataset, collate, load_dataset
from dea_core.detection.device import resolve_device
from dea_core.detection.errors import CheckpointError, DetectionOptionsError
from dea_core.detection.losses import multibox_loss
from dea_core.detection.model import INPUT_SIZE, SSD, ModelConfig
from dea_core.detection.priors import PriorLayout, make_priors
from dea_core.detection.training import check_new_total, data_settings
from dea_core.training.defaults import DEA_EPOCHS
from dea_core.training.distributed import Distributed, distributed
from dea_core.training.loop import EpochTrainer
from dea_core.training.progress import TrainProgress

DEFAULT_FALSE_ALARM_RATE: Final = 0.01

ProgressCallback = Callable[[TrainProgress], None]


@dataclass(frozen=True)
class DEATrainConfig:
    """How to train the DEA; saved in the checkpoint. `epochs` may be raised when resuming."""

    epochs: int = DEA_EPOCHS
    batch_size: int = 8
    learning_rate: float = 1e-4
    fine_tune_detector: bool = False
    detector_weight: float = 1.0  # weight of the detector's loss when fine-tuning
    false_alarm_rate: float = DEFAULT_FALSE_ALARM_RATE
    seed: int = 0
    mirror: bool = True
    device: str = "auto"

    def __post_init__(self) -> None:
        if self.epochs < 1 or self.batch_size < 1 or not self.learning_rate > 0:
            raise DetectionOptionsError("epochs and batch size must be at least 1, the learning rate positive")
        if not 0.0 < self.false_alarm_rate < 0.5:
            raise DetectionOptionsError("the false-alarm rate must lie between 0 and 0.5 (0.01 is 1%)")


@dataclass
class DEATrainState:
    """Where training stands: saved in every checkpoint, restored on resume."""

    epoch: int = 0
    step: int = 0
    loss_sum: float = 0.0
    history: list[dict[str, float]] = field(default_factory=list)
    finished: bool = False


@dataclass
class DEATrainResult:
    checkpoint: Path
    state: DEATrainState
    calibration: dict[str, Any]


def train_dea(dataset_dir: str | os.PathLike[str], detector_path: str | os.PathLike[str],
              checkpoint_path: str | os.PathLike[str], dea_config: DEAConfig = DEAConfig(),
              config: DEATrainConfig = DEATrainConfig(), *, resume: str | os.PathLike[str] | None = None,
              progress: ProgressCallback | None = None, cancel: Callable[[], bool] | None = None) -> DEATrainResult:
    """Train (or resume) a DEA over a trained detector; the checkpoint is written after every epoch, on
    cancel (then TrainingCancelled names the file to resume from) and, calibrated, at the end."""
    dataset = load_dataset(dataset_dir)
    if dea_config.decoder == "redraw" and resume is None:
        return _train_redraw(dataset, detector_path, Path(checkpoint_path), dea_config, config, progress, cancel)
    if resume is not None:
        if (load_checkpoint(resume, CHECKPOINT_KIND).get("dea_config") or {}).get("decoder") == "redraw":
            raise DetectionOptionsError(f"{resume}: a redraw decoder is trained in one go (minutes); train it again "
                                        "without --resume")
        model, detector_record, config, state, optimizer_state = _resumed(resume, config)
    else:
        detector_record = load_checkpoint(detector_path)
        torch.manual_seed(config.seed)
        model = DEA(_detector_from(detector_record, detector_path), dea_config)
        state, optimizer_state = DEATrainState(), None
    with distributed(resolve_device(config.device)) as dist:
        trainer = _Trainer(model, detector_record, config, dataset, dist, state, optimizer_state)
        return trainer.run(Path(checkpoint_path), progress, cancel)


def _train_redraw(dataset: PreparedDataset, detector_path: str | os.PathLike[str], path: Path, dea_config: DEAConfig,
                  config: DEATrainConfig, progress: ProgressCallback | None,
                  cancel: Callable[[], bool] | None) -> DEATrainResult:
    """The redraw decoder's training (redraw_training.py): quick, on one process, written once at the end."""
    detector_record = load_checkpoint(detector_path)
    torch.manual_seed(config.seed)
    device = resolve_device(config.device)
    model = DEA(_detector_from(detector_record, detector_path), dea_config).to(device)
    data = detector_record.get("data") or data_settings(dataset)
    crop_size, image_size = int(data["crop_size"]), int(data["image_size"])
    history = fit_redraw(model, dataset, crop_size, image_size, config.epochs, config.seed, device, progress, cancel)
    calibration = calibrate_leave_one_out(model, dataset, config.false_alarm_rate)
    state = DEATrainState(epoch=config.epochs, history=history, finished=True)
    save_checkpoint(path, {
        "model_config": model.detector.config.to_dict(), "data": data, "dea_config": dea_config.to_dict(),
        "train_config": asdict(config), "detector_train_config": detector_record.get("train_config") or {},
        "model": {k: v.detach().cpu() for k, v in model.state_dict().items()}, "training": asdict(state),
        "calibration": calibration, "layouts": [layout.to_dict() for layout in genuine_layouts(dataset)],
    }, CHECKPOINT_KIND)
    return DEATrainResult(path, state, calibration)


def _detector_from(record: dict[str, Any], path: str | os.PathLike[str]) -> SSD:
    try:
        detector = SSD(ModelConfig.from_dict(record["model_config"]))
        detector.load_state_dict(record["model"])
    except (KeyError, TypeError, ValueError, RuntimeError) as error:
        raise CheckpointError(f"{path}: its settings do not describe a detector of this suite "
                              f"({first_line(error)})") from error
    return detector


def _resumed(path: str | os.PathLike[str], config: DEATrainConfig):
    record = load_checkpoint(path, CHECKPOINT_KIND)
    if "training" not in record or "optimizer" not in record:
        raise CheckpointError(f"{path}: holds weights only, no training state to resume from")
    saved = DEATrainConfig(**record["train_config"])
    config = replace(saved, epochs=config.epochs, device=config.device)
    check_new_total(path, config.epochs, int(record["training"].get("epoch", 0)))
    detector_record = {"model_config": record["model_config"], "data": record["data"],
                       "train_config": record.get("detector_train_config") or {}}
    return (dea_from_record(record, path), detector_record, config, DEATrainState(**record["training"]),
            record["optimizer"])


class _Trainer(EpochTrainer):
    what = "DEA training"

    def __init__(self, model: DEA, detector_record: dict[str, Any], config: DEATrainConfig,
                 dataset: PreparedDataset, dist: Distributed, state: DEATrainState,
                 optimizer_state: dict | None) -> None:
        device = dist.device
        self.model, self.config, self.dataset, self.state = model.to(device), config, dataset, state
        self.dist, self.device, self.detector_record = dist, device, detector_record
        classes = model.detector.config.classes
        self.train_set = CropDataset(dataset, "train", classes, augment=True, seed=config.seed,
                                     mirror_too=config.mirror)
        self.val_set = CropDataset(dataset, "val", classes)
        if len(self.train_set) == 0:
            raise DetectionOptionsError(f"{dataset.root}: the training split has no crops")
        model.detector.requires_grad_(config.fine_tune_detector)
        self.network = dist.wrap(model)  # what trains (DDP under torchrun); self.model is saved
        self.optimizer = torch.optim.Adam([p for p in self.network.parameters() if p.requires_grad],
                                          lr=config.learning_rate)
        if optimizer_state is not None:
            self.optimizer.load_state_dict(optimizer_state)
        self.priors = make_priors(PriorLayout(model.detector.config.priors)).to(device)
        self.box_loss = (detector_record.get("train_config") or {}).get("loss", "diou")
        self.amp = device.type == "cuda"
        self.scaler = torch.amp.GradScaler("cuda", enabled=self.amp)

    def run(self, path: Path, progress: ProgressCallback | None, cancel: Callable[[], bool] | None) -> DEATrainResult:
        self.train_epochs(path, progress, cancel)
        self.state.finished = True
        calibration = self.dist.broadcast(self.calibrate() if self.dist.is_main else None)
        self._save(path, calibration)
        return DEATrainResult(path, self.state, calibration)

    def _train_mode(self) -> None:
        self.network.train()
        if not self.config.fine_tune_detector:
            self.model.detector.eval()

    def _step(self, batch) -> float:
        images, boxes, labels = batch
        images = images.to(self.device, non_blocking=True)
        rois = batch_rois(boxes).to(self.device)
        # The loss is the mean over the vignettes of the whole (global) batch; DDP averages the
        # processes' gradients, hence the factor world_size.
        vignettes, fine_tune = self.dist.sum(float(len(rois))), self.config.fine_tune_detector
        if vignettes == 0 and not fine_tune:
            return 0.0
        with torch.autocast(self.device.type, dtype=torch.float16, enabled=self.amp):
            output = self.network(images, rois, detections=fine_tune)
            reconstructed, (offsets, scores) = output if fine_tune else (output, (None, None))
            targets = vignette_targets(images, rois, self.model.config.output_shape)
            errors = (reconstructed.float() - targets).pow(2).flatten(1).mean(dim=1)
            loss = errors.sum() * self.dist.world_size / max(vignettes, 1.0)
            if fine_tune:
                detector_loss, parts = multibox_loss(offsets, scores, self.priors, [b.to(self.device) for b in boxes],
                                                     [lbl.to(self.device) for lbl in labels], self.box_loss)
                share = self.dist.share_of_global(parts["positives"])
                loss = loss + self.config.detector_weight * detector_loss * share
        self.optimizer.zero_grad(set_to_none=True)
        self.scaler.scale(loss).backward()
        self.scaler.step(self.optimizer)
        self.scaler.update()
        return self.dist.mean(float(loss.detach()))

    def _end_epoch(self) -> None:
        state = self.state
        state.history.append(self.dist.broadcast(self._epoch_record() if self.dist.is_main else None))
        state.epoch, state.step, state.loss_sum = state.epoch + 1, 0, 0.0

    def _epoch_record(self) -> dict[str, float]:
        record = {"epoch": self.state.epoch + 1, "loss": self.state.loss_sum / max(self.state.step, 1)}
        if len(self.val_set):
            record["val_loss"] = self._validation_loss()
        return record

    @torch.no_grad()
    def _validation_loss(self) -> float:
        self.model.eval()
        total, count = 0.0, 0
        for images, rois in self._vignette_batches(self.val_set):
            reconstructed = self.model(images, rois)
            targets = vignette_targets(images, rois, self.model.config.output_shape)
            total += float(F.mse_loss(reconstructed.float(), targets, reduction="sum")) / targets[0].numel()
            count += len(rois)
        self._train_mode()
        return total / max(count, 1)

    @torch.no_grad()
    def calibrate(self) -> dict[str, Any]:
        """Threshold over the genuine vignettes of the validation split (the training split if it is empty)."""
        split = "val" if len(self.val_set) else "train"
        crops = self.val_set if split == "val" else CropDataset(self.dataset, "train", self.model.detector.config.classes)
        self.model.eval()
        scores = [anomaly_scores(redraw(self.model, images, rois)[2]) for images, rois in self._vignette_batches(crops)]
        values = torch.cat(scores).cpu().numpy() if scores else np.zeros(0)
        if len(values) == 0:
            raise DetectionOptionsError(f"{self.dataset.root}: no vignette to calibrate the alarm threshold on")
        rate = self.config.false_alarm_rate
        return {"threshold": float(np.quantile(values, 1.0 - rate)), "false_alarm_rate": rate, "split": split,
                "vignettes": len(values), "median_score": float(np.median(values))}

    def _vignette_batches(self, crops: CropDataset):
        loader = torch.utils.data.DataLoader(crops, batch_size=self.config.batch_size, collate_fn=collate)
        for images, boxes, _ in loader:
            rois = batch_rois(boxes)
            if len(rois):
                yield images.to(self.device), rois.to(self.device)

    def _save(self, path: Path, calibration: dict[str, Any] | None = None) -> None:
        """Rank 0 writes the checkpoint; the other processes wait until it is there."""
        if self.dist.is_main:
            self._write(path, calibration)
        self.dist.barrier()

    def _write(self, path: Path, calibration: dict[str, Any] | None) -> None:
        record = {
            "model_config": self.model.detector.config.to_dict(),
            "data": self.detector_record.get("data") or data_settings(self.dataset),
            "dea_config": self.model.config.to_dict(),
            "train_config": asdict(self.config),
            "detector_train_config": self.detector_record.get("train_config") or {},
            "model": {k: v.detach().cpu() for k, v in self.model.state_dict().items()},
            "optimizer": to_cpu(self.optimizer.state_dict()),
            "training": asdict(self.state),
        }
        if calibration is not None:
            record["calibration"] = calibration
        save_checkpoint(path, record, CHECKPOINT_KIND)


def batch_rois(boxes: list[torch.Tensor]) -> torch.Tensor:
    """Per-image boxes (G_i, 4) xyxy in [0, 1] -> (n, 5) rows (image index, x0, y0, x1, y1) in input pixels."""
    rows = [torch.cat([torch.full((len(b), 1), float(i)), b.float() * INPUT_SIZE], dim=1) for i, b in enumerate(boxes)]
    return torch.cat(rows) if rows else torch.zeros(0, 5)
