"""Safe image reading: BGR uint8 arrays for the engine, sizes checked before anything is decoded.

Every picture comes back as a (H, W, 3) uint8 array in OpenCV's BGR channel order, whatever its
mode: grayscale and bitonal scans are repeated on three channels, palette images expanded, 16-bit
samples scaled to 8 bits, transparency composited on white paper. Multi-page files give page one.

Orientation follows LabelMe so that boxes drawn there line up with our pixels: LabelMe turns an
image *file* upright by its EXIF orientation tag (labelme.utils.apply_exif_orientation, for the
formats whose Pillow reader exposes EXIF: JPEG, MPO, PNG, WebP), but shows embedded base64
`imageData` as stored (Qt does not auto-rotate). `read_image` therefore applies the tag and
`decode_image_bytes` takes `apply_exif`.
"""

from __future__ import annotations

import io
import os
import struct
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO, Final, TypeVar

import numpy as np
from PIL import Image, ImageOps

from dea_core.errors import ImageLoadError
from dea_core.io.reading import check_regular_file

# 200 Mpx: a 600 dpi scan of a large folio (about 12000 x 16000 px) passes; a header that claims
# 30000 x 30000 px (a decompression bomb or a damaged file) does not.
MAX_IMAGE_PIXELS: Final[int] = 200_000_000

# Pillow refuses images of more than twice its own module-wide limit (89 Mpx by default) before we
# see their header; align it with ours so real folio scans are not refused by Pillow first.
Image.MAX_IMAGE_PIXELS = MAX_IMAGE_PIXELS

_EXIF_ORIENTED_FORMATS: Final = frozenset({"JPEG", "MPO", "PNG", "WEBP"})
_ORIENTATION_TAG: Final = 0x0112
_SIDEWAYS_ORIENTATIONS: Final = frozenset({5, 6, 7, 8})
_ALPHA_MODES: Final = frozenset({"RGBA", "RGBa", "LA", "La", "PA"})
_WIDE_GRAY_MODES: Final = frozenset({"I", "I;16", "I;16L", "I;16B", "I;16N"})
# What Pillow raises on damaged or truncated data, depending on the format's reader.
_DECODE_ERRORS: Final = (OSError, SyntaxError, ValueError, EOFError, IndexError, struct.error)

_T = TypeVar("_T")


def read_image(path: str | os.PathLike[str]) -> np.ndarray:
    """The picture at `path` as BGR uint8 (H, W, 3), upright by its EXIF orientation like LabelMe."""
    path = Path(path)
    _check_is_file(path)
    return _with_image(path, str(path), lambda image: _decode(image, apply_exif=True))


def decode_image_bytes(data: bytes, source: str, *, apply_exif: bool = True) -> np.ndarray:
    """Encoded picture bytes as BGR uint8 (H, W, 3); `source` names the file in error messages.

    Pass `apply_exif=False` for LabelMe's embedded imageData, which LabelMe shows as stored.
    """
    return _with_image(io.BytesIO(data), source, lambda image: _decode(image, apply_exif=apply_exif))


def image_size(path: str | os.PathLike[str]) -> tuple[int, int]:
    """(width, height) of the picture at `path`, upright, read from the header without decoding."""
    path = Path(path)
    _check_is_file(path)
    return _with_image(path, str(path), lambda image: _upright_size(image, apply_exif=True))


def image_size_from_bytes(data: bytes, source: str, *, apply_exif: bool = True) -> tuple[int, int]:
    """(width, height) of encoded picture bytes, from the header only (see decode_image_bytes)."""
    return _with_image(io.BytesIO(data), source, lambda image: _upright_size(image, apply_exif=apply_exif))


def encode_png(image: np.ndarray) -> bytes:
    """PNG bytes of a BGR (H, W, 3) or grayscale (H, W) uint8 array."""
    if image.dtype != np.uint8 or image.ndim not in (2, 3) or (image.ndim == 3 and image.shape[2] != 3):
        raise ValueError(f"expected uint8 (H, W) or (H, W, 3), got {image.dtype} {image.shape}")
    pixels = image if image.ndim == 2 else np.ascontiguousarray(image[:, :, ::-1])
    with io.BytesIO() as buffer:
        Image.fromarray(pixels).save(buffer, format="PNG")
        return buffer.getvalue()


