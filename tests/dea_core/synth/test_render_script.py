"""scripts/render_synthetic_page.py writes a page, its LabelMe JSON, its truth and the overlay."""

import runpy
from pathlib import Path

from dea_core.io import image_size
from dea_core.synth import read_truth

SCRIPT = Path(__file__).resolve().parents[3] / "scripts" / "render_synthetic_page.py"


def test_the_script_writes_page_truth_and_overlay(tmp_path: Path, capsys):
    main = runpy.run_path(str(SCRIPT), run_name="render_synthetic_page")["main"]
    path = main(["--seed", "1", "--preset", "easy", "--size", "900x1200", "-o", str(tmp_path), "--overlay"])
    assert path == tmp_path / "easy_seed1.json"
    assert image_size(tmp_path / "easy_seed1.png") == (900, 1200)
    assert image_size(tmp_path / "easy_seed1.overlay.png") == (900, 1200)
    truth = read_truth(tmp_path / "easy_seed1.truth.json")
    assert truth and f"{len(truth)} ornaments" in capsys.readouterr().out
