"""Printing and scanning defects for synthetic pages, each one small seeded function.

Every function takes the image, a `numpy.random.Generator` and a `strength` in [0, 1]
(0 leaves the image as it is, 1 is the worst the generator uses) and returns a new image of the
same shape and dtype uint8. Ink defects work on the ink layer (H, W), 255 = no ink; paper and
scanner defects work on the whole page (H, W) or (H, W, 3).
"""

from __future__ import annotations

import cv2
import numpy as np


def smooth_field(rng: np.random.Generator, shape: tuple[int, int], cell: float) -> np.ndarray:
    """Smooth random field in [-1, 1] with features about `cell` pixels across. Returns (H, W) float32."""
    h, w = shape
    gh, gw = max(2, int(np.ceil(h / cell)) + 1), max(2, int(np.ceil(w / cell)) + 1)
    coarse = rng.uniform(-1.0, 1.0, (gh, gw)).astype(np.float32)
    field = cv2.resize(coarse, (w, h), interpolation=cv2.INTER_CUBIC)
    return np.clip(field / max(float(np.abs(field).max()), 1e-6), -1.0, 1.0)


def ink_spread(ink: np.ndarray, rng: np.random.Generator, strength: float) -> np.ndarray:
    """Ink that spreads in some places and starves in others, varying smoothly across the page.

    ink: (H, W) uint8 ink layer. Where a random field is positive strokes thicken by up to a
    pixel (a 3x3 minimum), where it is negative they thin by up to half of one (a 3x3 maximum,
    half blended: thin type strokes would vanish otherwise).
    """
    if strength <= 0:
        return ink.copy()
    kernel = np.ones((3, 3), np.uint8)
    thick = cv2.erode(ink, kernel).astype(np.float32)
    thin = cv2.dilate(ink, kernel).astype(np.float32)
    field = np.clip(smooth_field(rng, ink.shape, cell=300.0) * 1.6 * strength, -1.0, 1.0)
    base = ink.astype(np.float32)
    out = base + np.clip(field, 0, 1) * (thick - base) + 0.5 * np.clip(-field, 0, 1) * (thin - base)
    return np.round(out).astype(np.uint8)


def ink_dropouts(ink: np.ndarray, rng: np.random.Generator, strength: float) -> np.ndarray:
    """Small pale holes where the ink did not take (type worn or paper grain), only inside dark areas.

    ink: (H, W) uint8 ink layer. About 0.4% of dark pixels at strength 1 seed a hole of 1-2 px radius.
    """
    if strength <= 0:
        return ink.copy()
    dark = ink < 128
    seeds = dark & (rng.random(ink.shape) < 0.004 * strength)
    holes = np.zeros(ink.shape, np.uint8)
    for radius in (1, 2):
        chosen = seeds & (rng.random(ink.shape) < 0.5)
        grown = cv2.dilate(chosen.astype(np.uint8), cv2.getStructuringElement(cv2.MORPH_ELLIPSE,
                                                                             (2 * radius + 1,) * 2))
        holes = np.maximum(holes, grown)
    soft = cv2.GaussianBlur(holes.astype(np.float32), (0, 0), 0.7) * (0.6 + 0.4 * strength)
    out = ink.astype(np.float32) + soft * (255.0 - ink.astype(np.float32))
    return np.round(np.clip(out, 0, 255)).astype(np.uint8)


def show_through(page: np.ndarray, verso_ink: np.ndarray, rng: np.random.Generator,
                 strength: float) -> np.ndarray:
    """The print of the other side seen faintly through the paper: mirrored, blurred, pale.

    page: (H, W, 3) or (H, W) uint8; verso_ink: (H, W) uint8 ink layer of the other side, as
    printed (it is mirrored here). Opacity reaches 0.15 at strength 1 and varies across the sheet.
    """
    if strength <= 0:
        return page.copy()
    ghost = cv2.GaussianBlur(255.0 - verso_ink[:, ::-1].astype(np.float32), (0, 0), 1.6) / 255.0
    opacity = 0.15 * strength * (0.75 + 0.25 * smooth_field(rng, verso_ink.shape, cell=500.0))
    factor = 1.0 - ghost * opacity
    if page.ndim == 3:
        factor = factor[:, :, None]
    return np.round(page.astype(np.float32) * factor).astype(np.uint8)


def blur(page: np.ndarray, rng: np.random.Generator, strength: float) -> np.ndarray:
    """Gaussian optical blur, sigma 0.5-1.2 px (chosen in that band around `strength`)."""
    if strength <= 0:
        return page.copy()
    sigma = 0.5 + 0.7 * float(np.clip(strength + rng.uniform(-0.1, 0.1), 0.0, 1.0))
    return cv2.GaussianBlur(page, (0, 0), sigma)


def sensor_noise(page: np.ndarray, rng: np.random.Generator, strength: float) -> np.ndarray:
    """Additive Gaussian sensor noise, standard deviation up to 9 grey levels."""
    if strength <= 0:
        return page.copy()
    noise = rng.normal(0.0, 9.0 * strength, page.shape)
    return np.clip(np.round(page.astype(np.float32) + noise), 0, 255).astype(np.uint8)


