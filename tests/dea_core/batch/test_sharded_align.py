"""`dea align` in shards: each shard aligns its sources; the set's pictures wait for a whole run."""

import shutil
from pathlib import Path

from dea_core.batch import read_summary
from dea_core.cli.main import main

ALIGNMENT = Path(__file__).resolve().parents[2] / "data" / "alignment"


def test_two_shards_align_their_sources_and_a_rerun_skips_them(tmp_path, capsys):
    reference = ALIGNMENT / "tragiques1616_f39_headpiece.png"
    sources = [tmp_path / "a.jpg", tmp_path / "b.jpg"]
    for source in sources:
        shutil.copy(ALIGNMENT / "tragiques1616_f85_headpiece.jpg", source)
    out = tmp_path / "out"
    command = ["align", "--reference", str(reference), "--source", *map(str, sources), "-o", str(out), "-q",
               "--coarse-only"]
    for k in (1, 2):
        assert main([*command, "--shard", f"{k}/2"]) == 0
    assert {p.name for p in out.glob("*.png")} == {"a.aligned.png", "a.confidence.png", "b.aligned.png",
                                                   "b.confidence.png"}
    assert main(["merge", str(out)]) == 0
    rows = read_summary(out / "summary.csv")
    assert [(Path(r["input"]).name, r["status"], r["shard"]) for r in rows] == [("a.jpg", "ok", "1/2"),
                                                                                ("b.jpg", "ok", "2/2")]
    assert all(float(r["ssim_after"]) > float(r["ssim_before"]) for r in rows)

    capsys.readouterr()
    assert main(command) == 0
    assert "0 ok, 2 skipped" in capsys.readouterr().out
    assert not (out / "average.png").exists()
    assert main([*command, "--overwrite"]) == 0
    assert (out / "average.png").is_file() and (out / "summary.json").is_file()
