"""SSD300: the network alone (training in `training`, decoding in `inference`).

VGG-16 backbone as in the SSD paper: conv1_1 .. conv5_3 with the third pooling rounding up (75 ->
38), conv4_3 L2-normalised with a learnt scale per channel (initially 20), pool5 3x3 stride 1, conv6
3x3 dilated 6 and conv7 1x1 (the fully connected layers made convolutional), then the extra layers
conv8_2 .. conv11_2. The six maps are 38x38x512, 19x19x1024, 10x10x512, 5x5x256, 3x3x256,
1x1x256; each gets a 3x3 head for box offsets and class scores.

The "light" backbone gives maps of the same sizes (so the same default boxes) with about a
twentieth of the computation, for training on a CPU.

The VGG layers are indexed as torchvision's `vgg16().features`, so a torchvision VGG-16 state_dict
loads directly (`load_vgg16_weights`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Final

import torch
from torch import nn

from dea_core.detection.priors import PriorLayout

BACKBONES: Final = ("vgg16", "light")
INPUT_SIZE: Final = 300
# Channels of the six maps fed to the heads.
VGG_CHANNELS: Final = (512, 1024, 512, 256, 256, 256)
LIGHT_CHANNELS: Final = (128, 256, 256, 128, 128, 128)
# VGG-16 conv1_1 .. conv5_3: channels, "M" max-pool, "C" max-pool rounding up.
_VGG_LAYOUT: Final = (64, 64, "M", 128, 128, "M", 256, 256, 256, "C", 512, 512, 512, "M", 512, 512, 512)
_CONV4_3_RELU: Final = 22  # index in `features` of the ReLU after conv4_3
# Mean and spread of ImageNet RGB, the normalisation VGG-16 weights expect.
IMAGE_MEAN: Final = (0.485, 0.456, 0.406)
IMAGE_STD: Final = (0.229, 0.224, 0.225)


@dataclass(frozen=True)
class ModelConfig:
    """What the network looks like; saved in every checkpoint.

    classes: the ornament labels, in class order (class 0, background, is not listed).
    """

    classes: tuple[str, ...]
    backbone: str = "vgg16"
    priors: str = "ssd300"

    def __post_init__(self) -> None:
        if self.backbone not in BACKBONES:
            raise ValueError(f"unknown backbone {self.backbone!r}; choose one of {', '.join(BACKBONES)}")
        if not self.classes:
            raise ValueError("the detector needs at least one ornament class")
        PriorLayout(self.priors)

    @property
    def num_classes(self) -> int:
        """Classes scored per box, background included."""
        return len(self.classes) + 1

    def to_dict(self) -> dict:
        return {**asdict(self), "classes": list(self.classes)}

    @classmethod
    def from_dict(cls, raw: Mapping) -> ModelConfig:
        return cls(classes=tuple(raw["classes"]), backbone=raw["backbone"], priors=raw["priors"])


class L2Norm(nn.Module):
    """Normalise each position's channel vector to length 1, then scale it per channel (init 20)."""

    def __init__(self, channels: int, scale: float = 20.0) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.full((channels,), scale))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return nn.functional.normalize(x, dim=1, eps=1e-10) * self.weight[None, :, None, None]


def vgg16_features() -> nn.Sequential:
    """conv1_1 .. relu5_3 with torchvision's indices (0 .. 29); pool3 rounds up (75 -> 38)."""
    layers: list[nn.Module] = []
    channels = 3
    for item in _VGG_LAYOUT:
        if item in ("M", "C"):
            layers.append(nn.MaxPool2d(2, 2, ceil_mode=item == "C"))
        else:
            layers += [nn.Conv2d(channels, int(item), 3, padding=1), nn.ReLU(inplace=True)]
            channels = int(item)
    return nn.Sequential(*layers)


class VGGBackbone(nn.Module):
    """VGG-16 to conv7, L2-normalised conv4_3: x (B, 3, 300, 300) -> maps 38x38x512, 19x19x1024."""

    def __init__(self) -> None:
        super().__init__()
        self.features = vgg16_features()
        self.conv4_3_norm = L2Norm(512)
        self.pool5 = nn.MaxPool2d(3, stride=1, padding=1)
        self.conv6 = nn.Conv2d(512, 1024, 3, padding=6, dilation=6)
        self.conv7 = nn.Conv2d(1024, 1024, 1)

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        conv4_3 = self.features[: _CONV4_3_RELU + 1](x)
        x = self.features[_CONV4_3_RELU + 1:](conv4_3)
        x = torch.relu(self.conv6(self.pool5(x)))
        return [self.conv4_3_norm(conv4_3), torch.relu(self.conv7(x))]


