"""`dea train-dea` and `dea score` as a user runs them, sharded and merged as on a cluster."""

from __future__ import annotations

import csv
import json
from pathlib import Path

from dea_core.cli.main import main

from .conftest import TINY_DEA


def _pictures(headpieces: Path) -> list[str]:
    return [str(p) for p in sorted(headpieces.glob("*_none.png"))[:2]]


def test_train_dea_writes_a_calibrated_model(dea_dataset, detector, tmp_path, capsys):
    model = tmp_path / "dea.pt"
    assert main(["train-dea", str(dea_dataset), "--detector", str(detector), "-o", str(model), "--decoder",
                 "deconv", "--epochs", "1", "--batch-size", str(TINY_DEA.batch_size), "--device", "cpu", "-q"]) == 0
    out = capsys.readouterr().out
    assert "alarm threshold" in out and model.is_file()
    assert main(["train-dea", str(dea_dataset), "--detector", str(detector), "-o", str(model), "-q"]) == 1
    assert "already exists" in capsys.readouterr().err


def test_train_dea_needs_a_detector(dea_dataset, tmp_path, capsys):
    assert main(["train-dea", str(dea_dataset), "-o", str(tmp_path / "dea.pt"), "-q"]) == 1
    assert "--detector" in capsys.readouterr().err
    assert not (tmp_path / "dea.pt").exists()


def test_score_in_two_shards_then_merge(trained_dea, headpieces, tmp_path, capsys):
    out = tmp_path / "verdicts"
    pictures = _pictures(headpieces)
    for shard in ("1/2", "2/2"):
        assert main(["score", *pictures, "--model", str(trained_dea), "-o", str(out), "--shard", shard,
                     "--detection-threshold", "0.0", "--device", "cpu", "-q"]) == 0
    assert main(["merge", str(out)]) == 0
    for picture in pictures:
        stem = Path(picture).stem
        for suffix in (".scored.json", ".overlay.png", ".heatmap.png", ".ssim-heatmap.png"):
            assert (out / f"{stem}{suffix}").is_file()
        shapes = json.loads((out / f"{stem}.scored.json").read_text())["shapes"]
        assert all(set(s["flags"]) == {"anomaly"} and "anomaly_score" in s["dea"] for s in shapes)
    with open(out / "summary.csv", newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert sorted(Path(r["input"]).name for r in rows) == sorted(Path(p).name for p in pictures)
    capsys.readouterr()
    assert main(["score", *pictures, "--model", str(trained_dea), "-o", str(out), "--device", "cpu", "-q"]) == 0
    assert "2 skipped" in capsys.readouterr().out


def test_a_detector_file_is_refused_as_a_dea_model(detector, headpieces, tmp_path, capsys):
    assert main(["score", *_pictures(headpieces), "--model", str(detector), "-o", str(tmp_path / "v"), "-q"]) == 1
    err = capsys.readouterr().err
    assert "not a DEA checkpoint" in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "v").exists()
