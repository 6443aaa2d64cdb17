import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from dea_core.cli.main import main
from dea_core.paths import SAMPLE_PAGE_JSON

EXACT_FORM = ["--rotations", "0,90,180,270", "--flip", "--scales", "0.8:1.25:5", "--neighbourhood", "page"]


@pytest.fixture
def page(tmp_path: Path) -> Path:
    """The bundled sample page and its template JSON, copied where the test may write."""
    for name in (SAMPLE_PAGE_JSON.name, SAMPLE_PAGE_JSON.with_suffix(".jpg").name):
        shutil.copy(SAMPLE_PAGE_JSON.parent / name, tmp_path / name)
    return tmp_path / SAMPLE_PAGE_JSON.name


def listing(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_the_issue_exact_form_finds_all_22_fleurons_and_labelme_opens_the_result(page, tmp_path, capsys):
    out = tmp_path / "out" / "matched.json"
    out.parent.mkdir()
    assert main(["match", str(page), "-o", str(out), *EXACT_FORM]) == 0
    assert "1: 22 matches" in capsys.readouterr().out
    data = json.loads(out.read_text())
    assert len(data["shapes"]) == 22
    assert all(s["label"] == "1" and s["description"].startswith("Fleuron") for s in data["shapes"])
    assert sum(s["match"]["template"] for s in data["shapes"]) == 1
    assert data["imagePath"] == "../" + page.with_suffix(".jpg").name
    notes = json.loads((out.parent / "matched.label_notes.json").read_text())
    assert notes == {"1": "Fleuron of the Act I headpiece (two rows, the lower one upside down)"}

    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from labelme import LabelFile

    loaded = LabelFile(str(out))
    assert len(loaded.shapes) == 22
    assert loaded.shapes[0]["other_data"]["match"]["score"] == 1.0


def test_save_crops_writes_one_upright_crop_per_match_in_a_folder_per_label(page, tmp_path):
    crops = tmp_path / "crops"
    assert main(["match", str(page), "-o", str(tmp_path / "m.json"), "--rotations", "0,180", "--flip",
                 "--save-crops", str(crops), "-q"]) == 0
    files = sorted((crops / "1").glob("*.png"))
    assert len(files) == 22
    assert any("180deg" in f.name or "flipped" in f.name for f in files)


def test_neighbourhood_limits_the_search_to_rows_near_the_template(page, tmp_path, capsys):
    assert main(["match", str(page), "-o", str(tmp_path / "near.json"), "--neighbourhood", "0.5", "-q"]) == 0
    assert "1: 11 matches" in capsys.readouterr().out


@pytest.mark.parametrize(("args", "message"), [
    (["missing.json"], "missing.json"),
    (["{page}", "--labels", "nonexistent"], "nonexistent"),
])
def test_bad_input_exits_1_with_a_message_and_writes_nothing(page, tmp_path, capsys, args, message):
    args = [a.format(page=page) for a in args]
    before = listing(tmp_path)
    assert main(["match", *args, "-o", str(tmp_path / "never.json")]) == 1
    err = capsys.readouterr().err
    assert err.startswith("dea: error:") and message in err
    assert listing(tmp_path) == before


def test_refuses_to_replace_its_input_unless_asked(page, capsys):
    before = page.read_bytes()
    assert main(["match", str(page), "-o", str(page)]) == 1
    assert "--overwrite" in capsys.readouterr().err
    assert page.read_bytes() == before


@pytest.mark.parametrize("args", [["--scales", "1:2"], ["--threshold", "1.5"], ["--rotation-range", "0", "5", "10"],
                                  ["--neighbourhood", "near"]])
def test_wrong_command_line_exits_2(page, tmp_path, args):
    with pytest.raises(SystemExit) as stop:
        main(["match", str(page), "-o", str(tmp_path / "x.json"), *args])
    assert stop.value.code == 2


def test_installed_dea_command_runs_the_demo(tmp_path):
    dea = Path(sys.executable).with_name("dea")
    done = subprocess.run([str(dea), "demo", "-o", str(tmp_path / "demo")], capture_output=True, text=True,
                          timeout=300, check=False)
    assert done.returncode == 0, done.stderr
    assert "1: 22 matches" in done.stdout
    written = {p.name for p in (tmp_path / "demo").iterdir()}
    stem = SAMPLE_PAGE_JSON.stem
    assert {f"{stem}.matched.json", f"{stem}.overview.png", "crops"} <= written
