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
import struct
import zipfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Final

import torch

from dea_core.detection.errors import CheckpointError
from dea_core.io import atomic_write_bytes
from dea_core.io.reading import check_regular_file

FORMAT: Final = "dea-ssd-checkpoint"
FORMAT_VERSION: Final = 1
# The settings (not tensors) that the digest covers; the training state is left out: it changes.
# The DEA's settings count only where present, so detector files keep the digest they were saved with.
_SETTINGS: Final = ("format", "version", "model_config", "data", "train_config")
_DEA_SETTINGS: Final = ("dea_config", "calibration")
# What each kind of model file is called in messages, and the command that writes it.
_KINDS: Final = {FORMAT: ("detector", "dea train-detector"), "dea-autoencoder-checkpoint": ("DEA", "dea train-dea")}
# What every checkpoint holds besides `format`, `version` and `digest`.
_REQUIRED: Final = ("model_config", "data", "model")
# What torch.load raises on a file that is not a PyTorch archive (a text file, an empty or cut file).
LOAD_ERRORS: Final = (RuntimeError, zipfile.BadZipFile, EOFError, ValueError, OSError, KeyError, IndexError,
                      AttributeError, TypeError, UnicodeDecodeError, struct.error)
# Crop and picture sides a checkpoint may give: the detector's are 300 px and a few thousand.
_MAX_SIDE: Final = 100_000


def save_checkpoint(path: str | os.PathLike[str], contents: Mapping[str, Any], kind: str = FORMAT) -> Path:
    """Write `contents` (model_config, data, model state_dict, and optionally train_config,
    optimizer, training) to `path` atomically, with the format marker `kind` and digest added."""
    path = Path(path)
    record = {"format": kind, "version": FORMAT_VERSION, **contents}
    record["digest"] = _digest(record)
    buffer = io.BytesIO()
    torch.save(record, buffer)
    atomic_write_bytes(path, buffer.getvalue())
    return path


def load_checkpoint(path: str | os.PathLike[str], kind: str = FORMAT) -> dict[str, Any]:
    """Read and check a checkpoint of `kind` on the CPU; CheckpointError says why a file is refused."""
    path = Path(path)
    what, command = _KINDS[kind]
    check_regular_file(path, "model file", CheckpointError)
    try:
        record = torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as error:
        raise CheckpointError(
            f"{path}: refused: it holds Python objects other than weights and settings, which could run "
            f"code when loaded; it is not a {what} checkpoint written by this suite") from error
    except LOAD_ERRORS as error:
        raise CheckpointError(f"{path}: damaged or not a PyTorch file ({first_line(error)})") from error
    if not isinstance(record, dict) or record.get("format") != kind:
        raise CheckpointError(f"{path}: not a {what} checkpoint of this suite (a plain state_dict, another "
                              f"program's model, or another kind of model file); train one with `{command}`")
    if record.get("version") != FORMAT_VERSION:
        raise CheckpointError(f"{path}: checkpoint format {record.get('version')} is not {FORMAT_VERSION}; "
                              "it was written by another version of the suite")
    missing = [key for key in (*_REQUIRED, "digest") if key not in record]
    if missing:
        raise CheckpointError(f"{path}: incomplete checkpoint (no {', '.join(missing)})")
    _check_layout(record, path)
    if record["digest"] != _digest(record):
        raise CheckpointError(f"{path}: refused: its weights or settings were changed after it was saved "
                              "(digest mismatch); use the original file")
    return record


def first_line(error: BaseException) -> str:
    """The first line of an error's message (PyTorch's run to many), or its type when it has none."""
    lines = str(error).strip().splitlines()
    return lines[0] if lines else type(error).__name__


def _check_layout(record: Mapping[str, Any], path: Path) -> None:
    """Refuse a forged or edited record before anything reads it: types, and sides that make sense."""
    model = record["model"]
    if not isinstance(model, dict) or not model:
        raise CheckpointError(f"{path}: its 'model' is not a state_dict of weights; the file was not written by "
                              "this suite")
    for name, tensor in model.items():
        if not isinstance(name, str) or not isinstance(tensor, torch.Tensor):
            raise CheckpointError(f"{path}: model entry {name!r} is not a tensor; the file was not written by "
                                  "this suite")
    for key in ("model_config", "data"):
        if not isinstance(record[key], dict):
            raise CheckpointError(f"{path}: its '{key}' is not a table of settings")
    for key in ("crop_size", "image_size"):
        side = record["data"].get(key)
        if side is not None and (type(side) is not int or not 1 <= side <= _MAX_SIDE):
            raise CheckpointError(f"{path}: its {key} {side!r} is not a side in pixels (1 to {_MAX_SIDE})")


def _digest(record: Mapping[str, Any]) -> str:
    """SHA-256 of the configuration (as JSON) and of every weight tensor's name, shape and bytes."""
    hasher = hashlib.sha256()
    settings = {key: record.get(key) for key in _SETTINGS}
    settings.update({key: record[key] for key in _DEA_SETTINGS if key in record})
    hasher.update(json.dumps(settings, sort_keys=True, default=str).encode())
    for name, tensor in sorted(record["model"].items()):
        if not isinstance(tensor, torch.Tensor):
            raise CheckpointError(f"model entry {name!r} is not a tensor")
        data = tensor.detach().cpu().contiguous()
        hasher.update(f"{name}:{data.dtype}:{tuple(data.shape)}".encode())
        hasher.update(data.reshape(-1).view(torch.uint8).numpy().tobytes() if data.numel() else b"")
    return hasher.hexdigest()


def to_cpu(value: Any) -> Any:
    """Tensors, in nested dicts and lists (an optimizer's state), moved to the CPU for saving."""
    if isinstance(value, torch.Tensor):
        return value.detach().cpu()
    if isinstance(value, dict):
        return {k: to_cpu(v) for k, v in value.items()}
    if isinstance(value, list):
        return [to_cpu(v) for v in value]
    return value
