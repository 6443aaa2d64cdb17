"""Synthetic pages of printed ornaments with known ground truth, for testing and benchmarking the matcher.

Real cast fleurons (resources/ornaments/) are set in headpieces, bands and tailpieces among
lines of text on aged paper, then printed and scanned with defects; every instance's pose and
page corners are recorded.
"""

from dea_core.synth.pages import (
    PRESETS,
    Degradation,
    PageSpec,
    PlacedOrnament,
    SyntheticPage,
    generate_page,
    read_truth,
    write_labelme,
)
from dea_core.synth.pieces import PieceError, PieceSymmetry, load_pieces, load_symmetry, whiten_paper
from dea_core.synth.rows import generate_rows_page

__all__ = [
    "PRESETS",
    "Degradation",
    "PageSpec",
    "PieceError",
    "PieceSymmetry",
    "PlacedOrnament",
    "SyntheticPage",
    "generate_page",
    "generate_rows_page",
    "load_pieces",
    "load_symmetry",
    "read_truth",
    "whiten_paper",
    "write_labelme",
]
