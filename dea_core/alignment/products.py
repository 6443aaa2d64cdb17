"""Pictures for the historian: the confidence map, and the aligned set's average, difference and GIF."""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import Final

import cv2
import numpy as np
from PIL import Image

GIF_FRAME_MS: Final = 700
# GIFs are for looking, not measuring: their long side is kept at most this.
GIF_MAX_SIDE: Final = 1200
# Grey-level differences smaller than this are paper grain and scanner noise, not ink.
DIFFERENCE_FLOOR: Final = 40


def confidence_picture(confidence: np.ndarray, observed: np.ndarray | None = None) -> np.ndarray:
    """(H, W, 3) uint8 BGR: confidence in [0, 1] as grey levels, white for fully matchable pixels.

    With `observed` (H, W) in [0, 1], interpolated pixels (0) turn yellow: their blue channel
    holds half the confidence, observed ones (1) all of it. The green channel is the confidence.
    """
    grey = np.clip(confidence * 255 + 0.5, 0, 255).astype(np.uint8)
    if observed is None:
        return cv2.cvtColor(grey, cv2.COLOR_GRAY2BGR)
    blue = np.clip(confidence * (0.5 + 0.5 * np.clip(observed, 0, 1)) * 255 + 0.5, 0, 255).astype(np.uint8)
    return np.dstack([blue, grey, grey])


def observed_from_picture(picture: np.ndarray) -> np.ndarray:
    """(H, W) float32: the `observed` map a `confidence_picture` (H, W, 3) holds (0 where confidence is 0)."""
    blue, green = picture[..., 0].astype(np.float32), picture[..., 1].astype(np.float32)
    share = np.divide(blue, green, out=np.zeros_like(blue), where=green > 0)
    return np.clip(2 * share - 1, 0, 1)


def average_picture(reference: np.ndarray, aligned: Sequence[np.ndarray], inside: Sequence[np.ndarray]) -> np.ndarray:
    """(H, W, 3) uint8 mean of the reference and the aligned sources, each where it has pixels."""
    total = reference.astype(np.float32)
    count = np.ones(reference.shape[:2], np.float32)
    for image, mask in zip(aligned, inside):
        total += image.astype(np.float32) * mask[..., None]
        count += mask
    return np.clip(total / count[..., None] + 0.5, 0, 255).astype(np.uint8)


def difference_picture(reference: np.ndarray, aligned: Sequence[np.ndarray],
                       inside: Sequence[np.ndarray]) -> np.ndarray:
    """(H, W, 3) uint8: where the set disagrees with the reference, on white paper.

    Ink in the reference only is red, ink in some source only is blue (the largest difference over
    the sources, per pixel); where all agree the paper stays white. Each source's grey levels are
    first fitted to the reference's (paper tone, ink density), and differences below
    `DIFFERENCE_FLOOR` grey levels are ignored, so that what shows is ink, not paper.
    """
    ref = cv2.cvtColor(reference, cv2.COLOR_BGR2GRAY).astype(np.float32)
    only_ref = np.zeros(ref.shape, np.float32)
    only_src = np.zeros(ref.shape, np.float32)
    for image, mask in zip(aligned, inside):
        gray = _tone_matched(cv2.cvtColor(image, cv2.COLOR_BGR2GRAY).astype(np.float32), ref, mask)
        diff = np.maximum(np.abs(gray - ref) - DIFFERENCE_FLOOR, 0) * np.sign(gray - ref) * mask
        only_ref = np.maximum(only_ref, diff)
        only_src = np.maximum(only_src, -diff)
    scale = 255.0 / (255.0 - DIFFERENCE_FLOOR)
    only_ref, only_src = (np.clip(d * scale, 0, 255).astype(np.int16) for d in (only_ref, only_src))
    picture = np.full((*ref.shape, 3), 255, np.int16)
    picture[..., 0] -= only_ref  # less blue and green: red
    picture[..., 1] -= np.maximum(only_ref, only_src)
    picture[..., 2] -= only_src  # less red and green: blue
    return np.clip(picture, 0, 255).astype(np.uint8)


def _tone_matched(gray: np.ndarray, reference: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """`gray` with the gain and offset that best fit it to `reference` on `mask`.

    Starts from the median offset (paper is most of a page), then least squares twice on the pixels
    that differ by less than the floor: the others are the differences we want to show, and must
    not bend the fit.
    """
    x, y = gray[mask], reference[mask]
    if len(x) == 0:
        return gray
    gain, offset = 1.0, float(np.median(y - x))
    for _ in range(2):
        close = np.abs(x * gain + offset - y) < DIFFERENCE_FLOOR
        if close.sum() < 2 or x[close].std() < 1e-3:
            break
        near_x, near_y = x[close].astype(np.float64), y[close].astype(np.float64)
        gain = float(np.mean((near_x - near_x.mean()) * (near_y - near_y.mean())) / near_x.var())
        offset = float(near_y.mean() - gain * near_x.mean())
    return gray * gain + offset


def overlay_gif(frames: Sequence[np.ndarray], frame_ms: int = GIF_FRAME_MS) -> bytes:
    """An endless animated GIF of BGR (H, W, 3) uint8 frames, all on the reference's grid."""
    if not frames:
        raise ValueError("no frames")
    height, width = frames[0].shape[:2]
    scale = min(1.0, GIF_MAX_SIDE / max(height, width))
    pictures = []
    for frame in frames:
        small = frame if scale == 1.0 else cv2.resize(frame, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
        pictures.append(Image.fromarray(np.ascontiguousarray(small[..., ::-1])))
    with io.BytesIO() as buffer:
        pictures[0].save(buffer, format="GIF", save_all=True, append_images=pictures[1:], duration=frame_ms, loop=0)
        return buffer.getvalue()
