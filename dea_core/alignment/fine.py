"""Fine stage: a smooth residual flow on top of the coarse warp, optimized for each pair in torch.

RANSAC-Flow trains a network whose loss is SSIM between the reference and the warped source,
weighted by a matchability mask, plus cycle consistency between forward and backward flows. Here
the same loss is minimized directly over a low-resolution grid of flow vectors, bilinearly
upsampled, coarse to fine (docs/adr/0004-fine-flow-per-pair-optimization.md says why):

    loss = mean_valid(1 - SSIM(R, S o (id + f))) / 2 + mean_valid(1 - SSIM(S, R o (id + b))) / 2
           + smoothness * (|d2 f|^2 + |d2 b|^2) + cycle * mean_valid |f + b o (id + f)|^2

f is the forward flow (reference pixel to coarse-warped source pixel), b the backward one; both are
in pixels of the working picture. Flat paper carries no signal, so there the flow is what the
smoothness term interpolates from the inked parts around it.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Final

import numpy as np
import torch
import torch.nn.functional as F

from dea_core.alignment.errors import AlignmentCancelled, AlignmentOptionsError
from dea_core.alignment.fine_options import FineOptions

CancelCheck = Callable[[], bool]
FractionCallback = Callable[[float], None]

# SSIM constants for pictures in [0, 1].
_C1: Final = 0.01**2
_C2: Final = 0.03**2
_FINAL_RATE_SHARE: Final = 0.1


@dataclass(frozen=True)
class FineFlow:
    """Flows in working pixels, (H, W, 2) float32 each, and the cycle error (H, W) of the pair.

    Without cycle consistency (`FineOptions.cycle` 0) only the forward flow is optimized.
    """

    forward: np.ndarray
    backward: np.ndarray | None
    cycle_error: np.ndarray | None


def resolve_device(name: str = "auto") -> torch.device:
    """'auto' (CUDA when torch sees it, else CPU), 'cpu' or 'cuda'."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name == "cuda" and not torch.cuda.is_available():
        raise AlignmentOptionsError("--device cuda: torch sees no CUDA device here; use --device auto or cpu")
    if name not in ("cpu", "cuda"):
        raise AlignmentOptionsError(f"device '{name}': choose auto, cpu or cuda")
    return torch.device(name)


def refine_flow(reference: np.ndarray, warped: np.ndarray, valid: np.ndarray, options: FineOptions = FineOptions(),
                *, device: torch.device | None = None, progress: FractionCallback | None = None,
                cancel: CancelCheck | None = None) -> FineFlow:
    """Flows between `reference` and the coarse-`warped` source, both (H, W) float32 in [0, 1].

    `valid` (H, W) bool marks the reference pixels the coarse warp filled from the source.
    """
    device = device or torch.device("cpu")
    with torch.enable_grad(), _cpu_threads(options.cpu_threads if device.type == "cpu" else None):
        ref = torch.from_numpy(np.ascontiguousarray(reference, np.float32))[None, None].to(device)
        src = torch.from_numpy(np.ascontiguousarray(warped, np.float32))[None, None].to(device)
        mask = torch.from_numpy(valid.astype(np.float32))[None, None].to(device)
        height, width = reference.shape
        forward = backward = None
        two_way = options.cycle > 0
        total = sum(options.iterations)
        done = 0
        passes = zip(options.scales, options.grid_steps, options.iterations, options.learning_rates)
        for scale, step, iterations, rate in passes:
            grid_size = (max(2, round(height / step) + 1), max(2, round(width / step) + 1))
            forward = _grid_parameter(forward, grid_size, device)
            backward = _grid_parameter(backward, grid_size, device) if two_way else None
            level = _Level(ref, src, mask, scale, options)
            optimizer = torch.optim.Adam([forward] if backward is None else [forward, backward], lr=rate)
            # Adam moves each vector by about `rate` pixels a step: decay it so the flow settles.
            schedule = torch.optim.lr_scheduler.LinearLR(optimizer, 1.0, _FINAL_RATE_SHARE, max(iterations, 1))
            for _ in range(iterations):
                if cancel is not None and cancel():
                    raise AlignmentCancelled("alignment cancelled")
                optimizer.zero_grad()
                level.loss(forward, backward).backward()
                optimizer.step()
                schedule.step()
                done += 1
                if progress is not None:
                    progress(done / total)
        with torch.no_grad():
            dense_f = _dense(forward, (height, width))
            if backward is None:
                return FineFlow(_to_numpy(dense_f), None, None)
            dense_b = _dense(backward, (height, width))
            error = _cycle_residual(dense_f, dense_b).norm(dim=1)
    return FineFlow(_to_numpy(dense_f), _to_numpy(dense_b), error[0].cpu().numpy())


@contextlib.contextmanager
def _cpu_threads(count: int | None) -> Iterator[None]:
    """Run torch's CPU kernels on `count` threads for a while (None: leave them as they are).

    The loop is many small kernels, each ending at a barrier of torch's threads: on 2 cores shared
    with other programs, 2 threads took 2.4 to 37 s for one 1200 px pair and 1 thread 3.2 to 4.2 s
    (docs/alignment.md), so one thread is the default.
    """
    previous = torch.get_num_threads()
    if count is not None:
        torch.set_num_threads(count)
    try:
        yield
    finally:
        torch.set_num_threads(previous)


