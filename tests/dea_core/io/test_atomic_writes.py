"""Atomic writes: the destination is either the old file or the new one, and no temp file is left."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from dea_core.errors import DeaError
from dea_core.io import atomic
from dea_core.io.atomic import atomic_write_bytes, atomic_write_text


def test_writes_bytes_and_utf8_text(tmp_path: Path) -> None:
    atomic_write_bytes(tmp_path / "a.bin", b"\x00\x01")
    atomic_write_text(tmp_path / "b.txt", "Fleuron ❧ à l'italienne")

    assert (tmp_path / "a.bin").read_bytes() == b"\x00\x01"
    assert (tmp_path / "b.txt").read_bytes() == "Fleuron ❧ à l'italienne".encode()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.bin", "b.txt"]


def test_replaces_an_existing_file_and_keeps_its_permissions(tmp_path: Path) -> None:
    target = tmp_path / "page.json"
    target.write_text("old")
    target.chmod(0o640)

    atomic_write_text(target, "new")

    assert target.read_text() == "new"
    assert stat.S_IMODE(target.stat().st_mode) == 0o640


def test_overwrite_false_refuses_an_existing_file(tmp_path: Path, snapshot) -> None:
    target = tmp_path / "page.json"
    target.write_text("old")
    before = snapshot(tmp_path)

    with pytest.raises(DeaError, match="already exists") as caught:
        atomic_write_text(target, "new", overwrite=False)

    assert str(target) in str(caught.value)
    assert snapshot(tmp_path) == before


def test_overwrite_false_writes_a_new_file(tmp_path: Path) -> None:
    atomic_write_text(tmp_path / "new.json", "{}", overwrite=False)

    assert [p.name for p in tmp_path.iterdir()] == ["new.json"]


def test_missing_folder_is_named(tmp_path: Path) -> None:
    missing = tmp_path / "no such folder"

    with pytest.raises(DeaError) as caught:
        atomic_write_text(missing / "page.json", "{}")

    assert str(missing) in str(caught.value) and "does not exist" in str(caught.value)
    assert list(tmp_path.iterdir()) == []


def test_destination_that_is_a_folder_is_refused(tmp_path: Path) -> None:
    (tmp_path / "page.json").mkdir()

    with pytest.raises(DeaError, match="is a folder"):
        atomic_write_text(tmp_path / "page.json", "{}")


@pytest.mark.parametrize("failing", ["fsync", "replace"])
def test_failure_mid_way_leaves_the_old_file_and_no_temp_file(
    tmp_path: Path, snapshot, monkeypatch: pytest.MonkeyPatch, failing: str
) -> None:
    target = tmp_path / "page.json"
    target.write_bytes(b'{"old": true}')
    before = snapshot(tmp_path)

    def fail(*args: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(atomic.os, failing, fail)
    with pytest.raises(DeaError, match="No space left on device") as caught:
        atomic_write_bytes(target, b'{"new": true}')

    monkeypatch.undo()
    assert str(target) in str(caught.value)
    assert snapshot(tmp_path) == before


def test_interrupted_write_removes_the_temp_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def interrupt(*args: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(atomic.os, "replace", interrupt)
    with pytest.raises(KeyboardInterrupt):
        atomic_write_bytes(tmp_path / "page.json", b"{}")

    monkeypatch.undo()
    assert os.listdir(tmp_path) == []
