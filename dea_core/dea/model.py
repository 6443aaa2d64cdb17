"""The Detector-Encoder Autoencoder: the trained SSD as encoder, RoIAlign, and a decoder per vignette.

For each vignette box, the SSD feature map its default box comes from (conv4_3 38x38, conv7 19x19,
conv8_2 10x10, conv9_2 5x5, conv10_2 3x3; conv11_2, 1x1, is left out) is RoIAligned to k x k
(default 5) and brought to 1024 channels by a 1x1 convolution of that map, so n boxes give
(n, 1024, 5, 5) whatever map they come from. A decoder turns that into the vignette:

- "redraw" (the default): the genuine sort the detector recognised, in its template pose, 128 x 128
  grey: a learnt picture of each class plus `code_size` learnt pictures of its normal variation
  (ink spread, wear), weighted by a code of as many numbers read from the encoded features. The
  code is too narrow to copy a local change, so a re-cut or broken stroke is not redrawn; one number
  (CODE_SIZE) is the default, as laying the redrawing on the print absorbs the rest of a cast's
  variation (four told changes from genuine casts less well on the real change set);
- "fc" (the DEA page): 5x5 average pooling to 1024, then 1024 -> 2048 -> 4096 -> 16384 with ReLU
  and a final sigmoid, a 128 x 128 x 1 vignette;
- "deconv" (the internship report): 5x5x1024 -> 14x14x256 -> 32x32x32 -> 64x64x3, transposed
  convolutions with 5x5 kernels.

Which map a box comes from: the one holding the default box that overlaps it best (among the five
maps used), the rule SSD's training uses to give a ground-truth box to a default box. The same
rule serves training (ground-truth boxes) and scoring (detected boxes), so both read alike.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from itertools import pairwise
from typing import Final

import torch
from torch import nn

from dea_core.dea.roi_align import MODES, roi_align
from dea_core.detection.boxes import cxcywh_to_xyxy, pairwise_iou
from dea_core.detection.model import INPUT_SIZE, LIGHT_CHANNELS, SSD, VGG_CHANNELS
from dea_core.detection.priors import FEATURE_MAPS, PriorLayout, make_priors
from dea_core.training.defaults import DEA_DECODER, DEA_DECODERS

DECODERS: Final = DEA_DECODERS
ENCODED_MAPS: Final = 5  # conv4_3 .. conv10_2
FC_WIDTHS: Final = (2048, 4096)
FC_SIDE: Final = 128
DECONV_SIDE: Final = 64
REDRAW_SIDE: Final = 128
CODE_SIZE: Final = 1
EARLIER_CODE_SIZE: Final = 4  # of checkpoints written before the code's size was recorded


@dataclass(frozen=True)
class DEAConfig:
    """The DEA's own part (the detector's settings travel with its weights); saved in checkpoints."""

    decoder: str = DEA_DECODER
    roi_size: int = 5
    channels: int = 1024
    sampling_ratio: int = 2
    aligned: bool = True
    pooling: str = "avg"
    code_size: int = CODE_SIZE  # the redraw decoder's

    def __post_init__(self) -> None:
        if self.decoder not in DECODERS:
            raise ValueError(f"unknown decoder {self.decoder!r}; choose one of {', '.join(DECODERS)}")
        if self.pooling not in MODES:
            raise ValueError(f"unknown RoIAlign pooling {self.pooling!r}; choose one of {', '.join(MODES)}")
        if self.roi_size < 1 or self.channels < 1 or self.code_size < 1:
            raise ValueError("the RoI size, channel count and code size must be at least 1")

    @property
    def output_shape(self) -> tuple[int, int, int]:
        """(channels, height, width) of a reconstructed vignette."""
        if self.decoder == "redraw":
            return (1, REDRAW_SIDE, REDRAW_SIDE)
        return (1, FC_SIDE, FC_SIDE) if self.decoder == "fc" else (3, DECONV_SIDE, DECONV_SIDE)

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, raw: Mapping) -> DEAConfig:
        return cls(**{key: raw[key] for key in cls.__dataclass_fields__ if key != "code_size"},
                   code_size=raw.get("code_size", EARLIER_CODE_SIZE))


class FCDecoder(nn.Module):
    """(n, C, k, k) -> (n, 1, 128, 128) in [0, 1]."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        widths = (channels, *FC_WIDTHS)
        layers: list[nn.Module] = [nn.AdaptiveAvgPool2d(1), nn.Flatten()]
        for fan_in, fan_out in pairwise(widths):
            layers += [nn.Linear(fan_in, fan_out), nn.ReLU(inplace=True)]
        layers += [nn.Linear(widths[-1], FC_SIDE * FC_SIDE), nn.Sigmoid(), nn.Unflatten(1, (1, FC_SIDE, FC_SIDE))]
        self.layers = nn.Sequential(*layers)

    def forward(self, encoded: torch.Tensor) -> torch.Tensor:
        return self.layers(encoded)


