"""The two methods the DEA is compared with on the change benchmark.

- MeanOfAligned: every genuine picture aligned onto one reference with our alignment engine and
  averaged (as ink darkness); a picture's score is its smoothed absolute difference from that
  mean, once aligned the same way, carried back onto the picture's own grid.
- ConvAutoencoder: a fully convolutional autoencoder (4 convolutions down with kernels 3, 5, 7, 9
  and more channels each time, the mirror image up, ReLU, MSE, Adam) trained to reproduce genuine
  pictures' ink; what it cannot reproduce is the change (smoothed squared error).

Networks are plain modules; training and scoring are separate functions (anomalib's split).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from itertools import pairwise
from typing import Final

import cv2
import numpy as np
import torch
from torch import nn

from dea_core.alignment.fine import FineOptions
from dea_core.alignment.mapping import identity_mapping, invert_points
from dea_core.alignment.pipeline import AlignOptions, PairAlignment, align_pair
from dea_core.anomaly.heatmaps import ink_darkness
from dea_core.anomaly.methods import ChangeScore, smoothed_score
from dea_core.errors import DeaError

SMOOTHING_PX: Final = 2.0
KERNELS: Final = (3, 5, 7, 9)
CHANNELS: Final = (16, 32, 64, 128)
SIZE_MULTIPLE: Final = 16  # four stride-2 layers
# invert_points samples with cv2.remap, which takes fewer than 2**15 points per call.


# --- Mean of aligned genuine pictures ----------------------------------------------------------


def default_alignment(fine: bool = True) -> AlignOptions:
    """Our alignment; `fine=False` keeps the coarse homographies (about 10x faster on ornaments)."""
    return AlignOptions(fine=FineOptions() if fine else None)


@dataclass
class MeanOfAligned:
    """Genuine pictures aligned onto the first one and averaged; a test picture is scored against that mean."""

    alignment: AlignOptions = field(default_factory=default_alignment)
    smoothing: float = SMOOTHING_PX
    name: str = "mean of aligned"
    reference: np.ndarray | None = field(default=None, init=False, repr=False)
    mean: np.ndarray | None = field(default=None, init=False, repr=False)

    def fit(self, genuine_images: list[np.ndarray]) -> None:
        """Align every picture (H, W, 3) BGR uint8 onto the first; pictures that do not align are left out."""
        if not genuine_images:
            raise ValueError("MeanOfAligned needs at least one genuine picture")
        self.reference = genuine_images[0]
        total = ink_darkness(self.reference).astype(np.float64)
        weight = np.ones(total.shape)
        for image in genuine_images[1:]:
            try:
                pair = align_pair(self.reference, image, self.alignment)
            except DeaError:
                continue
            total += ink_darkness(pair.aligned) * pair.inside
            weight += pair.inside
        self.mean = (total / weight).astype(np.float32)

    def score(self, image: np.ndarray) -> ChangeScore:
        """Smoothed |ink darkness - mean| on the picture's own grid, (H, W) float32; unaligned pictures are resized."""
        if self.reference is None or self.mean is None:
            raise RuntimeError("MeanOfAligned.score called before fit")
        try:
            pair = align_pair(self.reference, image, self.alignment)
        except DeaError:
            return self._score_unaligned(image)
        difference = np.abs(ink_darkness(pair.aligned) - self.mean) * pair.inside
        return smoothed_score(_to_source_grid(difference.astype(np.float32), pair, image.shape[:2]), self.smoothing)

    def _score_unaligned(self, image: np.ndarray) -> ChangeScore:
        """A picture the engine cannot align is stretched onto the reference's size and compared there."""
        h, w = image.shape[:2]
        stretched = cv2.resize(image, (self.mean.shape[1], self.mean.shape[0]), interpolation=cv2.INTER_AREA)
        difference = np.abs(ink_darkness(stretched) - self.mean)
        return smoothed_score(cv2.resize(difference, (w, h), interpolation=cv2.INTER_LINEAR), self.smoothing)


@dataclass
class MeanOfGenuine:
    """The naive baseline: genuine pictures stretched onto the first one's size and averaged, no alignment."""

    smoothing: float = SMOOTHING_PX
    name: str = "naive mean of genuine"
    mean: np.ndarray | None = field(default=None, init=False, repr=False)

    def fit(self, genuine_images: list[np.ndarray]) -> None:
        if not genuine_images:
            raise ValueError("MeanOfGenuine needs at least one genuine picture")
        h, w = genuine_images[0].shape[:2]
        self.mean = np.mean([ink_darkness(cv2.resize(image, (w, h), interpolation=cv2.INTER_AREA))
                             for image in genuine_images], axis=0).astype(np.float32)

    def score(self, image: np.ndarray) -> ChangeScore:
        """Smoothed |ink darkness - mean|, the picture stretched onto the mean's size and the map back; (H, W)."""
        if self.mean is None:
            raise RuntimeError("MeanOfGenuine.score called before fit")
        h, w = image.shape[:2]
        stretched = cv2.resize(image, (self.mean.shape[1], self.mean.shape[0]), interpolation=cv2.INTER_AREA)
        difference = np.abs(ink_darkness(stretched) - self.mean)
        return smoothed_score(cv2.resize(difference, (w, h), interpolation=cv2.INTER_LINEAR), self.smoothing)


