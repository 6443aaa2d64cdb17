"""scripts/slurm/dea-detect-array.sh as SLURM runs it: two array tasks, then `dea merge`."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from dea_core.batch import read_summary
from dea_core.cli.main import main
from dea_core.detection.dataset import PrepareOptions, prepare_dataset
from dea_core.detection.synthetic import write_detection_pages
from dea_core.detection.training import TrainConfig, train_detector

ROOT = Path(__file__).resolve().parents[3]
SCRIPT = ROOT / "scripts" / "slurm" / "dea-detect-array.sh"


def tiny_model(folder: Path) -> tuple[Path, list[Path]]:
    """A light detector trained for one epoch on three generated pages (seconds on 2 cores)."""
    pages = write_detection_pages(folder / "pages", 3, preset="easy", seed=7)
    prepare_dataset(pages, folder / "dataset", PrepareOptions(crops_per_page=4, val_fraction=0.34, seed=1))
    model = folder / "tiny.pt"
    train_detector(folder / "dataset", model, config=TrainConfig(epochs=1, batch_size=4, validate=False,
                                                                 device="cpu"), backbone="light", priors="fast")
    return model, pages


def array_task(task: int, count: int, model: Path, scans: Path, out: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "SLURM_ARRAY_TASK_ID": str(task), "SLURM_ARRAY_TASK_COUNT": str(count),
           "SLURM_SUBMIT_DIR": str(ROOT), "DEA": str(Path(sys.executable).with_name("dea"))}
    return subprocess.run(["bash", str(SCRIPT), str(model), str(scans), str(out), "--threshold", "0.05",
                           "--device", "cpu"], env=env, capture_output=True, text=True, timeout=300, check=False)


@pytest.mark.slow
def test_the_array_script_splits_the_pages_and_merge_joins_the_shards(tmp_path, capsys):
    model, pages = tiny_model(tmp_path)
    scans = tmp_path / "scans"
    scans.mkdir()
    for page in pages:
        image = page.with_suffix(".png")
        (scans / image.name).write_bytes(image.read_bytes())
    (scans / "torn.png").write_bytes(b"\x89PNG not really")
    out = tmp_path / "found"

    first, second = array_task(1, 2, model, scans, out), array_task(2, 2, model, scans, out)
    assert {first.returncode, second.returncode} == {0, 1}  # the torn page fails in one shard only
    assert "torn.png" in first.stderr + second.stderr
    assert main(["merge", str(out)]) == 1
    rows = {Path(r["input"]).name: r for r in read_summary(out / "summary.csv")}
    assert rows.pop("torn.png")["status"] == "failed"
    assert sorted(rows) == sorted(p.with_suffix(".png").name for p in pages)
    assert all(r["status"] == "ok" and (out / r["outputs"]).is_file() for r in rows.values())
    assert "failed: " in capsys.readouterr().err

    again = array_task(1, 2, model, scans, out)
    assert "skipped (done before)" in again.stdout
