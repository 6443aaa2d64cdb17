"""Where the network runs: CUDA when torch sees it (with mixed precision), the CPU otherwise."""

from __future__ import annotations

import torch

from dea_core.detection.errors import DetectionOptionsError

DEVICES = ("auto", "cpu", "cuda")


def resolve_device(name: str = "auto") -> torch.device:
    """"auto" -> cuda if available, else cpu; "cuda" without CUDA is a DetectionOptionsError."""
    if name not in DEVICES:
        raise DetectionOptionsError(f"unknown device {name!r}; choose one of {', '.join(DEVICES)}")
    if name == "cuda" and not torch.cuda.is_available():
        raise DetectionOptionsError("--device cuda: PyTorch sees no CUDA GPU on this machine; use cpu or auto")
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(name)
