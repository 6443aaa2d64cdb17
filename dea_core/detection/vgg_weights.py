"""Start the VGG-16 backbone from a user's ImageNet weights file (nothing is downloaded).

Two layouts are understood, both loaded with `torch.load(weights_only=True)`:

- torchvision's `vgg16().state_dict()` (`features.N.*`, `classifier.0/3.*`): fc6 and fc7 are
  turned into conv6 (3x3, dilation 6) and conv7 (1x1) by keeping every 4th filter and every 3rd
  tap, as the SSD authors did;
- the "reduced fc" file of the common PyTorch SSD ports (`N.*`, conv6 at 31, conv7 at 33).
"""

from __future__ import annotations

import os
import pickle
from pathlib import Path

import torch

from dea_core.detection.checkpoint import LOAD_ERRORS, first_line
from dea_core.detection.errors import DetectionOptionsError
from dea_core.detection.model import SSD, VGGBackbone
from dea_core.io.reading import check_regular_file


def load_vgg16_weights(model: SSD, path: str | os.PathLike[str]) -> int:
    """Copy a VGG-16 state_dict file into `model`'s backbone; returns the number of tensors set."""
    path = Path(path)
    if not isinstance(model.backbone, VGGBackbone):
        raise DetectionOptionsError(f"{path}: VGG-16 weights fit only the vgg16 backbone, not the light one")
    state = _read_state_dict(path)
    backbone_state = _backbone_state(state, path)
    own = model.backbone.state_dict()
    for key, tensor in backbone_state.items():
        if key not in own or own[key].shape != tensor.shape:
            expected = tuple(own[key].shape) if key in own else "no such layer"
            raise DetectionOptionsError(
                f"{path}: '{key}' has shape {tuple(tensor.shape)}, the backbone expects {expected}; "
                "is this a VGG-16 (without batch normalisation)?")
    model.backbone.load_state_dict(backbone_state, strict=False)
    return len(backbone_state)


def _read_state_dict(path: Path) -> dict[str, torch.Tensor]:
    check_regular_file(path, "VGG-16 weights file", DetectionOptionsError)
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as error:
        # PyTorch's own message suggests loading with weights_only=False: that would run any code the
        # file holds, so it is not repeated.
        raise DetectionOptionsError(
            f"{path}: refused: it holds Python objects besides tensors (a whole pickled model?), which could "
            "run code when loaded; give a plain state_dict saved with torch.save(model.state_dict(), FILE)") from error
    except LOAD_ERRORS as error:
        raise DetectionOptionsError(f"{path}: damaged or not a PyTorch file ({first_line(error)})") from error
    if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise DetectionOptionsError(f"{path}: holds no state_dict of tensors")
    return state


def _backbone_state(state: dict[str, torch.Tensor], path: Path) -> dict[str, torch.Tensor]:
    """Keys of `VGGBackbone` from either file layout."""
    if "features.0.weight" in state:
        out = {key: value for key, value in state.items() if key.startswith("features.")}
        if "classifier.0.weight" in state and "classifier.3.weight" in state:
            fc6 = state["classifier.0.weight"].reshape(4096, 512, 7, 7)
            fc7 = state["classifier.3.weight"].reshape(4096, 4096, 1, 1)
            out |= {"conv6.weight": fc6[::4, :, ::3, ::3].contiguous(), "conv6.bias": state["classifier.0.bias"][::4],
                    "conv7.weight": fc7[::4, ::4].contiguous(), "conv7.bias": state["classifier.3.bias"][::4]}
        return out
    if "0.weight" in state:
        out = {}
        for key, value in state.items():
            index, _, name = key.partition(".")
            if index.isdigit() and int(index) < 30:
                out[f"features.{key}"] = value
            elif index in ("31", "33"):
                out[f"conv{6 if index == '31' else 7}.{name}"] = value
        return out
    raise DetectionOptionsError(f"{path}: not a VGG-16 state_dict (expected keys like 'features.0.weight')")
