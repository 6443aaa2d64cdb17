"""Real (tiny) DEA training on generated headpieces: the loss drops, checkpoints resume and load safely."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
import torch

from dea_core.dea.model import DEAConfig
from dea_core.dea.training import CHECKPOINT_KIND, DEATrainConfig, train_dea
from dea_core.detection.checkpoint import load_checkpoint, save_checkpoint
from dea_core.detection.errors import CheckpointError, TrainingCancelled

from .conftest import TINY_DEA


def test_training_lowers_the_reconstruction_loss(dea_dataset, detector, tmp_path):
    result = train_dea(dea_dataset, detector, tmp_path / "dea.pt", DEAConfig(decoder="deconv"),
                       replace(TINY_DEA, epochs=4))
    losses = [record["loss"] for record in result.state.history]
    assert len(losses) == 4
    assert losses[-1] < losses[0]
    assert "val_loss" in result.state.history[-1]


def test_the_detector_stays_as_trained_unless_fine_tuned(dea_dataset, detector, trained_dea):
    before, after = load_checkpoint(detector)["model"], load_checkpoint(trained_dea, CHECKPOINT_KIND)["model"]
    for name, tensor in before.items():
        torch.testing.assert_close(after[f"detector.{name}"], tensor)


def test_fine_tuning_trains_the_detector_too(dea_dataset, detector, tmp_path):
    path = tmp_path / "tuned.pt"
    train_dea(dea_dataset, detector, path, DEAConfig(decoder="deconv"),
              replace(TINY_DEA, epochs=1, fine_tune_detector=True))
    before, after = load_checkpoint(detector)["model"], load_checkpoint(path, CHECKPOINT_KIND)["model"]
    name = "box_heads.0.weight"
    assert not torch.equal(after[f"detector.{name}"], before[name])


def test_the_threshold_is_calibrated_on_held_out_vignettes(trained_dea):
    calibration = load_checkpoint(trained_dea, CHECKPOINT_KIND)["calibration"]
    assert calibration["split"] == "val"
    assert calibration["vignettes"] >= 10
    assert calibration["threshold"] >= calibration["median_score"] > 0
    assert calibration["false_alarm_rate"] == TINY_DEA.false_alarm_rate


def test_cancel_then_resume_gives_the_uninterrupted_weights(dea_dataset, detector, trained_dea, tmp_path):
    path = tmp_path / "resumed.pt"
    calls = iter(range(1000))
    with pytest.raises(TrainingCancelled, match="--resume"):
        train_dea(dea_dataset, detector, path, DEAConfig(decoder="deconv"), TINY_DEA, cancel=lambda: next(calls) == 3)
    train_dea(dea_dataset, None, path, config=TINY_DEA, resume=path)
    expected = load_checkpoint(trained_dea, CHECKPOINT_KIND)["model"]
    got = load_checkpoint(path, CHECKPOINT_KIND)["model"]
    for name, tensor in expected.items():
        torch.testing.assert_close(got[name], tensor, msg=name)


def test_files_of_the_wrong_kind_are_refused(detector, trained_dea, dea_dataset, tmp_path):
    with pytest.raises(CheckpointError, match="not a DEA checkpoint"):
        load_checkpoint(detector, CHECKPOINT_KIND)
    with pytest.raises(CheckpointError, match="not a detector checkpoint"):
        train_dea(dea_dataset, trained_dea, tmp_path / "x.pt", config=TINY_DEA)
    tampered = tmp_path / "tampered.pt"
    record = torch.load(trained_dea, weights_only=True)
    record["calibration"]["threshold"] = 99.0
    torch.save(record, tampered)
    with pytest.raises(CheckpointError, match="digest"):
        load_checkpoint(tampered, CHECKPOINT_KIND)
    assert not (tmp_path / "x.pt").exists()


def test_options_are_checked():
    with pytest.raises(Exception, match="false-alarm"):
        DEATrainConfig(false_alarm_rate=0.7)


def test_resume_needs_a_training_state(dea_dataset, trained_dea, tmp_path: Path):
    record = torch.load(trained_dea, weights_only=True)
    del record["training"]
    weights_only = {k: v for k, v in record.items() if k not in ("format", "version", "digest")}
    save_checkpoint(tmp_path / "weights.pt", weights_only, CHECKPOINT_KIND)
    with pytest.raises(CheckpointError, match="no training state"):
        train_dea(dea_dataset, None, tmp_path / "weights.pt", config=TINY_DEA, resume=tmp_path / "weights.pt")
