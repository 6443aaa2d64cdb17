"""What the decoder must reproduce, and how far a vignette is from its reconstruction.

Target: the vignette's box resampled to the decoder's size (RoIAlign on the picture itself, so the
target and the features see exactly the same box), grey for the FC decoder, colour for the deconv
one, with paper brought to 1 and the darkest ink to 0 per vignette: another copy's paper tint,
lighter inking or scanner contrast then changes nothing the decoder has to learn.

Error: the reconstruction may sit a pixel or two off the observed vignette (the detector's box is
not pixel-exact), so the reconstruction is shifted by up to `MAX_SHIFT` pixels to where it fits
best before the per-pixel error is taken; the error map is then smoothed (a change is a patch of
wrong ink, not isolated pixels) and the vignette's anomaly score is the mean of its worst
`TOP_SHARE` of pixels: a crack or a broken-off corner covers a few per cent of a vignette, and a
mean over the whole box would drown it.
"""

from __future__ import annotations

from typing import Final

import cv2
import numpy as np
import torch
import torch.nn.functional as F

from dea_core.anomaly.heatmaps import INK_PERCENTILE, PAPER_PERCENTILE
from dea_core.dea.model import DEA
from dea_core.dea.roi_align import roi_align
from dea_core.detection.model import IMAGE_MEAN, IMAGE_STD, INPUT_SIZE
from dea_core.detection.transforms import image_to_tensor, paper_colour

# The same paper and ink levels as the page heatmaps' (dea_core.anomaly.heatmaps), as quantiles.
PAPER_QUANTILE: Final = PAPER_PERCENTILE / 100
INK_QUANTILE: Final = INK_PERCENTILE / 100
MAX_SHIFT: Final = 2  # pixels of the decoder's grid
SMOOTHING: Final = 1.5  # Gaussian sigma of the error map, pixels of the decoder's grid
TOP_SHARE: Final = 0.03
_LUMA: Final = (0.299, 0.587, 0.114)


def unnormalise(images: torch.Tensor) -> torch.Tensor:
    """Network input (B, 3, H, W) back to RGB in [0, 1]."""
    mean = torch.tensor(IMAGE_MEAN, device=images.device)[:, None, None]
    std = torch.tensor(IMAGE_STD, device=images.device)[:, None, None]
    return (images * std + mean).clamp(0.0, 1.0)


def vignette_targets(images: torch.Tensor, rois: torch.Tensor, shape: tuple[int, int, int]) -> torch.Tensor:
    """The boxes of the network input `images` (B, 3, H, W) as decoder targets (n, *shape), paper 1, ink 0.

    rois: (n, 5) = (image index, x0, y0, x1, y1) in input pixels; shape: (1 or 3, h, w).
    """
    channels, height, width = shape
    crops = roi_align(unnormalise(images), rois, (height, width), sampling_ratio=2, aligned=True)
    if channels == 1:
        crops = grey(crops)
    return paper_normalised(crops)


def grey(pictures: torch.Tensor) -> torch.Tensor:
    """(n, 3, h, w) RGB -> (n, 1, h, w) luminance; grey input is returned as it is."""
    if pictures.shape[1] == 1:
        return pictures
    weights = torch.tensor(_LUMA, device=pictures.device, dtype=pictures.dtype)[None, :, None, None]
    return (pictures * weights).sum(dim=1, keepdim=True)


def paper_normalised(pictures: torch.Tensor) -> torch.Tensor:
    """(n, C, h, w) in [0, 1] with each picture's paper level to 1 and ink level to 0 (from its luminance)."""
    luminance = grey(pictures).flatten(1)
    paper = torch.quantile(luminance, PAPER_QUANTILE, dim=1)[:, None, None, None]
    ink = torch.quantile(luminance, INK_QUANTILE, dim=1)[:, None, None, None]
    return ((pictures - ink) / (paper - ink).clamp(min=0.05)).clamp(0.0, 1.0)


def error_maps(reconstructed: torch.Tensor, observed: torch.Tensor) -> torch.Tensor:
    """Per-pixel error (n, h, w) in [0, 1] between reconstructions and targets (n, C, h, w), best shift first."""
    recon, seen = grey(reconstructed), grey(observed)
    best = _best_shifts(recon, seen)
    shifted = torch.stack([torch.roll(r, shifts=s, dims=(1, 2)) for r, s in zip(recon, best)])
    return _smooth((shifted - seen).abs())[:, 0]


