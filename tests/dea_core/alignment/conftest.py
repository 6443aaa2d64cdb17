from pathlib import Path

import pytest

from dea_core.io.images import read_image

DATA = Path(__file__).resolve().parents[2] / "data" / "alignment"


@pytest.fixture(scope="session")
def data_dir() -> Path:
    return DATA


@pytest.fixture(scope="session")
def headpiece_f39():
    """The reference printing of the 1616 headpiece, 640x121 (BGR uint8)."""
    return read_image(DATA / "tragiques1616_f39_headpiece.png")


@pytest.fixture(scope="session")
def headpiece_f85():
    """The same headpiece printed on another page, 800x157, with the page number 47."""
    return read_image(DATA / "tragiques1616_f85_headpiece.jpg")