class DeconvDecoder(nn.Module):
    """(n, C, 5, 5) -> (n, 3, 64, 64) in [0, 1]: 5 -> 14 -> 32 -> 64 by stride-2 5x5 transposed convolutions."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.layers = nn.Sequential(
            nn.ConvTranspose2d(channels, 256, 5, stride=2, padding=0, output_padding=1),  # 5 -> 14
            nn.ReLU(inplace=True),
            nn.ConvTranspose2d(256, 32, 5, stride=2, padding=0, output_padding=1),  # 14 -> 32
            nn.ReLU(inplace=True),
            nn.ConvTranspose2d(32, 3, 5, stride=2, padding=2, output_padding=1),  # 32 -> 64
            nn.Sigmoid(),
        )

    def forward(self, encoded: torch.Tensor) -> torch.Tensor:
        return self.layers(encoded)


class RedrawDecoder(nn.Module):
    """(n, C, k, k) and class numbers (n,) from 1 -> (n, 1, 128, 128) in [0, 1], paper 1: the class's
    template plus its variation pictures weighted by a tanh-bounded code of CODE_SIZE numbers."""

    def __init__(self, channels: int, classes: int, side: int = REDRAW_SIDE, code: int = CODE_SIZE) -> None:
        super().__init__()
        self.template = nn.Parameter(torch.zeros(classes, side, side))  # logits
        self.variation = nn.Parameter(torch.zeros(classes, code, side, side))
        self.code = nn.Sequential(nn.Linear(channels, code), nn.Tanh())
        # The error genuine printings of each sort show at each place (compare.py), measured after training.
        self.register_buffer("typical_error", torch.zeros(classes, side, side))

    def forward(self, encoded: torch.Tensor, classes: torch.Tensor) -> torch.Tensor:
        return self.draw(encoded.mean(dim=(2, 3)), classes)

    def draw(self, pooled: torch.Tensor, classes: torch.Tensor) -> torch.Tensor:
        """From pooled features (n, C) and class numbers (n,) from 1."""
        index = classes.long() - 1
        logits = self.template[index] + torch.einsum("nk,nkhw->nhw", self.code(pooled), self.variation[index])
        return torch.sigmoid(logits)[:, None]


class DEA(nn.Module):
    """SSD encoder + per-map 1x1 adapters + decoder.

    forward(images (B, 3, 300, 300) normalised, rois (n, 5) = (image index, x0, y0, x1, y1) in input
    pixels) -> reconstructed vignettes (n, *config.output_shape).
    """

    def __init__(self, detector: SSD, config: DEAConfig = DEAConfig()) -> None:
        super().__init__()
        self.detector, self.config = detector, config
        in_channels = LIGHT_CHANNELS if detector.config.backbone == "light" else VGG_CHANNELS
        self.adapters = nn.ModuleList(nn.Conv2d(c, config.channels, 1) for c in in_channels[:ENCODED_MAPS])
        if config.decoder == "redraw":
            self.decoder = RedrawDecoder(config.channels, len(detector.config.classes), code=config.code_size)
        else:
            self.decoder = FCDecoder(config.channels) if config.decoder == "fc" else DeconvDecoder(config.channels)
        priors = make_priors(PriorLayout(detector.config.priors))
        per_cell = PriorLayout(detector.config.priors).boxes_per_cell()
        per_map = [size * size * n for size, n in zip(FEATURE_MAPS, per_cell)]
        levels = torch.repeat_interleave(torch.arange(len(FEATURE_MAPS)), torch.tensor(per_map))
        used = levels < ENCODED_MAPS
        self.register_buffer("priors", priors[used], persistent=False)
        self.register_buffer("prior_levels", levels[used], persistent=False)

    def levels_for(self, boxes: torch.Tensor) -> torch.Tensor:
        """Map index (0 .. 4) of each box (n, 4) xyxy in input pixels: its best-overlapping default box's."""
        if boxes.shape[0] == 0:
            return torch.zeros(0, dtype=torch.long, device=boxes.device)
        prior_boxes = cxcywh_to_xyxy(self.priors) * INPUT_SIZE
        return self.prior_levels[pairwise_iou(boxes, prior_boxes).argmax(dim=1)]

    def encode(self, maps: list[torch.Tensor], rois: torch.Tensor) -> torch.Tensor:
        """(n, channels, k, k): each box pooled from its map (of the detector's `feature_maps`) and
        brought to `channels`."""
        levels = self.levels_for(rois[:, 1:])
        encoded = maps[0].new_zeros((rois.shape[0], self.config.channels, self.config.roi_size, self.config.roi_size))
        # Every adapter runs, on no box if need be, so that data-parallel training sees all weights used.
        for level in range(ENCODED_MAPS):
            members = torch.nonzero(levels == level).squeeze(1)
            pooled = roi_align(maps[level], rois[members], self.config.roi_size, FEATURE_MAPS[level] / INPUT_SIZE,
                               self.config.sampling_ratio, self.config.aligned, self.config.pooling)
            encoded[members] = self.adapters[level](pooled).to(encoded.dtype)
        return encoded

    def forward(self, images: torch.Tensor, rois: torch.Tensor, detections: bool = False,
                classes: torch.Tensor | None = None):
        """Reconstructions (n, *output_shape); with `detections`, also the detector's (offsets, logits)
        from the same feature maps (training with the detector fine-tuned). The redraw decoder needs
        each box's class (n,), numbered from 1."""
        maps = self.detector.feature_maps(images)
        encoded = self.encode(maps, rois)
        if self.config.decoder == "redraw":
            if classes is None:
                raise ValueError("the redraw decoder draws a class: pass each box's class")
            reconstructed = self.decoder(encoded, classes)
        else:
            reconstructed = self.decoder(encoded)
        return (reconstructed, self.detector.heads(maps)) if detections else reconstructed
