"""Image reading: every mode to BGR uint8, EXIF like LabelMe, bad files refused with the file named."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from dea_core.errors import ImageLoadError
from dea_core.io.images import (
    MAX_IMAGE_PIXELS,
    decode_image_bytes,
    encode_png,
    image_size,
    image_size_from_bytes,
    read_image,
)

RNG = np.random.default_rng(7)


def _save(image: Image.Image, path: Path, **options: object) -> Path:
    image.save(path, **options)
    return path


def test_rgb_comes_back_in_bgr_order(tmp_path: Path) -> None:
    rgb = RNG.integers(0, 256, (5, 7, 3), dtype=np.uint8)
    path = _save(Image.fromarray(rgb), tmp_path / "rgb.png")

    image = read_image(path)

    assert image.dtype == np.uint8 and image.shape == (5, 7, 3)
    np.testing.assert_array_equal(image, rgb[:, :, [2, 1, 0]])


def test_grayscale_is_repeated_on_three_channels(tmp_path: Path) -> None:
    gray = RNG.integers(0, 256, (6, 4), dtype=np.uint8)
    path = _save(Image.fromarray(gray), tmp_path / "gray.png")

    image = read_image(path)

    for channel in range(3):
        np.testing.assert_array_equal(image[:, :, channel], gray)


def test_bitonal_scan_becomes_black_and_white(tmp_path: Path) -> None:
    ink = RNG.integers(0, 2, (8, 9)).astype(bool)
    path = _save(Image.fromarray(ink), tmp_path / "bitonal.png")
    assert Image.open(path).mode == "1"

    image = read_image(path)

    np.testing.assert_array_equal(image[:, :, 0], np.where(ink, 255, 0))


def test_sixteen_bit_gray_is_scaled_to_eight_bits(tmp_path: Path) -> None:
    samples = np.array([[0, 255, 256, 32768, 65535]], dtype=np.uint16)
    path = _save(Image.fromarray(samples), tmp_path / "deep.png")

    image = read_image(path)

    np.testing.assert_array_equal(image[0, :, 1], [0, 0, 1, 128, 255])


def test_transparency_is_composited_on_white(tmp_path: Path) -> None:
    rgba = np.array([[[200, 100, 0, 0], [200, 100, 0, 255], [200, 100, 0, 128]]], dtype=np.uint8)
    path = _save(Image.fromarray(rgba), tmp_path / "alpha.png")

    image = read_image(path).astype(int)

    alpha = rgba[0, :, 3:4] / 255
    expected_rgb = rgba[0, :, :3] * alpha + 255 * (1 - alpha)
    assert np.abs(image[0] - expected_rgb[:, ::-1]).max() <= 1
    assert image[0, 0].tolist() == [255, 255, 255]


def test_palette_with_a_transparent_entry(tmp_path: Path) -> None:
    palette_image = Image.new("P", (2, 1))
    palette_image.putpalette([10, 20, 30, 40, 50, 60] + [0] * 762)
    palette_image.putdata([0, 1])
    path = _save(palette_image, tmp_path / "palette.png", transparency=0)

    image = read_image(path)

    assert image[0].tolist() == [[255, 255, 255], [60, 50, 40]]


def test_exif_orientation_is_applied_like_labelme(tmp_path: Path) -> None:
    """LabelMe turns image files upright by EXIF; our pixels must match what it shows."""
    from labelme.utils import apply_exif_orientation

    picture = Image.fromarray(RNG.integers(0, 256, (40, 64, 3), dtype=np.uint8))
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90 degrees clockwise to display
    path = _save(picture, tmp_path / "sideways.jpg", exif=exif, quality=95)

    image = read_image(path)

    labelme_rgb = np.asarray(apply_exif_orientation(Image.open(path)).convert("RGB"))
    assert image.shape == (64, 40, 3)
    np.testing.assert_array_equal(image, labelme_rgb[:, :, ::-1])
    assert image_size(path) == (40, 64)


def test_embedded_bytes_can_be_read_as_stored(tmp_path: Path) -> None:
    """LabelMe shows embedded imageData without EXIF rotation (Qt does not auto-rotate)."""
    exif = Image.Exif()
    exif[0x0112] = 6
    buffer = io.BytesIO()
    Image.new("RGB", (64, 40), (1, 2, 3)).save(buffer, format="JPEG", exif=exif)

    assert decode_image_bytes(buffer.getvalue(), "x.json", apply_exif=False).shape == (40, 64, 3)
    assert decode_image_bytes(buffer.getvalue(), "x.json").shape == (64, 40, 3)
    assert image_size_from_bytes(buffer.getvalue(), "x.json", apply_exif=False) == (64, 40)


def test_encode_png_round_trips() -> None:
    bgr = RNG.integers(0, 256, (3, 5, 3), dtype=np.uint8)

    np.testing.assert_array_equal(decode_image_bytes(encode_png(bgr), "memory"), bgr)


def test_image_size_reads_only_the_header_and_accepts_a_big_folio(tmp_path: Path, png_header) -> None:
    # 12000 x 16000 px: a 600 dpi folio scan, above Pillow's default bomb limit, below ours.
    path = tmp_path / "folio.png"
    path.write_bytes(png_header(12000, 16000))
    assert 12000 * 16000 <= MAX_IMAGE_PIXELS

    assert image_size(path) == (12000, 16000)


@pytest.mark.parametrize("reader", [read_image, image_size])
def test_decompression_bomb_is_refused_before_decoding(tmp_path: Path, png_header, snapshot, reader) -> None:
    path = tmp_path / "bomb.png"
    path.write_bytes(png_header(30000, 30000))
    before = snapshot(tmp_path)

    with pytest.raises(ImageLoadError) as caught:
        reader(path)

    assert str(path) in str(caught.value)
    assert str(30000 * 30000) in str(caught.value)
    assert snapshot(tmp_path) == before


def test_truncated_jpeg_is_refused(tmp_path: Path, labelme_data: Path) -> None:
    whole = (labelme_data / "v4.0.0_bbox" / "2011_000025.jpg").read_bytes()
    path = tmp_path / "truncated.jpg"
    path.write_bytes(whole[: len(whole) // 2])

    with pytest.raises(ImageLoadError, match="truncated") as caught:
        read_image(path)

    assert str(path) in str(caught.value)


@pytest.mark.parametrize(
    ("name", "make", "problem"),
    [
        ("missing.jpg", lambda path: None, "file not found"),
        ("folder.jpg", lambda path: path.mkdir(), "is a folder"),
        ("notes.jpg", lambda path: path.write_text("not a picture"), "not a picture"),
    ],
)
def test_unusable_paths_are_named(tmp_path: Path, name: str, make, problem: str) -> None:
    path = tmp_path / name
    make(path)

    with pytest.raises(ImageLoadError, match=problem) as caught:
        read_image(path)

    assert str(caught.value).startswith(f"{path}: ")


def test_corrupt_bytes_name_their_source() -> None:
    with pytest.raises(ImageLoadError) as caught:
        decode_image_bytes(b"\x89PNG\r\n\x1a\n garbage", "page3.json (imageData)")

    assert str(caught.value).startswith("page3.json (imageData): ")
