"""The coarse stage on a row of identical casts, where SIFT's matches land on the wrong cast."""

import csv
import json

import cv2
import numpy as np

from dea_core.alignment.mapping import sample_mapping
from dea_core.alignment.pipeline import AlignOptions, align_pair
from dea_core.cli.main import main
from tests.conftest import real_page_crop

PAGE = "1696_regnard_foire-st-germain_bpt6k1281160s_f11.jpg"
# Hand-placed points (benchmarks/data/alignment/regnard_row_turned): reference (x, y), source (x, y).
POINTS = np.array([[151.0, 35.0, 149.05, 30.81], [310.0, 40.0, 307.84, 39.52],
                   [554.0, 51.0, 558.72, 46.86], [749.0, 59.0, 757.18, 57.0]])


def _rows() -> tuple[np.ndarray, np.ndarray]:
    # The headpiece's first row of eleven fleurons, and its second row, printed turned, turned back:
    # the true map is near identity; one cast further on is 80 px away, a half turn some 360 px.
    reference = real_page_crop(PAGE, (226, 216, 1128, 348))
    return reference, np.ascontiguousarray(real_page_crop(PAGE, (224, 326, 1128, 453))[::-1, ::-1])


def test_a_fleuron_row_against_the_row_turned_back_maps_each_cast_to_itself():
    reference, source = _rows()
    alignment = align_pair(reference, source, AlignOptions(fine=None))
    error = np.linalg.norm(sample_mapping(alignment.mapping, POINTS[:, :2]) - POINTS[:, 2:], axis=1)
    assert error.max() < 5.0
    assert alignment.quality.dense_coarse


def test_a_well_matched_pair_keeps_the_feature_homographies(headpiece_f39, headpiece_f85):
    alignment = align_pair(headpiece_f39, headpiece_f85, AlignOptions(fine=None))
    assert not alignment.quality.dense_coarse
    assert alignment.quality.inliers >= 60


def test_dea_align_says_when_the_dense_fallback_was_used(tmp_path, capsys):
    reference, source = _rows()
    cv2.imwrite(str(tmp_path / "row1.png"), reference)
    cv2.imwrite(str(tmp_path / "row2.png"), source)
    out = tmp_path / "OUT"
    code = main(["align", "--reference", str(tmp_path / "row1.png"), "--source", str(tmp_path / "row2.png"),
                 "-o", str(out), "--coarse-only"])
    assert code == 0
    line = capsys.readouterr().out
    assert "row2.png: aligned" in line and "dense fallback" in line
    pair = json.loads((out / "summary.json").read_text())["pairs"][0]
    assert pair["dense_coarse"] is True and pair["inliers"] == 0
    with (out / "summary.csv").open(newline="") as handle:
        assert next(csv.DictReader(handle))["dense_coarse"] == "True"