def anomaly_scores(errors: torch.Tensor) -> torch.Tensor:
    """(n, h, w) error maps -> (n,) scores: the mean of each map's worst TOP_SHARE of pixels."""
    flat = errors.flatten(1)
    count = max(1, round(flat.shape[1] * TOP_SHARE))
    return flat.topk(count, dim=1).values.mean(dim=1)


def _best_shifts(recon: torch.Tensor, seen: torch.Tensor) -> list[tuple[int, int]]:
    shifts = [(dy, dx) for dy in range(-MAX_SHIFT, MAX_SHIFT + 1) for dx in range(-MAX_SHIFT, MAX_SHIFT + 1)]
    errors = torch.stack([(torch.roll(recon, shifts=s, dims=(2, 3)) - seen).abs().mean(dim=(1, 2, 3))
                          for s in shifts], dim=1)
    return [shifts[i] for i in errors.argmin(dim=1).tolist()]


def _smooth(maps: torch.Tensor) -> torch.Tensor:
    radius = int(3 * SMOOTHING)
    offsets = torch.arange(-radius, radius + 1, device=maps.device, dtype=maps.dtype)
    kernel = torch.exp(-(offsets**2) / (2 * SMOOTHING**2))
    kernel = kernel / kernel.sum()
    maps = F.conv2d(F.pad(maps, (radius, radius, 0, 0), mode="replicate"), kernel.view(1, 1, 1, -1))
    return F.conv2d(F.pad(maps, (0, 0, radius, radius), mode="replicate"), kernel.view(1, 1, -1, 1))


def vignette_window(image: np.ndarray, paper: np.ndarray, box, crop_size: int,
                    image_size: int) -> tuple[np.ndarray, list[float]]:
    """The crop_size window of a BGR page (H, W, 3) centred on a box (outside the page: `paper`), at network
    size image_size, and the box in the network input's pixels: how the DEA sees a vignette."""
    left = int(round((box[0] + box[2]) / 2 - crop_size / 2))
    top = int(round((box[1] + box[3]) / 2 - crop_size / 2))
    window = paper_padded_window(image, paper, left, top, crop_size)
    scale = INPUT_SIZE / crop_size
    roi = [(box[0] - left) * scale, (box[1] - top) * scale, (box[2] - left) * scale, (box[3] - top) * scale]
    return cv2.resize(window, (image_size, image_size), interpolation=cv2.INTER_AREA), roi


def redraw(model: DEA, images: torch.Tensor, rois: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Each box of the network input (B, 3, 300, 300) redrawn by a seed decoder: reconstructions and targets
    (n, C, h, w), and their error maps (n, h, w), what calibration and scoring both judge by."""
    reconstructed = model(images, rois).float()
    targets = vignette_targets(images, rois, model.config.output_shape)
    return reconstructed, targets, error_maps(reconstructed, targets)


@torch.no_grad()
def pooled_features(model: DEA, image: np.ndarray, boxes, crop_size: int, image_size: int,
                    device: torch.device) -> torch.Tensor:
    """(n, C): each box's encoded features averaged over its RoI, each seen in a window centred on it."""
    if len(boxes) == 0:
        return torch.zeros(0, model.config.channels)
    paper = paper_colour(image)
    windows, rois = zip(*(vignette_window(image, paper, box, crop_size, image_size) for box in boxes))
    pooled = []
    for start in range(0, len(windows), 8):
        inputs = image_to_tensor(np.stack(windows[start:start + 8])).to(device)
        rows = torch.tensor([[i, *roi] for i, roi in enumerate(rois[start:start + 8])], dtype=torch.float32,
                            device=device)
        pooled.append(model.encode(model.detector.feature_maps(inputs), rows).mean(dim=(2, 3)).float().cpu())
    return torch.cat(pooled)


def paper_padded_window(image: np.ndarray, paper: np.ndarray, left: int, top: int, size: int) -> np.ndarray:
    """The size x size square at (left, top) of a BGR image (H, W, 3); outside the image, `paper` (3,)."""
    window = np.empty((size, size, 3), np.uint8)
    window[:] = paper
    height, width = image.shape[:2]
    x0, y0, x1, y1 = max(left, 0), max(top, 0), min(left + size, width), min(top + size, height)
    if x1 > x0 and y1 > y0:
        window[y0 - top:y1 - top, x0 - left:x1 - left] = image[y0:y1, x0:x1]
    return window
