"""Data-parallel training under `torchrun`: one process per device, one model kept in step by DDP.

Started alone (no WORLD_SIZE, or WORLD_SIZE=1) nothing here creates a process group: every helper
returns its input, and a training loop behaves exactly as it did before it used this module.
Under `torchrun --nproc_per_node=N` (or several nodes) each process reads RANK, WORLD_SIZE,
LOCAL_RANK, MASTER_ADDR and MASTER_PORT, joins a process group (NCCL on GPUs, Gloo on CPUs) and
trains on cuda:LOCAL_RANK (or the CPU).

Batches: `batch_size` is the global batch, the one a single process would take. Each global batch
is cut into WORLD_SIZE contiguous shares (sizes differ by at most one), so an epoch has the same
steps, the same seeded order and the same learning-rate schedule whatever the number of processes,
and a checkpoint resumes under any number of them. More processes make steps faster, not larger;
raise the batch size to use more devices' memory. The batch size must be at least WORLD_SIZE; a
last batch smaller than WORLD_SIZE joins the one before it (so no process is ever idle in a step).

Batch norm: `wrap` turns BatchNorm layers into ones whose training statistics are those of the
global batch (torch's SyncBatchNorm on GPUs, `GlobalBatchNorm` on CPUs, where torch has none), so
the network trains as it would in one process on the whole batch.

A training loop uses it like this:

    with distributed(resolve_device(name)) as dist:    # dist.device: cuda:LOCAL_RANK or cpu
        model = build_model().to(dist.device)
        net = dist.wrap(model)                         # before the optimizer; `model` stays the plain one
        optimizer = Adam(net.parameters())
        for epoch in range(start, epochs):
            batches = dist.epoch_batches(len(data), batch_size, seed, epoch)   # this process's shares
            for indices in batches[step:]:
                if dist.any(cancel()):                 # every process stops at the same step
                    ...
                loss = ...; loss.backward()            # DDP averages the gradients over processes
                logged = dist.mean(float(loss))        # the same number in every process
                if dist.is_main: progress(...)
            record = dist.broadcast(epoch_record() if dist.is_main else None)   # rank 0 validates
            if dist.is_main:
                save_checkpoint(model.state_dict())     # the plain model: no "module." prefixes
            dist.barrier()                             # the others wait for the file

A loss that divides by a count that depends on the batch (SSD's matched positives) must divide by
the global count, `dist.sum(local count)`, and be multiplied by `dist.world_size` (DDP averages),
for the gradient to be that of the global batch.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TypeVar

import numpy as np
import torch
import torch.distributed as torch_dist
from torch import nn
from torch.nn.modules.batchnorm import _BatchNorm
from torch.nn.parallel import DistributedDataParallel

from dea_core.errors import DeaError

T = TypeVar("T")


class DistributedError(DeaError):
    """The torchrun environment or the batch size does not allow data-parallel training."""


@dataclass(frozen=True)
class Launch:
    """Where this process stands among those torchrun started (rank 0 of 1 when started alone)."""

    rank: int = 0
    world_size: int = 1
    local_rank: int = 0

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] = os.environ) -> Launch:
        """Read torchrun's variables; DistributedError names a missing or bad one."""
        world_size = _int_variable(environ, "WORLD_SIZE", 1)
        if world_size == 1:
            return cls()
        missing = [name for name in ("RANK", "MASTER_ADDR", "MASTER_PORT") if not environ.get(name)]
        if missing:
            raise DistributedError(f"WORLD_SIZE={world_size} but {', '.join(missing)} not set; start "
                                   "several processes with torchrun (python -m torch.distributed.run)")
        rank = _int_variable(environ, "RANK", 0)
        launch = cls(rank, world_size, _int_variable(environ, "LOCAL_RANK", rank))
        if not 0 <= launch.rank < world_size or launch.local_rank < 0:
            raise DistributedError(f"RANK={rank} does not lie in 0 .. WORLD_SIZE-1 = {world_size - 1}")
        return launch


def _int_variable(environ: Mapping[str, str], name: str, default: int) -> int:
    value = environ.get(name, "")
    try:
        number = int(value) if value else default
    except ValueError:
        raise DistributedError(f"environment variable {name}={value!r} is not a whole number") from None
    if number < 1 and name == "WORLD_SIZE":
        raise DistributedError(f"WORLD_SIZE={number}: there must be at least one process")
    return number


