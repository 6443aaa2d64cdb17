"""Detector checkpoints: weights, configuration and training state in one file, loaded safely.

The file is an ordinary `torch.save` archive holding only tensors, numbers, text, lists and dicts,
so `torch.load(weights_only=True)` reads it without running any code a stranger could have put in
a pickle; anything else is refused. A SHA-256 digest of the weights and configuration, checked on
loading, tells a damaged or edited file from a good one (it is a check against accidents and
careless edits, not a signature). Saves are atomic: an interrupted save leaves the previous file.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import pickle
import zipfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Final

import torch

from dea_core.detection.errors import CheckpointError
from dea_core.io import atomic_write_bytes

FORMAT: Final = "dea-ssd-checkpoint"
FORMAT_VERSION: Final = 1
# What every checkpoint holds besides `format`, `version` and `digest`.
_REQUIRED: Final = ("model_config", "data", "model")


def save_checkpoint(path: str | os.PathLike[str], contents: Mapping[str, Any]) -> Path:
    """Write `contents` (model_config, data, model state_dict, and optionally train_config,
    optimizer, training) to `path` atomically, with the format marker and digest added."""
    path = Path(path)
    record = {"format": FORMAT, "version": FORMAT_VERSION, **contents}
    record["digest"] = _digest(record)
    buffer = io.BytesIO()
    torch.save(record, buffer)
    atomic_write_bytes(path, buffer.getvalue())
    return path


def load_checkpoint(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Read and check a checkpoint on the CPU; CheckpointError says why a file is refused."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"{path}: model file not found")
    try:
        record = torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as error:
        raise CheckpointError(
            f"{path}: refused: it holds Python objects other than weights and settings, which could run "
            "code when loaded; it is not a detector checkpoint written by this suite") from error
    except (RuntimeError, zipfile.BadZipFile, EOFError, ValueError, OSError) as error:
        raise CheckpointError(f"{path}: damaged or not a PyTorch file ({str(error).splitlines()[0]})") from error
    if not isinstance(record, dict) or record.get("format") != FORMAT:
        raise CheckpointError(f"{path}: not a detector checkpoint of this suite (a plain state_dict or "
                              "another program's model); train one with `dea train-detector`")
    if record.get("version") != FORMAT_VERSION:
        raise CheckpointError(f"{path}: checkpoint format {record.get('version')} is not {FORMAT_VERSION}; "
                              "it was written by another version of the suite")
    missing = [key for key in (*_REQUIRED, "digest") if key not in record]
    if missing:
        raise CheckpointError(f"{path}: incomplete checkpoint (no {', '.join(missing)})")
    if record["digest"] != _digest(record):
        raise CheckpointError(f"{path}: refused: its weights or settings were changed after it was saved "
                              "(digest mismatch); use the original file")
    return record


def _digest(record: Mapping[str, Any]) -> str:
    """SHA-256 of the configuration (as JSON) and of every weight tensor's name, shape and bytes."""
    hasher = hashlib.sha256()
    settings = {key: record.get(key) for key in ("format", "version", "model_config", "data", "train_config")}
    hasher.update(json.dumps(settings, sort_keys=True, default=str).encode())
    for name, tensor in sorted(record["model"].items()):
        if not isinstance(tensor, torch.Tensor):
            raise CheckpointError(f"model entry {name!r} is not a tensor")
        data = tensor.detach().cpu().contiguous()
        hasher.update(f"{name}:{data.dtype}:{tuple(data.shape)}".encode())
        hasher.update(data.reshape(-1).view(torch.uint8).numpy().tobytes() if data.numel() else b"")
    return hasher.hexdigest()
