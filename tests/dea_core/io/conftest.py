"""Fixtures for the dea_core.io tests: the real LabelMe files, crafted pictures, folder snapshots."""

from __future__ import annotations

import hashlib
import os
import shutil
import struct
import zlib
from pathlib import Path

import pytest

# labelme imports PyQt5; its loader is our reference for "LabelMe opens what we wrote".
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

LABELME_DATA = Path(__file__).resolve().parents[2] / "data" / "labelme"


def _snapshot(folder: Path) -> dict[str, str]:
    """Every entry under `folder`, files with a hash of their bytes: equal means nothing was written."""
    return {
        str(path.relative_to(folder)): hashlib.sha256(path.read_bytes()).hexdigest()
        if path.is_file()
        else "dir"
        for path in sorted(folder.rglob("*"))
    }


def _png_header(width: int, height: int) -> bytes:
    """A PNG whose header claims width x height 8-bit gray pixels, with no pixel data behind it."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"")) + chunk(b"IEND", b"")
    )


@pytest.fixture
def labelme_data() -> Path:
    """tests/data/labelme: real LabelMe files by format variant (see its SOURCES.md)."""
    return LABELME_DATA


@pytest.fixture
def snapshot():
    return _snapshot


@pytest.fixture
def png_header():
    return _png_header


@pytest.fixture
def copy_real(tmp_path: Path):
    """Copy a real LabelMe variant folder (JSON and picture) into tmp_path; returns the JSON's copy."""

    def copy(relative: str) -> Path:
        source = LABELME_DATA / relative
        target = tmp_path / "in" / source.parent.name
        shutil.copytree(source.parent, target, dirs_exist_ok=True)
        return target / source.name

    return copy
