"""Real training steps on tiny generated data: the loss falls, runs resume exactly, files are safe."""

import os
import pickle
import shutil
from dataclasses import replace

import pytest
import torch

from dea_core.detection.assess import evaluate_on_crops
from dea_core.detection.checkpoint import load_checkpoint, save_checkpoint
from dea_core.detection.dataset import load_dataset
from dea_core.detection.errors import CheckpointError, TrainingCancelled
from dea_core.detection.inference import Detector
from dea_core.detection.training import train_detector

from .conftest import TINY_TRAINING


def test_a_few_training_steps_lower_the_loss(dataset_dir, tmp_path):
    seen = []
    result = train_detector(dataset_dir, tmp_path / "m.pt", config=replace(TINY_TRAINING, epochs=4, seed=3),
                            backbone="light", priors="fast", progress=seen.append)
    losses = [record["loss"] for record in result.state.history]
    assert losses[-1] < 0.8 * losses[0]
    assert len(seen) == 4 * 3 and seen[-1].fraction == 1.0 and seen[-1].eta_s == 0


def test_cancel_leaves_a_checkpoint_that_resumes_exactly(dataset_dir, trained_model, tmp_path):
    path = tmp_path / "cancelled.pt"
    checks = iter(range(100))
    with pytest.raises(TrainingCancelled, match="resume"):
        # 3 steps an epoch: cancelled after the 4th step, in the middle of the second epoch
        train_detector(dataset_dir, path, config=TINY_TRAINING, backbone="light", priors="fast",
                       cancel=lambda: next(checks) == 4)
    stopped = load_checkpoint(path)
    assert (stopped["training"]["epoch"], stopped["training"]["step"]) == (1, 1)
    train_detector(dataset_dir, path, config=TINY_TRAINING, resume=path)
    resumed, straight = load_checkpoint(path), load_checkpoint(trained_model)
    assert resumed["training"]["finished"]
    for name, tensor in straight["model"].items():
        assert torch.equal(tensor, resumed["model"][name]), name
    assert resumed["training"]["history"] == straight["training"]["history"]


def test_resume_can_extend_the_run(dataset_dir, trained_model, tmp_path):
    path = tmp_path / "longer.pt"
    shutil.copy(trained_model, path)
    result = train_detector(dataset_dir, path, config=replace(TINY_TRAINING, epochs=3), resume=path)
    assert [r["epoch"] for r in result.state.history] == [1, 2, 3]


def test_checkpoint_evaluates_end_to_end(dataset_dir, trained_model):
    detector = Detector.from_checkpoint(trained_model, "cpu")
    dataset = load_dataset(dataset_dir)
    report = evaluate_on_crops(detector, dataset, "val")
    assert set(report.per_class) == set(dataset.classes)
    assert 0.0 <= report.mean[0.5] <= 1.0 and report.counts == dataset.boxes_per_class("val")


def test_tampered_checkpoint_is_refused(trained_model, tmp_path):
    record = torch.load(trained_model, weights_only=True)
    record["model"]["class_heads.0.bias"] += 1.0  # weights edited, digest left as it was
    edited = tmp_path / "edited.pt"
    torch.save(record, edited)
    with pytest.raises(CheckpointError, match="changed after it was saved"):
        Detector.from_checkpoint(edited)

    damaged = tmp_path / "damaged.pt"
    data = bytearray(trained_model.read_bytes())
    damaged.write_bytes(bytes(data[: len(data) // 2]))
    with pytest.raises(CheckpointError, match="damaged"):
        load_checkpoint(damaged)


def test_foreign_files_are_refused(tmp_path, trained_model):
    plain = tmp_path / "state_dict.pt"
    torch.save({"weight": torch.zeros(3)}, plain)
    with pytest.raises(CheckpointError, match="not a detector checkpoint"):
        load_checkpoint(plain)

    hostile = tmp_path / "hostile.pt"  # a pickle naming a function it could call while loading
    hostile.write_bytes(pickle.dumps({"format": "dea-ssd-checkpoint", "x": os.system}, protocol=2))
    with pytest.raises(CheckpointError, match="could run code"):
        load_checkpoint(hostile)
    with pytest.raises(CheckpointError, match="not found"):
        load_checkpoint(tmp_path / "missing.pt")


def test_weights_only_checkpoint_cannot_be_resumed(dataset_dir, trained_model, tmp_path):
    record = load_checkpoint(trained_model)
    slim = save_checkpoint(tmp_path / "slim.pt", {k: record[k] for k in ("model_config", "data", "model")})
    Detector.from_checkpoint(slim)
    with pytest.raises(CheckpointError, match="no training state"):
        train_detector(dataset_dir, tmp_path / "x.pt", config=TINY_TRAINING, resume=slim)


def test_validation_ap_of_each_epoch_is_in_the_history(dataset_dir, tmp_path):
    config = replace(TINY_TRAINING, epochs=1, validate=True, seed=3)
    result = train_detector(dataset_dir, tmp_path / "v.pt", config=config, backbone="light", priors="fast")
    record = result.state.history[0]
    report = evaluate_on_crops(Detector.from_checkpoint(result.checkpoint, "cpu"), load_dataset(dataset_dir), "val")
    assert record["val_loss"] > 0
    assert (record["val_ap50"], record["val_ap75"]) == (report.mean[0.5], report.mean[0.75])