@dataclass(frozen=True)
class Distributed:
    """This process's part in training: its rank, the number of processes, its device, collectives."""

    launch: Launch
    device: torch.device

    @property
    def rank(self) -> int:
        return self.launch.rank

    @property
    def world_size(self) -> int:
        return self.launch.world_size

    @property
    def active(self) -> bool:
        """True when there are other processes to agree with."""
        return self.launch.world_size > 1

    @property
    def is_main(self) -> bool:
        """Rank 0: the process that prints, validates and writes files."""
        return self.launch.rank == 0

    def wrap(self, model: nn.Module) -> nn.Module:
        """The model to train: with global batch norm and in DDP; the model itself when alone.

        Call it before making the optimizer; keep `model` for state_dict and evaluation.
        """
        if not self.active:
            return model
        model = global_batch_norm(model, self.device)
        device_ids = [self.device.index] if self.device.type == "cuda" else None
        return DistributedDataParallel(model, device_ids=device_ids)

    def epoch_batches(self, length: int, batch_size: int, seed: int, epoch: int) -> list[list[int]]:
        """This process's share of every global batch of an epoch, in the seeded order (see module doc)."""
        if batch_size < self.world_size or length < self.world_size:
            raise DistributedError(
                f"{self.world_size} processes need at least one item each in every step, but the batch size is "
                f"{batch_size} and the data has {length} items; raise the batch size or start fewer processes")
        batches = global_batches(epoch_order(length, seed, epoch), batch_size, self.world_size)
        return [self.share(batch) for batch in batches]

    def share(self, batch: Sequence[int]) -> list[int]:
        """This process's contiguous part of a global batch (parts differ in size by at most one)."""
        return [int(i) for i in np.array_split(np.asarray(batch), self.world_size)[self.rank]]

    def sum(self, value: float) -> float:
        """The sum of `value` over all processes."""
        if not self.active:
            return value
        tensor = torch.tensor([value], dtype=torch.float64, device=self.device)
        torch_dist.all_reduce(tensor)
        return float(tensor)

    def share_of_global(self, count: float) -> float:
        """Factor turning this process's loss, normalised by its own `count` (e.g. matched boxes), into
        its part of the global batch's loss normalised by the count over all processes, times the
        number of processes, which DDP's averaging of gradients undoes. 1 when alone."""
        if not self.active:
            return 1.0
        return max(count, 1.0) * self.world_size / max(self.sum(count), 1.0)

    def mean(self, value: float) -> float:
        """The mean of `value` over all processes (e.g. a loss to log)."""
        return self.sum(value) / self.world_size if self.active else value

    def any(self, flag: bool) -> bool:
        """True in every process when `flag` is true in one (e.g. a cancel request)."""
        if not self.active:
            return flag
        tensor = torch.tensor([int(flag)], device=self.device)
        torch_dist.all_reduce(tensor, op=torch_dist.ReduceOp.MAX)
        return bool(tensor)

    def broadcast(self, value: T) -> T:
        """Rank 0's `value` (any picklable object) in every process."""
        if not self.active:
            return value
        holder = [value]
        torch_dist.broadcast_object_list(holder, src=0, device=self.device)
        return holder[0]

    def barrier(self) -> None:
        """Wait until every process gets here (e.g. until rank 0 has written a checkpoint)."""
        if self.active:
            torch_dist.barrier()


@contextmanager
def distributed(device: torch.device, environ: Mapping[str, str] = os.environ) -> Iterator[Distributed]:
    """The process group for the `with` block when under torchrun, none when alone.

    device: where a lone process would train (cpu or cuda); under torchrun a GPU process gets
    cuda:LOCAL_RANK. The group is destroyed on leaving, unless it existed before.
    """
    launch = Launch.from_environment(environ)
    if launch.world_size == 1:
        yield Distributed(launch, device)
        return
    device = _process_device(device, launch)
    if torch_dist.is_initialized():
        yield Distributed(launch, device)
        return
    torch_dist.init_process_group("nccl" if device.type == "cuda" else "gloo", rank=launch.rank,
                                  world_size=launch.world_size,
                                  device_id=device if device.type == "cuda" else None)
    try:
        yield Distributed(launch, device)
    finally:
        torch_dist.destroy_process_group()


def _process_device(device: torch.device, launch: Launch) -> torch.device:
    if device.type != "cuda":
        return device
    count = torch.cuda.device_count()
    if launch.local_rank >= count:
        raise DistributedError(f"LOCAL_RANK={launch.local_rank} but this node has {count} GPUs; start at most "
                               f"{count} processes per node (--nproc_per_node)")
    torch.cuda.set_device(launch.local_rank)
    return torch.device("cuda", launch.local_rank)