def _conv_bn(in_channels: int, out_channels: int, stride: int = 1, kernel: int = 3,
             padding: int = 1) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(in_channels, out_channels, kernel, stride, padding, bias=False),
                         nn.BatchNorm2d(out_channels), nn.ReLU(inplace=True))


class LightBackbone(nn.Module):
    """A small batch-normalised network with VGG's first two map sizes: 38x38x128, 19x19x256."""

    def __init__(self) -> None:
        super().__init__()
        self.stem = nn.Sequential(
            _conv_bn(3, 24, stride=2),    # 150
            _conv_bn(24, 48, stride=2),   # 75
            _conv_bn(48, 64),
            _conv_bn(64, 96, stride=2),   # 38
            _conv_bn(96, 128),
            _conv_bn(128, LIGHT_CHANNELS[0]),
        )
        self.stage2 = nn.Sequential(
            _conv_bn(LIGHT_CHANNELS[0], 192, stride=2),  # 19
            _conv_bn(192, 192),
            _conv_bn(192, LIGHT_CHANNELS[1]),
        )

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        first = self.stem(x)
        return [first, self.stage2(first)]


def _extras(in_channels: int, out_channels: tuple[int, ...], batch_norm: bool) -> nn.ModuleList:
    """conv8 .. conv11: a 1x1 reduction then a 3x3 (stride 2 to 10 and 5, no padding to 3 and 1)."""
    middle = (256, 128, 128, 128) if not batch_norm else (128, 64, 64, 64)
    blocks = []
    for index, (mid, out) in enumerate(zip(middle, out_channels)):
        stride, padding = (2, 1) if index < 2 else (1, 0)
        if batch_norm:
            block = nn.Sequential(_conv_bn(in_channels, mid, kernel=1, padding=0),
                                  _conv_bn(mid, out, stride=stride, padding=padding))
        else:
            block = nn.Sequential(nn.Conv2d(in_channels, mid, 1), nn.ReLU(inplace=True),
                                  nn.Conv2d(mid, out, 3, stride=stride, padding=padding), nn.ReLU(inplace=True))
        blocks.append(block)
        in_channels = out
    return nn.ModuleList(blocks)


class SSD(nn.Module):
    """SSD300: image batch (B, 3, 300, 300), normalised RGB -> offsets (B, P, 4), logits (B, P, C+1).

    P is the number of default boxes of `config.priors` (8732 or 1940), in `make_priors` order.
    """

    def __init__(self, config: ModelConfig) -> None:
        super().__init__()
        self.config = config
        light = config.backbone == "light"
        channels = LIGHT_CHANNELS if light else VGG_CHANNELS
        self.backbone = LightBackbone() if light else VGGBackbone()
        self.extras = _extras(channels[1], channels[2:], batch_norm=light)
        per_cell = PriorLayout(config.priors).boxes_per_cell()
        self.box_heads = nn.ModuleList(nn.Conv2d(c, n * 4, 3, padding=1) for c, n in zip(channels, per_cell))
        self.class_heads = nn.ModuleList(
            nn.Conv2d(c, n * config.num_classes, 3, padding=1) for c, n in zip(channels, per_cell))
        self._initialise()

    def _initialise(self) -> None:
        for module in self.modules():
            if isinstance(module, nn.Conv2d):
                nn.init.xavier_uniform_(module.weight)
                if module.bias is not None:
                    nn.init.zeros_(module.bias)

    def feature_maps(self, images: torch.Tensor) -> list[torch.Tensor]:
        """The six maps (38, 19, 10, 5, 3, 1) the heads read; the DEA's encoder will reuse them."""
        maps = self.backbone(images)
        x = maps[-1]
        for block in self.extras:
            x = block(x)
            maps.append(x)
        return maps

    def forward(self, images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return self.heads(self.feature_maps(images))

    def heads(self, maps: list[torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor]:
        """Box offsets (B, P, 4) and class logits (B, P, C+1) from the six feature maps."""
        batch = maps[0].shape[0]
        offsets = [head(m).permute(0, 2, 3, 1).reshape(batch, -1, 4) for head, m in zip(self.box_heads, maps)]
        scores = [head(m).permute(0, 2, 3, 1).reshape(batch, -1, self.config.num_classes)
                  for head, m in zip(self.class_heads, maps)]
        return torch.cat(offsets, dim=1), torch.cat(scores, dim=1)