def jpeg_compress(page: np.ndarray, rng: np.random.Generator, strength: float) -> np.ndarray:
    """One JPEG round trip; quality falls from 90 (strength near 0) to 60 (strength 1)."""
    if strength <= 0:
        return page.copy()
    quality = int(np.clip(round(90 - 30 * strength + rng.uniform(-3, 3)), 60, 90))
    ok, encoded = cv2.imencode(".jpg", page, [cv2.IMWRITE_JPEG_QUALITY, quality])
    if not ok:
        raise RuntimeError("OpenCV could not encode the page as JPEG")
    flags = cv2.IMREAD_COLOR if page.ndim == 3 else cv2.IMREAD_GRAYSCALE
    return cv2.imdecode(encoded, flags)


def perspective_homography(rng: np.random.Generator, width: int, height: int, strength: float) -> np.ndarray:
    """A slight page-wide perspective: each corner moved by up to 1% of the page size at strength 1.

    Returns the (3, 3) homography from flat page coordinates to the warped page.
    """
    corners = np.array([[0, 0], [width, 0], [width, height], [0, height]], np.float32)
    shift = rng.uniform(-1.0, 1.0, (4, 2)) * 0.01 * strength * np.array([width, height])
    return cv2.getPerspectiveTransform(corners, (corners + shift).astype(np.float32))


def perspective_warp(page: np.ndarray, homography: np.ndarray) -> np.ndarray:
    """The page seen through `homography` (from `perspective_homography`); edges repeat the paper."""
    h, w = page.shape[:2]
    return cv2.warpPerspective(page, homography, (w, h), flags=cv2.INTER_LINEAR,
                               borderMode=cv2.BORDER_REPLICATE)


def warp_points(points: np.ndarray, homography: np.ndarray) -> np.ndarray:
    """Points (N, 2) moved by `homography` exactly as `perspective_warp` moves the pixels.

    Points are continuous page coordinates (pixel i spans [i, i + 1), as boxes and quads are);
    OpenCV warps pixel centres, hence the half-pixel shifts.
    """
    centred = np.asarray(points, np.float64).reshape(-1, 1, 2) - 0.5
    return cv2.perspectiveTransform(centred, homography).reshape(-1, 2) + 0.5


def aged_paper(rng: np.random.Generator, shape: tuple[int, int], strength: float) -> np.ndarray:
    """Off-white laid paper: tone, cloudy texture, fibres, foxing stains and a darker rim.

    Returns (H, W, 3) float32 BGR in [0, 255]; strength 0 gives a flat off-white sheet.
    """
    tone = np.array([205.0, 226.0, 236.0]) + rng.uniform(-6, 6, 3)  # BGR: warm, yellowish white
    light = np.ones(shape, np.float32)
    if strength > 0:
        light += strength * (0.035 * smooth_field(rng, shape, 450.0) + 0.02 * smooth_field(rng, shape, 110.0)
                             + 0.012 * smooth_field(rng, shape, 25.0))
        grain = cv2.GaussianBlur(rng.standard_normal(shape).astype(np.float32), (0, 0), 0.8)
        light += strength * 0.012 * grain
        light *= 1.0 - strength * (0.05 * _fibres(rng, shape) + _vignette(shape))
    paper = light[:, :, None] * tone
    if strength > 0:
        stain = _stains(rng, shape) * strength
        paper *= 1.0 - stain[:, :, None] * np.array([0.30, 0.18, 0.10])  # foxing is brown: blue drops most
    return np.clip(paper, 0, 255).astype(np.float32)


def _fibres(rng: np.random.Generator, shape: tuple[int, int]) -> np.ndarray:
    """Short thin curved fibres, (H, W) float32 in [0, 1]."""
    h, w = shape
    canvas = np.zeros(shape, np.float32)
    for _ in range(int(h * w / 40000)):
        start = rng.uniform((0, 0), (w, h))
        heading = rng.uniform(0, 2 * np.pi) + np.cumsum(rng.normal(0, 0.25, 8))
        steps = np.stack([np.cos(heading), np.sin(heading)], 1) * rng.uniform(2, 7)
        points = np.round(start + np.cumsum(steps, 0)).astype(np.int32)
        cv2.polylines(canvas, [points], False, float(rng.uniform(0.4, 1.0)), 1, cv2.LINE_AA)
    return cv2.GaussianBlur(canvas, (0, 0), 0.6)


def _vignette(shape: tuple[int, int]) -> np.ndarray:
    """Darkening towards the edges of the sheet, up to 7% in the corners; (H, W) float32."""
    h, w = shape
    y = np.linspace(-1, 1, h, dtype=np.float32)[:, None]
    x = np.linspace(-1, 1, w, dtype=np.float32)[None, :]
    return 0.07 * np.clip((x**2 + y**2) / 2, 0, 1) ** 2


def _stains(rng: np.random.Generator, shape: tuple[int, int]) -> np.ndarray:
    """A few soft foxing spots and one faint tide mark, (H, W) float32 in [0, 1]."""
    h, w = shape
    canvas = np.zeros(shape, np.float32)
    for _ in range(int(rng.integers(3, 9))):
        centre = (int(rng.uniform(0, w)), int(rng.uniform(0, h)))
        radius = int(rng.uniform(3, 18))
        cv2.circle(canvas, centre, radius, float(rng.uniform(0.2, 0.6)), -1)
    spots = cv2.GaussianBlur(canvas, (0, 0), 3.0)
    tide = np.clip(smooth_field(rng, shape, 700.0) - 0.55, 0, None) * 0.5
    return np.clip(spots + tide, 0, 1)