def epoch_order(length: int, seed: int, epoch: int) -> np.ndarray:
    """The items' order in an epoch, from (seed, epoch) only: any epoch can be replayed. (length,) int."""
    return np.random.default_rng([seed, epoch]).permutation(length)


def global_batches(order: np.ndarray, batch_size: int, world_size: int = 1) -> list[list[int]]:
    """`order` cut into batches of `batch_size`; a last batch smaller than `world_size` joins the one before."""
    batches = [order[i:i + batch_size].tolist() for i in range(0, len(order), batch_size)]
    if len(batches) > 1 and len(batches[-1]) < world_size:
        last = batches.pop()
        batches[-1] += last
    return batches


def unwrap(model: nn.Module) -> nn.Module:
    """The network inside DDP (the model itself otherwise)."""
    return model.module if isinstance(model, DistributedDataParallel) else model


def global_batch_norm(model: nn.Module, device: torch.device) -> nn.Module:
    """`model` with every BatchNorm computing its training statistics over all processes' batches.

    The new layers share the old ones' parameters and buffers, so the state_dict is unchanged.
    """
    if device.type == "cuda":
        return nn.SyncBatchNorm.convert_sync_batchnorm(model)
    if isinstance(model, _BatchNorm) and not isinstance(model, GlobalBatchNorm):
        layer = GlobalBatchNorm(model.num_features, model.eps, model.momentum, model.affine,
                                model.track_running_stats)
        for name, value in [*model.named_parameters(recurse=False), *model.named_buffers(recurse=False)]:
            setattr(layer, name, value)
        return layer.train(model.training)
    for name, child in model.named_children():
        model.add_module(name, global_batch_norm(child, device))
    return model


class _SummedOverProcesses(torch.autograd.Function):
    """A tensor summed over all processes; the gradient of each process's part is the sum of theirs."""

    @staticmethod
    def forward(ctx: torch.autograd.function.FunctionCtx, tensor: torch.Tensor) -> torch.Tensor:
        total = tensor.clone()
        torch_dist.all_reduce(total)
        return total

    @staticmethod
    def backward(ctx: torch.autograd.function.FunctionCtx, gradient: torch.Tensor) -> torch.Tensor:
        total = gradient.clone()
        torch_dist.all_reduce(total)
        return total


class GlobalBatchNorm(_BatchNorm):
    """Batch norm whose training statistics are those of the global batch, over a Gloo group (CPU).

    torch's SyncBatchNorm runs on GPUs only. Mean, then variance, are summed over the processes with
    a differentiable all-reduce, so the gradient also flows through the other processes' items.
    Alone, or in eval mode, it is an ordinary BatchNorm.
    """

    def _check_input_dim(self, input: torch.Tensor) -> None:
        if input.dim() < 2:
            raise ValueError(f"expected at least 2D input (got {input.dim()}D input)")

    def forward(self, input: torch.Tensor) -> torch.Tensor:
        if not (self.training and torch_dist.is_available() and torch_dist.is_initialized()):
            return super().forward(input)
        shape = [1, input.shape[1]] + [1] * (input.dim() - 2)
        dims = [0, *range(2, input.dim())]
        count = torch.tensor([input.numel() // input.shape[1]], dtype=input.dtype, device=input.device)
        total = _SummedOverProcesses.apply(torch.cat([input.sum(dims), count]))
        items = total[-1]
        mean = total[:-1] / items
        centred = input - mean.view(shape)
        variance = _SummedOverProcesses.apply((centred * centred).sum(dims)) / items
        if self.track_running_stats:
            self._update_running_stats(mean.detach(), variance.detach() * items / (items - 1))
        normalised = centred * torch.rsqrt(variance.view(shape) + self.eps)
        if self.affine:
            normalised = normalised * self.weight.view(shape) + self.bias.view(shape)
        return normalised

    @torch.no_grad()
    def _update_running_stats(self, mean: torch.Tensor, unbiased_variance: torch.Tensor) -> None:
        self.num_batches_tracked += 1
        factor = self.momentum if self.momentum is not None else 1.0 / float(self.num_batches_tracked)
        self.running_mean.lerp_(mean, factor)
        self.running_var.lerp_(unbiased_variance, factor)
