"""The DEA under torchrun: 2 Gloo processes through the real `dea train-dea` train like one process."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
import torch

from dea_core.dea.model import DEAConfig
from dea_core.dea.training import CHECKPOINT_KIND, train_dea
from dea_core.detection.checkpoint import load_checkpoint

from .conftest import TINY_DEA


@pytest.mark.slow
def test_two_gloo_processes_train_the_dea_like_one(dea_dataset, detector, tmp_path):
    single = tmp_path / "single.pt"
    train_dea(dea_dataset, detector, single, DEAConfig(decoder="deconv"), TINY_DEA)
    parallel = tmp_path / "parallel.pt"
    run = subprocess.run(
        [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2", "-m",
         "dea_core.cli.main", "train-dea", str(dea_dataset), "--detector", str(detector), "-o", str(parallel),
         "--decoder", "deconv", "--epochs", str(TINY_DEA.epochs), "--batch-size", str(TINY_DEA.batch_size),
         "--lr", str(TINY_DEA.learning_rate), "--device", "cpu", "-q"],
        check=False, capture_output=True, text=True, timeout=400, env={**os.environ, "OMP_NUM_THREADS": "1"})
    assert run.returncode == 0, run.stderr[-2000:]
    one, two = load_checkpoint(single, CHECKPOINT_KIND), load_checkpoint(parallel, CHECKPOINT_KIND)
    losses = [(a["loss"], b["loss"]) for a, b in zip(one["training"]["history"], two["training"]["history"])]
    assert len(losses) == TINY_DEA.epochs
    for a, b in losses:
        assert b == pytest.approx(a, rel=1e-3)
    # Adam moves each weight by about the learning rate whatever its gradient's size, so weights
    # whose gradient is near zero may go either way after rounding: compare the total change.
    start = load_checkpoint(detector)["model"]
    changed = [name for name in one["model"] if not name.startswith("detector.")]
    moved = sum(float((one["model"][n] - two["model"][n]).norm()) for n in changed)
    total = sum(float(one["model"][n].norm()) for n in changed)
    assert moved / total < 0.05
    for name, tensor in start.items():  # the frozen detector stayed frozen in both
        torch.testing.assert_close(two["model"][f"detector.{name}"], tensor)
    assert two["calibration"]["vignettes"] == one["calibration"]["vignettes"]
