"""`dea align` on real printings: the issue's exact form, the folder form, and bad input in a batch."""

import csv
import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from dea_core.cli.main import main
from dea_core.io.images import image_size
from dea_core.io.labelme_json import Shape, load_label_file, new_label_file, save_label_file

F39 = "tragiques1616_f39_headpiece.png"
F85 = "tragiques1616_f85_headpiece.jpg"


@pytest.fixture
def scans(tmp_path: Path, data_dir: Path) -> Path:
    """REF.png (640x121) and SRC.jpg (800x157): two printings of one headpiece at different sizes."""
    folder = tmp_path / "scans"
    folder.mkdir()
    shutil.copy(data_dir / F39, folder / "REF.png")
    shutil.copy(data_dir / F85, folder / "SRC.jpg")
    return folder


def test_the_issue_exact_form_writes_the_mapping_at_the_reference_resolution(scans, tmp_path, capsys):
    out = tmp_path / "OUT"
    code = main(["align", "--reference", str(scans / "REF.png"), "--source", str(scans / "SRC.jpg"),
                 "-o", str(out), "--save-mapping"])
    assert code == 0
    mapping = np.load(out / "SRC.mapping.npy")
    assert mapping.shape == (121, 640, 2) and mapping.dtype == np.float32
    # The source is 800 px wide: the mapping is in its pixels, and covers most of it.
    assert 0 <= mapping[..., 0].min() < 40 and 760 < mapping[..., 0].max() <= 820
    assert "SRC.jpg: aligned" in capsys.readouterr().out
    for name in ("SRC.aligned.png", "SRC.confidence.png", "average.png", "difference.png", "overlay.gif"):
        assert (out / name).is_file(), name
    assert image_size(out / "SRC.aligned.png") == (640, 121)
    with Image.open(out / "overlay.gif") as gif:
        assert gif.n_frames == 2
    summary = json.loads((out / "summary.json").read_text())
    pair = summary["pairs"][0]
    assert pair["status"] == "aligned" and pair["ssim_after"] > pair["ssim_before"]
    assert 0.5 < pair["matchable_share"] <= 1.0


def test_a_corrupt_picture_is_reported_and_the_others_are_still_aligned(scans, tmp_path, data_dir, capsys):
    (scans / "broken.jpg").write_bytes((scans / "SRC.jpg").read_bytes()[:300])
    shutil.copy(data_dir / "megadepth_2_1.jpg", scans / "church.jpg")
    out = tmp_path / "OUT"
    code = main(["align", "--reference", str(scans / "REF.png"), "--source", str(scans / "broken.jpg"),
                 str(scans / "church.jpg"), str(scans / "SRC.jpg"), "-o", str(out), "-q", "--coarse-only"])
    assert code == 1
    err = capsys.readouterr().err
    assert "broken.jpg: damaged or truncated" in err or "broken.jpg: not a picture" in err
    assert "church.jpg: too few matching features" in err
    assert (out / "SRC.aligned.png").is_file()
    assert not (out / "broken.aligned.png").exists() and not (out / "church.aligned.png").exists()
    rows = list(csv.DictReader((out / "summary.csv").open()))
    assert [r["status"] for r in rows] == ["failed", "failed", "aligned"]


def test_the_folder_form_takes_the_last_picture_as_reference_and_carries_labels(scans, tmp_path):
    labels = new_label_file(scans / "REF.png", 640, 121, [Shape(label="block", points=[[67, 25], [150, 104]])])
    labels_path = save_label_file(labels, tmp_path / "REF.json")
    (scans / "REF.png").rename(scans / "z_reference.png")
    out = tmp_path / "OUT"
    code = main(["align", "--folder", str(scans), "-o", str(out), "-q", "--coarse-only", "--labels",
                 str(labels_path)])
    assert code == 0
    summary = json.loads((out / "summary.json").read_text())
    assert summary["reference"].endswith("z_reference.png")
    assert [Path(p["source"]).name for p in summary["pairs"]] == ["SRC.jpg"]
    moved = load_label_file(out / "SRC.json")
    assert moved.image_width == 800 and moved.image_file().resolve() == (scans / "SRC.jpg").resolve()
    (x0, _), (x1, _) = moved.shapes[0].points
    assert abs((x0 + x1) / 2 - 140.5) < 4  # the first block of SRC.jpg spans x 91..190


def test_an_unreadable_reference_or_a_missing_source_list_is_a_clear_error(scans, tmp_path, capsys):
    assert main(["align", "--reference", str(scans / "nothing.png"), "--source", str(scans / "SRC.jpg"),
                 "-o", str(tmp_path / "OUT")]) == 1
    assert "nothing.png: file not found" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exit_info:
        main(["align", "--reference", str(scans / "REF.png"), "-o", str(tmp_path / "OUT")])
    assert exit_info.value.code == 2
