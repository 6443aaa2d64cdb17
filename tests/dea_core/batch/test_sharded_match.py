"""`dea match` over a folder in shards, resumed and merged, against one unsharded run."""

import csv
import json
from pathlib import Path

from dea_core.batch import read_summary
from dea_core.cli.main import main

# Search near each box only: a few seconds for all pages on two cores.
FAST = ["--neighbourhood", "0.5", "-q"]


def results(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.glob("*.matched*.json"))}


def rows_without_shard(path: Path) -> list[dict[str, str]]:
    return [{k: v for k, v in row.items() if k != "shard"} for row in read_summary(path)]


def test_three_shards_merged_give_the_same_results_and_rows_as_one_run(pages, tmp_path, capsys):
    sharded, whole = tmp_path / "sharded", tmp_path / "whole"
    for k in (1, 2, 3):
        assert main(["match", str(pages), "-o", str(sharded), *FAST, "--shard", f"{k}/3"]) == 0
    assert main(["match", str(pages), "-o", str(whole), *FAST]) == 0
    assert main(["merge", str(sharded)]) == 0
    assert "3 of 3 shards, 4 ok" in capsys.readouterr().out
    assert main(["merge", str(whole)]) == 0

    assert len(results(whole)) == 5  # four pages, and the sample's label notes
    assert results(sharded) == results(whole)
    assert rows_without_shard(sharded / "summary.csv") == rows_without_shard(whole / "summary.csv")
    per_shard = [read_summary(sharded / f"summary-shard-{k}-of-3.csv") for k in (1, 2, 3)]
    assert sorted(len(rows) for rows in per_shard) == [1, 1, 2]
    merged = read_summary(sharded / "summary.csv")
    assert sorted(r["input"] for rows in per_shard for r in rows) == [r["input"] for r in merged]
    sample = next(r for r in merged if r["input"].endswith("f11.json"))
    assert sample["command"] == "match" and sample["status"] == "ok" and sample["error"] == ""
    assert sample["matches"] == sample["matches 1"] == "11"
    assert sample["outputs"].split(";")[0] == "regnard1696_foire-st-germain_f11.matched.json"
    bus = json.loads((whole / "2011_000025.matched.json").read_text())
    assert int(next(r for r in merged if r["input"].endswith("2011_000025.json"))["matches"]) == sum(
        "match" in s for s in bus["shapes"])


def test_a_rerun_skips_what_is_done_and_keeps_its_numbers(pages, tmp_path, capsys):
    out = tmp_path / "out"
    assert main(["match", str(pages), "-o", str(out), *FAST]) == 0
    first = {p: (p.stat().st_mtime_ns, p.read_bytes()) for p in out.glob("*.matched*.json")}
    before = read_summary(out / "summary-shard-1-of-1.csv")
    (out / "primitives.matched.json").unlink()
    capsys.readouterr()

    assert main(["match", str(pages), "-o", str(out), *FAST]) == 0
    assert "1 ok, 3 skipped (done before), 0 failed" in capsys.readouterr().out
    after = read_summary(out / "summary-shard-1-of-1.csv")
    assert [r["status"] for r in after] == ["ok" if r["input"].endswith("primitives.json") else "skipped"
                                            for r in before]
    assert [r["matches"] for r in after] == [r["matches"] for r in before]
    for path, (mtime, data) in first.items():
        if path.name != "primitives.matched.json":
            assert (path.stat().st_mtime_ns, path.read_bytes()) == (mtime, data)

    assert main(["match", str(pages), "-o", str(out), *FAST, "--overwrite"]) == 0
    assert {r["status"] for r in read_summary(out / "summary-shard-1-of-1.csv")} == {"ok"}


def test_a_broken_page_is_recorded_as_failed_and_the_others_are_matched(pages, tmp_path, capsys):
    (pages / "broken.json").write_text('{"shapes": [', encoding="utf-8")
    corrupt = json.loads((pages / "2011_000025.json").read_text())
    corrupt["imagePath"] = "truncated.jpg"
    (pages / "truncated.json").write_text(json.dumps(corrupt), encoding="utf-8")
    (pages / "truncated.jpg").write_bytes((pages / "2011_000025.jpg").read_bytes()[:400])
    out = tmp_path / "out"

    assert main(["match", str(pages), "-o", str(out), *FAST]) == 1
    captured = capsys.readouterr()
    assert "4 ok, 0 skipped (done before), 2 failed" in captured.out
    assert captured.err.count("dea: failed:") == 2 and "broken.json" in captured.err
    rows = {Path(r["input"]).name: r for r in csv.DictReader((out / "summary-shard-1-of-1.csv").open())}
    assert rows["broken.json"]["status"] == rows["truncated.json"]["status"] == "failed"
    assert "broken.json" in rows["broken.json"]["error"] and "truncated.jpg" in rows["truncated.json"]["error"]
    assert [name for name, r in rows.items() if r["status"] == "ok"] == sorted(
        p.name for p in pages.glob("*.json") if p.name not in ("broken.json", "truncated.json"))
    assert len(list(out.glob("*.matched.json"))) == 4

    assert main(["merge", str(out)]) == 1
    assert "broken.json" in capsys.readouterr().err


def test_merge_names_missing_shards_and_refuses_summaries_of_different_runs(pages, tmp_path, capsys):
    out = tmp_path / "out"
    for k in (1, 3):
        assert main(["match", str(pages), "-o", str(out), *FAST, "--shard", f"{k}/3"]) == 0
    capsys.readouterr()
    assert main(["merge", str(out)]) == 1
    captured = capsys.readouterr()
    assert "2 of 3 shards" in captured.out and "missing shards: 2 of 3" in captured.err
    assert len(read_summary(out / "summary.csv")) == 3

    assert main(["match", str(pages), "-o", str(out), *FAST, "--shard", "1/2"]) == 0
    capsys.readouterr()
    assert main(["merge", str(out)]) == 1
    assert "mix shard counts N (2, 3)" in capsys.readouterr().err
    assert main(["merge", str(tmp_path / "pages")]) == 1
    assert "no shard summaries" in capsys.readouterr().err