def _check_is_file(path: Path) -> None:
    check_regular_file(path, "image file", ImageLoadError)


def _with_image(source_file: Path | BinaryIO, source: str, read: Callable[[Image.Image], _T]) -> _T:
    """Open the picture (header only), refuse it if too large, then run `read` on it."""
    try:
        with Image.open(source_file) as image:
            _check_pixel_count(image.size, source)
            return read(image)
    except Image.DecompressionBombError as error:
        raise ImageLoadError(f"{source}: too large to decode safely ({error})") from error
    except Image.UnidentifiedImageError as error:
        raise ImageLoadError(f"{source}: not a picture (unknown format or damaged header)") from error
    except PermissionError as error:
        raise ImageLoadError(f"{source}: cannot be read (permission denied)") from error
    except MemoryError as error:
        raise ImageLoadError(f"{source}: not enough memory to decode it") from error
    except _DECODE_ERRORS as error:
        raise ImageLoadError(f"{source}: damaged or truncated picture data ({error})") from error


def _check_pixel_count(size: tuple[int, int], source: str) -> None:
    width, height = size
    pixels = width * height
    if pixels > MAX_IMAGE_PIXELS:
        raise ImageLoadError(
            f"{source}: {width} x {height} = {pixels} pixels, more than the {MAX_IMAGE_PIXELS} we decode "
            "safely (a damaged header or a decompression bomb); scale a real scan down first"
        )


def _orientation(image: Image.Image) -> int:
    """The EXIF orientation LabelMe would apply to this file (1 = as stored).

    Read from the EXIF block the reader found (JPEG and WebP: in the header; PNG: before the pixel
    data, or anywhere once loaded): Image.getexif would decode a whole PNG just to look.
    """
    if image.format not in _EXIF_ORIENTED_FORMATS or "exif" not in image.info:
        return 1
    exif = Image.Exif()
    exif.load(image.info["exif"])
    return int(exif.get(_ORIENTATION_TAG, 1))


def _upright_size(image: Image.Image, *, apply_exif: bool) -> tuple[int, int]:
    width, height = image.size
    if apply_exif and _orientation(image) in _SIDEWAYS_ORIENTATIONS:
        return height, width
    return width, height


def _decode(image: Image.Image, *, apply_exif: bool) -> np.ndarray:
    image.load()
    if apply_exif and _orientation(image) != 1:
        image = ImageOps.exif_transpose(image)
    return _to_bgr(image)


def _to_bgr(image: Image.Image) -> np.ndarray:
    """(H, W, 3) uint8 BGR from any Pillow mode."""
    if image.mode in _ALPHA_MODES or "transparency" in image.info:
        rgb = _composite_on_white(image)
    elif image.mode in _WIDE_GRAY_MODES:
        return _gray_to_bgr(_wide_to_8bit(np.asarray(image)))
    elif image.mode in ("1", "L", "F"):
        return _gray_to_bgr(np.asarray(image.convert("L")))
    else:
        rgb = np.asarray(image.convert("RGB"))
    return np.ascontiguousarray(rgb[:, :, ::-1])


def _composite_on_white(image: Image.Image) -> np.ndarray:
    """(H, W, 3) uint8 RGB: transparent parts become white paper."""
    rgba = image.convert("RGBA")
    paper = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
    return np.asarray(Image.alpha_composite(paper, rgba).convert("RGB"))


def _wide_to_8bit(samples: np.ndarray) -> np.ndarray:
    """16-bit samples (0..65535; Pillow keeps them in 'I' or 'I;16' modes) to 0..255."""
    return (np.clip(samples, 0, 65535).astype(np.uint32) >> 8).astype(np.uint8)


def _gray_to_bgr(gray: np.ndarray) -> np.ndarray:
    return np.repeat(gray[:, :, np.newaxis], 3, axis=2)
