"""The bundled real ornament pieces: readable, documented, and their symmetry flags true to the pictures."""

from pathlib import Path

import cv2
import numpy as np
import pytest

from dea_core.matching.poses import Pose
from dea_core.synth.pieces import (
    PIECES_DIR,
    PieceError,
    PieceSymmetry,
    load_pieces,
    load_symmetry,
    whiten_paper,
)


def _ncc(a: np.ndarray, b: np.ndarray) -> float:
    """Normalised cross-correlation in long double, the reference the code is checked against."""
    a = a.astype(np.longdouble) - a.mean(dtype=np.longdouble)
    b = b.astype(np.longdouble) - b.mean(dtype=np.longdouble)
    return float((a * b).sum() / np.sqrt((a * a).sum() * (b * b).sum()))


def _best_shifted_ncc(image: np.ndarray, other: np.ndarray, reach: int = 3) -> float:
    """Best NCC of two same-size images over shifts of up to `reach` px (a crop is rarely centred)."""
    h, w = image.shape
    scores = []
    for dy in range(-reach, reach + 1):
        for dx in range(-reach, reach + 1):
            a = image[max(0, dy):h + min(0, dy), max(0, dx):w + min(0, dx)]
            b = other[max(0, -dy):h + min(0, -dy), max(0, -dx):w + min(0, -dx)]
            scores.append(_ncc(a, b))
    return max(scores)


def test_bundled_pieces_are_single_grayscale_pieces():
    pieces = load_pieces()
    assert 5 <= len(pieces) <= 8
    books = {name.split("_")[0] for name in pieces}
    assert len(books) >= 4
    for name, piece in pieces.items():
        assert piece.dtype == np.uint8 and piece.ndim == 2, name
        assert 25 <= min(piece.shape) and max(piece.shape) <= 140, (name, piece.shape)
        # Ink dark on light paper, with paper all round the 1-3 px margin.
        assert np.percentile(piece, 3) < 90, name
        border = np.concatenate([piece[0], piece[-1], piece[:, 0], piece[:, -1]])
        assert np.median(border) > 150, name


def test_every_piece_is_documented_with_its_symmetry():
    pieces = load_pieces()
    symmetry = load_symmetry()
    assert set(symmetry) == set(pieces)
    sources = (PIECES_DIR / "SOURCES.md").read_text(encoding="utf-8")
    for name in pieces:
        assert f"`{name}.png`" in sources
    assert any(s.mirror_symmetric for s in symmetry.values())
    assert sum(not s.mirror_symmetric for s in symmetry.values()) >= 3


@pytest.mark.parametrize("name", sorted(load_pieces()))
def test_symmetry_flags_agree_with_the_picture(name):
    piece = load_pieces()[name]
    flags = load_symmetry()[name]
    assert (_best_shifted_ncc(piece, piece[:, ::-1]) >= 0.7) == flags.mirror_symmetric
    assert (_best_shifted_ncc(piece, piece[::-1, :]) >= 0.7) == flags.flip_symmetric


def test_looks_same_follows_the_symmetries():
    plain, mirrored, flipped = Pose(), Pose(flip="mirrored"), Pose(flip="flipped")
    asymmetric = PieceSymmetry()
    assert asymmetric.looks_same(plain, Pose(1.0))
    assert not asymmetric.looks_same(plain, mirrored)
    assert not asymmetric.looks_same(flipped, Pose(180.0))
    assert asymmetric.looks_same(flipped, Pose(180.0, "mirrored"))
    left_right = PieceSymmetry(mirror_symmetric=True)
    assert left_right.looks_same(plain, mirrored)
    assert left_right.looks_same(flipped, Pose(180.0))
    assert not left_right.looks_same(plain, flipped)
    both = PieceSymmetry(True, True)
    assert both.looks_same(plain, flipped) and both.looks_same(plain, Pose(180.0))
    assert not both.looks_same(plain, Pose(90.0))
    assert not both.looks_same(plain, Pose(scale=1.3))


def test_whiten_paper_lifts_the_paper_and_keeps_the_ink():
    piece = load_pieces()["corneille1643_scroll"]  # grey ink on toned paper
    white = whiten_paper(piece)
    assert white.shape == piece.shape and white.dtype == np.uint8
    border = np.concatenate([white[0], white[-1], white[:, 0], white[:, -1]])
    assert np.mean(border == 255) > 0.9
    assert white.min() <= 10
    assert _ncc(white, piece) > 0.9


def test_unreadable_piece_folders_raise_piece_errors(tmp_path: Path):
    with pytest.raises(PieceError, match="no ornament pieces"):
        load_pieces(tmp_path)
    (tmp_path / "broken.png").write_bytes(b"not a png")
    with pytest.raises(PieceError, match=r"broken\.png"):
        load_pieces(tmp_path)
    assert load_symmetry(tmp_path) == {}
    (tmp_path / "pieces.json").write_text('{"a": {"mirror_symmetric": true}}', encoding="utf-8")
    with pytest.raises(PieceError, match=r"pieces\.json"):
        load_symmetry(tmp_path)


def test_a_folder_of_own_pieces_loads(tmp_path: Path):
    cv2.imwrite(str(tmp_path / "star.png"), np.full((30, 40), 255, np.uint8))
    pieces = load_pieces(tmp_path)
    assert list(pieces) == ["star"] and pieces["star"].shape == (30, 40)
