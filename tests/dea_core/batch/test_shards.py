"""Shard numbers K/N and the assignment of inputs to shards."""

import random
from pathlib import Path

import pytest

from dea_core.batch import BatchError, Shard, ordered_inputs, parse_shard, shard_inputs
from dea_core.cli.main import main


@pytest.mark.parametrize(("text", "message"), [
    ("0/3", "K must be from 1 to 3"),
    ("4/3", "K must be from 1 to 3"),
    ("1/0", "N must be at least 1"),
    ("-1/3", "K must be from 1 to 3"),
    ("3", "write it K/N"),
    ("a/b", "write it K/N"),
    ("1/2/3", "write it K/N"),
    ("", "write it K/N"),
])
def test_a_wrong_shard_is_refused_with_the_reason(text, message):
    with pytest.raises(BatchError, match=message):
        parse_shard(text)


def test_shards_are_numbered_from_one_as_slurm_arrays_are():
    assert parse_shard("1/1") == Shard(1, 1)
    assert parse_shard(" 7 / 10 ") == Shard(7, 10)
    with pytest.raises(BatchError, match="--array=1-N"):
        parse_shard("0/10")


def test_a_wrong_shard_on_the_command_line_exits_2_and_says_why(tmp_path, capsys):
    with pytest.raises(SystemExit) as stop:
        main(["detect", "model.pt", str(tmp_path), "-o", str(tmp_path / "out"), "--shard", "5/4"])
    assert stop.value.code == 2
    assert "K must be from 1 to 4" in capsys.readouterr().err


def test_shards_are_disjoint_cover_every_input_and_differ_by_at_most_one(tmp_path):
    inputs = [tmp_path / f"book{b}" / f"page{p:03d}.json" for b in range(3) for p in range(34)]
    for count in (1, 2, 7, 102, 150):
        shards = [shard_inputs(inputs, Shard(k, count)) for k in range(1, count + 1)]
        together = [path for shard in shards for path in shard]
        assert sorted(together) == sorted(p.resolve() for p in inputs)
        assert len(together) == len(set(together))
        assert max(map(len, shards)) - min(map(len, shards)) <= 1


def test_the_assignment_does_not_depend_on_the_listing_order_nor_on_how_paths_are_written(tmp_path, monkeypatch):
    names = [f"p{i}.json" for i in range(20)] + ["B.json", "a.json", "é.json"]
    absolute = [tmp_path / name for name in names]
    shuffled = absolute[:]
    random.Random(1).shuffle(shuffled)
    monkeypatch.chdir(tmp_path)
    relative_with_duplicates = [Path(name) for name in names] + [Path(".") / names[0]]
    # Reference: deal the code-point-sorted absolute paths round-robin.
    expected = sorted(p.as_posix() for p in absolute)
    for listing in (absolute, shuffled, relative_with_duplicates):
        assert [p.as_posix() for p in ordered_inputs(listing)] == expected
        assert [p.as_posix() for p in shard_inputs(listing, Shard(2, 3))] == expected[1::3]
