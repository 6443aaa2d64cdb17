"""Data-parallel training: the helpers alone, and a real 2-process Gloo run under torchrun on the CPU."""

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from dea_core.detection.checkpoint import load_checkpoint
from dea_core.detection.model import SSD, ModelConfig
from dea_core.detection.training import TrainConfig, train_detector
from dea_core.training.distributed import (
    Distributed,
    DistributedError,
    GlobalBatchNorm,
    Launch,
    distributed,
    epoch_order,
    global_batch_norm,
    global_batches,
)

WORKER = Path(__file__).with_name("ddp_worker.py")


def test_alone_there_is_no_process_group():
    with distributed(torch.device("cpu"), {}) as dist:
        assert not dist.active and dist.is_main and not torch.distributed.is_initialized()
        net = torch.nn.Sequential(torch.nn.BatchNorm1d(3))
        assert dist.wrap(net) is net and isinstance(net[0], torch.nn.BatchNorm1d)
        assert dist.mean(2.5) == 2.5 and dist.any(True) and dist.broadcast({"a": 1}) == {"a": 1}
        # one process takes the epoch's seeded order in batches, as the loop did before
        order = np.random.default_rng([3, 2]).permutation(10).tolist()
        assert dist.epoch_batches(10, 4, 3, 2) == [order[0:4], order[4:8], order[8:10]]


def test_torchrun_environment_is_read_and_checked():
    assert Launch.from_environment({"WORLD_SIZE": "1"}) == Launch()
    env = {"WORLD_SIZE": "4", "RANK": "3", "LOCAL_RANK": "1", "MASTER_ADDR": "node0", "MASTER_PORT": "29500"}
    assert Launch.from_environment(env) == Launch(3, 4, 1)
    with pytest.raises(DistributedError, match="RANK, MASTER_ADDR"):
        Launch.from_environment({"WORLD_SIZE": "2", "MASTER_PORT": "1"})
    with pytest.raises(DistributedError, match="RANK=4"):
        Launch.from_environment({**env, "RANK": "4"})
    with pytest.raises(DistributedError, match="whole number"):
        Launch.from_environment({"WORLD_SIZE": "two"})


def test_ranks_share_each_global_batch_disjointly():
    order = epoch_order(11, seed=0, epoch=5)
    batches = global_batches(order, 4, world_size=3)
    assert [len(b) for b in batches] == [4, 4, 3]
    order = epoch_order(9, 0, 5).tolist()
    assert global_batches(np.asarray(order), 4, world_size=2) == [order[:4], order[4:]]  # 1 crop < 2: joined
    shares = [Distributed(Launch(rank, 3), torch.device("cpu")).epoch_batches(11, 4, 0, 5) for rank in range(3)]
    for step, batch in enumerate(batches):
        parts = [share[step] for share in shares]
        assert [i for part in parts for i in part] == batch and all(parts)
    with pytest.raises(DistributedError, match="batch size is 2"):
        Distributed(Launch(0, 3), torch.device("cpu")).epoch_batches(11, 2, 0, 0)


def test_global_batch_norm_alone_is_batch_norm():
    torch.manual_seed(0)
    plain = torch.nn.Sequential(torch.nn.Conv2d(3, 4, 3), torch.nn.BatchNorm2d(4))
    plain[1].weight.data.uniform_()
    converted = global_batch_norm(torch.nn.Sequential(*[m for m in plain]), torch.device("cpu"))
    assert isinstance(converted[1], GlobalBatchNorm) and converted[1].weight is plain[1].weight
    assert set(converted.state_dict()) == set(plain.state_dict())


@pytest.mark.slow
def test_two_gloo_processes_train_like_one(small_dataset, tmp_path):
    """2 CPU processes under torchrun: in sync, equal to one process on the same global batches,
    checkpoint written by rank 0 alone, a cancel by rank 1 stops both, the resume is exact."""
    out = tmp_path / "out"
    out.mkdir()
    run = subprocess.run([sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2",
                          str(WORKER), str(small_dataset), str(out)], check=False, capture_output=True,
                         text=True, timeout=240)
    assert run.returncode == 0, run.stderr[-3000:]
    ranks = [torch.load(out / f"full-rank{r}.pt") for r in range(2)]
    for name, tensor in ranks[0].items():  # (a) DDP kept the ranks identical, buffers included
        assert torch.equal(tensor, ranks[1][name]), name

    # (c) only rank 0 wrote; rank 1's cancel stopped both at epoch 0, step 1; the resume equals the full run
    assert not (out / "writes-rank1.txt").exists()
    assert (out / "writes-rank0.txt").read_text().split("\n")[2] == "part.pt 0 1"
    assert (out / "cancelled-rank0").exists() and (out / "cancelled-rank1").exists()
    full, resumed = load_checkpoint(out / "full.pt"), load_checkpoint(out / "part.pt")
    assert resumed["training"]["finished"] and resumed["training"]["history"] == full["training"]["history"]
    for name, tensor in full["model"].items():
        assert torch.equal(tensor, resumed["model"][name]), name

    # (b) one process, same seed and global batch of 4 (steps of 4 and 2 crops)
    config = full["train_config"]
    single = train_detector(small_dataset, tmp_path / "one.pt", config=TrainConfig(**config), backbone="light",
                            priors="fast")
    torch.manual_seed(config["seed"])
    start = SSD(ModelConfig.from_dict(full["model_config"])).state_dict()
    assert single.state.history[0]["loss"] == pytest.approx(full["training"]["history"][0]["loss"], rel=1e-5)
    assert update_gap(single.model.state_dict(), full["model"], start, "running") < 1e-3
    assert update_gap(single.model.state_dict(), full["model"], start, "weight|bias") < 0.05


def update_gap(reference: dict, other: dict, start: dict, kinds: str) -> float:
    """||other's change - reference's change|| / ||reference's change|| over the tensors named `kinds`.

    Tolerances: the running statistics and the loss only differ by float rounding (1e-6 measured).
    Adam's step is ~lr whatever the gradient's size, so a weight whose gradient is near zero (|g| ~
    Adam's eps) can move either way when the 2-process sum rounds differently: 0.6% of the update
    measured, 5% allowed; a gradient from the wrong batch or normalisation moves most weights otherwise.
    """
    names = [n for n in reference if reference[n].is_floating_point() and any(k in n for k in kinds.split("|"))]
    gap = sum(float((other[n] - reference[n]).norm() ** 2) for n in names)
    change = sum(float((reference[n] - start[n]).norm() ** 2) for n in names)
    return (gap / change) ** 0.5
