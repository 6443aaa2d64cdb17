"""Pictures to network input, and the augmentations that keep every label true.

Photometric changes (brightness, contrast, colour of the paper, gamma, grain, blur, grey) imitate
other scans of other copies. The only geometric change is a left-right mirror: a mirrored ornament
is still the same class (the pose is an attribute, not a class), and boxes mirror exactly.
Everything random comes from the generator passed in, so a seed replays a run.
"""

from __future__ import annotations

import cv2
import numpy as np
import torch

from dea_core.detection.model import IMAGE_MEAN, IMAGE_STD


def image_to_tensor(images: np.ndarray) -> torch.Tensor:
    """BGR uint8 (H, W, 3) or (B, H, W, 3) -> normalised RGB float32 (3, H, W) or (B, 3, H, W)."""
    rgb = torch.from_numpy(np.ascontiguousarray(images[..., ::-1])).float().div_(255.0)
    mean, std = torch.tensor(IMAGE_MEAN), torch.tensor(IMAGE_STD)
    return ((rgb - mean) / std).movedim(-1, -3).contiguous()


def photometric(image: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A differently scanned copy of BGR uint8 (H, W, 3): same geometry, other light and paper."""
    out = image.astype(np.float32)
    if rng.random() < 0.5:  # brightness and contrast
        out = (out - 128.0) * rng.uniform(0.7, 1.3) + 128.0 + rng.uniform(-25.0, 25.0)
    if rng.random() < 0.5:  # paper tint: warmer or cooler
        out *= rng.uniform(0.85, 1.15, size=3).astype(np.float32)
    if rng.random() < 0.3:  # gamma
        out = 255.0 * (np.clip(out, 0, 255) / 255.0) ** rng.uniform(0.7, 1.4)
    if rng.random() < 0.2:  # grey scan
        out = np.repeat(out.mean(axis=2, keepdims=True), 3, axis=2)
    if rng.random() < 0.3:  # grain
        out += rng.normal(0.0, rng.uniform(2.0, 10.0), size=out.shape).astype(np.float32)
    out = np.clip(out, 0, 255).astype(np.uint8)
    if rng.random() < 0.2:  # softer focus
        out = cv2.GaussianBlur(out, (0, 0), rng.uniform(0.4, 1.1))
    return out


def mirror(image: np.ndarray, boxes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Left-right mirror of an image (H, W, 3) and its xyxy pixel boxes (N, 4)."""
    width = image.shape[1]
    mirrored = boxes.copy()
    mirrored[:, 0], mirrored[:, 2] = width - boxes[:, 2], width - boxes[:, 0]
    return np.ascontiguousarray(image[:, ::-1]), mirrored


def paper_colour(image: np.ndarray) -> np.ndarray:
    """The median colour (3,) uint8 of a BGR page (H, W, 3): its paper, which covers most of it."""
    return np.median(image.reshape(-1, 3), axis=0).astype(np.uint8)


def pad_to(image: np.ndarray, size: int) -> np.ndarray:
    """BGR (H, W, 3) padded right and bottom with its median colour (the paper) to at least size x size."""
    height, width = image.shape[:2]
    if height >= size and width >= size:
        return image
    paper = paper_colour(image)
    padded = np.empty((max(height, size), max(width, size), 3), np.uint8)
    padded[:] = paper
    padded[:height, :width] = image
    return padded