class _Level:
    """One pass: the pictures at one scale and the loss of the flow grids there."""

    def __init__(self, ref: torch.Tensor, src: torch.Tensor, mask: torch.Tensor, scale: float,
                 options: FineOptions) -> None:
        size = (max(8, round(ref.shape[2] * scale)), max(8, round(ref.shape[3] * scale)))
        # Pixels near the edge of the source's footprint would compare with paper it does not have.
        self.mask = (_resize(mask, size) > 0.99).float()
        self.mask = -F.max_pool2d(-self.mask, 5, stride=1, padding=2)
        self.ref = _SsimTarget(_resize(ref, size), options.ssim_window)
        self.src = _SsimTarget(_resize(src, size), options.ssim_window)
        self.size, self.options = size, options
        self.grid = _pixel_grid(*size, ref.device)
        # Flows are in working pixels; the pictures here are `factor` times smaller.
        self.factor = size[1] / ref.shape[3]

    def loss(self, forward: torch.Tensor, backward: torch.Tensor | None) -> torch.Tensor:
        options = self.options
        flow_f = _dense(forward, self.size) * self.factor
        loss = self.ref.dissimilarity(_warp(self.src.image, flow_f, self.grid), self.mask)
        loss = loss + options.smoothness * _bending(forward)
        if backward is None:
            return loss
        flow_b = _dense(backward, self.size) * self.factor
        loss = loss + self.src.dissimilarity(_warp(self.ref.image, flow_b, self.grid), self.mask)
        loss = loss + options.smoothness * _bending(backward)
        cycle = (_cycle_residual(flow_f, flow_b, self.grid) ** 2).sum(dim=1, keepdim=True)
        return loss / 2 + options.cycle * (cycle * self.mask).sum() / self.mask.sum().clamp(min=1.0)


class _SsimTarget:
    """A fixed picture (1, 1, H, W) with its local means and variances, to compare others with."""

    def __init__(self, image: torch.Tensor, window: int) -> None:
        self.image, self.window = image, window
        self.mu = self.mean(image)
        self.var = self.mean(image * image) - self.mu**2

    def mean(self, image: torch.Tensor) -> torch.Tensor:
        return F.avg_pool2d(image, self.window, stride=1, padding=self.window // 2, count_include_pad=False)

    def dissimilarity(self, other: torch.Tensor, weight: torch.Tensor) -> torch.Tensor:
        """Weighted mean of (1 - SSIM) between this picture and `other` (1, 1, H, W)."""
        mu = self.mean(other)
        var = self.mean(other * other) - mu**2
        cov = self.mean(self.image * other) - self.mu * mu
        ssim = ((2 * self.mu * mu + _C1) * (2 * cov + _C2)) / ((self.mu**2 + mu**2 + _C1) * (self.var + var + _C2))
        return ((1 - ssim) * weight).sum() / weight.sum().clamp(min=1.0)


def _grid_parameter(previous: torch.Tensor | None, size: tuple[int, int], device: torch.device) -> torch.Tensor:
    if previous is None:
        grid = torch.zeros((1, 2, *size), device=device)
    else:
        grid = F.interpolate(previous.detach(), size=size, mode="bilinear", align_corners=True)
    return grid.requires_grad_(True)


def _dense(grid: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    """(1, 2, h, w) control points to a (1, 2, H, W) flow; corners of both grids coincide."""
    return F.interpolate(grid, size=size, mode="bilinear", align_corners=True)


def _resize(image: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    if tuple(image.shape[2:]) == size:
        return image
    return F.interpolate(image, size=size, mode="area")


def _pixel_grid(height: int, width: int, device: torch.device) -> torch.Tensor:
    """(1, H, W, 2) normalized positions of the pixel centres, for grid_sample(align_corners=True)."""
    ys = torch.linspace(-1.0, 1.0, height, device=device)
    xs = torch.linspace(-1.0, 1.0, width, device=device)
    return torch.stack(torch.meshgrid(xs, ys, indexing="xy"), dim=-1)[None]


def _warp(image: torch.Tensor, flow: torch.Tensor, grid: torch.Tensor | None = None) -> torch.Tensor:
    """`image` (1, C, H, W) sampled at pixel + `flow` (1, 2, H, W, pixels); `grid` from _pixel_grid."""
    _, _, height, width = flow.shape
    if grid is None:
        grid = _pixel_grid(height, width, flow.device)
    to_normal = torch.tensor([2.0 / max(width - 1, 1), 2.0 / max(height - 1, 1)], device=flow.device)
    positions = grid + flow.permute(0, 2, 3, 1) * to_normal
    return F.grid_sample(image, positions, mode="bilinear", padding_mode="border", align_corners=True)


def _cycle_residual(forward: torch.Tensor, backward: torch.Tensor, grid: torch.Tensor | None = None) -> torch.Tensor:
    """f(x) + b(x + f(x)): zero where going there and back returns to the same pixel."""
    return forward + _warp(backward, forward, grid)


def _bending(grid: torch.Tensor) -> torch.Tensor:
    """Mean squared second differences of the control grid (pixels), a discrete bending energy."""
    terms = []
    if grid.shape[3] >= 3:
        terms.append(((grid[..., 2:] - 2 * grid[..., 1:-1] + grid[..., :-2]) ** 2).mean())
    if grid.shape[2] >= 3:
        terms.append(((grid[..., 2:, :] - 2 * grid[..., 1:-1, :] + grid[..., :-2, :]) ** 2).mean())
    if grid.shape[2] >= 2 and grid.shape[3] >= 2:
        twist = grid[..., 1:, 1:] - grid[..., 1:, :-1] - grid[..., :-1, 1:] + grid[..., :-1, :-1]
        terms.append(2 * (twist**2).mean())
    return sum(terms, torch.zeros((), device=grid.device))


def _to_numpy(flow: torch.Tensor) -> np.ndarray:
    return flow[0].permute(1, 2, 0).contiguous().cpu().numpy().astype(np.float32)
