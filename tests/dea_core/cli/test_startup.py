"""`dea --help` and `dea match` must not load torch: it takes seconds and matching never uses it."""

import shutil
import subprocess
import sys
from pathlib import Path

from dea_core.paths import SAMPLE_PAGE_JSON

PROBE = """
import sys
from dea_core.cli.main import main
try:
    code = main(sys.argv[1:])
except SystemExit as stop:
    code = stop.code
print("torch loaded" if "torch" in sys.modules else "torch not loaded")
sys.exit(code)
"""


def run_dea(*args: str) -> subprocess.CompletedProcess:
    root = Path(__file__).resolve().parents[3]
    return subprocess.run([sys.executable, "-c", PROBE, *args], check=False, cwd=root, capture_output=True, text=True,
                          timeout=120)


def test_help_lists_every_command_without_loading_torch():
    done = run_dea("--help")
    assert done.returncode == 0
    assert "torch not loaded" in done.stdout
    for command in ("match", "align", "train-detector", "detect", "train-dea", "score", "merge"):
        assert command in done.stdout


def test_match_runs_without_loading_torch(tmp_path):
    for name in (SAMPLE_PAGE_JSON.name, SAMPLE_PAGE_JSON.with_suffix(".jpg").name):
        shutil.copy(SAMPLE_PAGE_JSON.parent / name, tmp_path / name)
    out = tmp_path / "matched.json"
    done = run_dea("match", str(tmp_path / SAMPLE_PAGE_JSON.name), "-o", str(out), "-q")
    assert done.returncode == 0, done.stderr
    assert out.exists()
    assert "torch not loaded" in done.stdout


def test_a_torch_command_still_gets_its_full_options():
    done = run_dea("detect", "--help")
    assert done.returncode == 0
    assert "--overlap" in done.stdout
