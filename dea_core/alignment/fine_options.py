"""The fine stage's options, apart from fine.py so that reading them does not load torch (the RANSAC
window shows them at start; torch loads when an alignment starts)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class FineOptions:
    """Passes of the optimization, coarse to fine: picture scale, flow grid spacing (working pixels),
    iterations and Adam step (pixels); then the loss weights, and torch's threads on the CPU.
    The defaults were chosen by measurement (docs/alignment.md): a full-resolution pass cost 4x a
    half-resolution one and gained nothing.
    """

    scales: tuple[float, ...] = (0.25, 0.5)
    grid_steps: tuple[int, ...] = (32, 16)
    iterations: tuple[int, ...] = (60, 25)
    learning_rates: tuple[float, ...] = (1.0, 0.5)
    ssim_window: int = 7
    smoothness: float = 0.01
    cycle: float = 0.1
    cpu_threads: int = 1