def _to_source_grid(values: np.ndarray, pair: PairAlignment, shape: tuple[int, int]) -> np.ndarray:
    """A map (H, W) on the reference grid carried onto the aligned source's grid `shape`; 0 where it has none."""
    height, width = shape
    points = identity_mapping(height, width).reshape(-1, 2)
    on_reference = invert_points(pair.mapping, points).reshape(height, width, 2)
    return cv2.remap(values, on_reference[..., 0], on_reference[..., 1], cv2.INTER_LINEAR,
                     borderMode=cv2.BORDER_CONSTANT, borderValue=0)


# --- Convolutional autoencoder -----------------------------------------------------------------


class ConvAutoencoderNet(nn.Module):
    """Fully convolutional autoencoder: (B, 1, H, W) ink in [0, 1] to (B, 1, H, W), H and W multiples of 16."""

    def __init__(self, channels: tuple[int, ...] = CHANNELS, kernels: tuple[int, ...] = KERNELS) -> None:
        super().__init__()
        widths = (1, *channels)
        down: list[nn.Module] = []
        for k, (c_in, c_out) in zip(kernels, pairwise(widths)):
            down += [nn.Conv2d(c_in, c_out, k, stride=2, padding=k // 2), nn.ReLU()]
        up: list[nn.Module] = []
        for k, (c_in, c_out) in zip(reversed(kernels), pairwise(widths[::-1])):
            up += [nn.ConvTranspose2d(c_in, c_out, k, stride=2, padding=k // 2, output_padding=1), nn.ReLU()]
        up[-1] = nn.Sigmoid()  # the output is ink in [0, 1]
        self.encoder = nn.Sequential(*down)
        self.decoder = nn.Sequential(*up)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.decoder(self.encoder(x))


def train_autoencoder(net: nn.Module, images: torch.Tensor, *, epochs: int, seed: int, batch_size: int = 8,
                      learning_rate: float = 1e-3) -> list[float]:
    """Train `net` to reproduce `images` (N, 1, H, W) with MSE and Adam; returns the mean loss of each epoch."""
    generator = torch.Generator().manual_seed(seed)
    optimiser = torch.optim.Adam(net.parameters(), lr=learning_rate)
    losses = []
    net.train()
    for _ in range(epochs):
        order = torch.randperm(len(images), generator=generator)
        total = 0.0
        for start in range(0, len(images), batch_size):
            batch = images[order[start:start + batch_size]]
            loss = nn.functional.mse_loss(net(batch), batch)
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
            total += loss.item() * len(batch)
        losses.append(total / len(images))
    net.eval()
    return losses


def fit_canvas(darkness: np.ndarray, size: tuple[int, int]) -> tuple[np.ndarray, float]:
    """Ink (h, w) shrunk if needed to fit `size` (H, W), then padded with paper (0) at the bottom and right.

    Returns the (H, W) float32 canvas and the scale applied (1 when it already fit).
    """
    h, w = darkness.shape
    scale = min(1.0, size[0] / h, size[1] / w)
    if scale < 1.0:
        darkness = cv2.resize(darkness, (max(1, int(w * scale)), max(1, int(h * scale))), interpolation=cv2.INTER_AREA)
    canvas = np.zeros(size, np.float32)
    canvas[:darkness.shape[0], :darkness.shape[1]] = darkness
    return canvas, scale


@dataclass
class ConvAutoencoder:
    """The autoencoder baseline: trained on genuine pictures' ink, scored by its smoothed squared error."""

    channels: tuple[int, ...] = CHANNELS
    smoothing: float = SMOOTHING_PX
    epochs: int = 30
    seed: int = 0
    name: str = "conv autoencoder"
    losses: list[float] = field(default_factory=list, init=False, repr=False)
    size: tuple[int, int] | None = field(default=None, init=False)
    net: ConvAutoencoderNet | None = field(default=None, init=False, repr=False)

    def fit(self, genuine_images: list[np.ndarray], *, epochs: int | None = None, seed: int | None = None,
            batch_size: int = 8) -> None:
        """Train a new network on the pictures (H, W, 3) BGR uint8; the canvas is the largest, to 16 px.

        epochs and seed default to the method's own fields.
        """
        if not genuine_images:
            raise ValueError("ConvAutoencoder needs at least one genuine picture")
        epochs = self.epochs if epochs is None else epochs
        seed = self.seed if seed is None else seed
        self.size = tuple(-(-max(s) // SIZE_MULTIPLE) * SIZE_MULTIPLE
                          for s in zip(*(image.shape[:2] for image in genuine_images)))
        canvases = np.stack([fit_canvas(ink_darkness(image), self.size)[0] for image in genuine_images])
        with torch.random.fork_rng():
            torch.manual_seed(seed)
            self.net = ConvAutoencoderNet(self.channels)
        self.losses = train_autoencoder(self.net, torch.from_numpy(canvases)[:, None], epochs=epochs, seed=seed,
                                        batch_size=batch_size)

    def score(self, image: np.ndarray) -> ChangeScore:
        """Smoothed squared reconstruction error on the picture's own grid, (H, W) float32."""
        if self.net is None or self.size is None:
            raise RuntimeError("ConvAutoencoder.score called before fit")
        h, w = image.shape[:2]
        canvas, scale = fit_canvas(ink_darkness(image), self.size)
        with torch.no_grad():
            reconstruction = self.net(torch.from_numpy(canvas)[None, None])[0, 0].numpy()
        error = (canvas - reconstruction) ** 2
        if scale < 1.0:
            error = cv2.resize(error[:int(h * scale), :int(w * scale)], (w, h), interpolation=cv2.INTER_LINEAR)
        else:
            error = error[:h, :w]
        return smoothed_score(error, self.smoothing)
