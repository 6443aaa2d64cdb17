"""The output plan: outputs checked against inputs and existing files first, then committed together."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from dea_core.errors import DeaError
from dea_core.io import atomic
from dea_core.io.atomic import clean_stale_temps, temp_path
from dea_core.io.output_plan import OutputPlan


def test_outputs_are_written_only_at_commit_and_all_together(tmp_path: Path) -> None:
    with OutputPlan() as plan:
        for name in ("a.json", "sub/b.png"):
            plan.add(tmp_path / name, within=tmp_path)
        plan.stage(tmp_path / "a.json", "{}")
        plan.stage(tmp_path / "sub" / "b.png", b"\x89PNG")
        assert not (tmp_path / "a.json").exists()
        assert plan.commit() == [tmp_path / "a.json", tmp_path / "sub" / "b.png"]

    assert (tmp_path / "a.json").read_text() == "{}"
    assert sorted(p.name for p in tmp_path.rglob("*")) == ["a.json", "b.png", "sub"]


def test_an_error_before_commit_leaves_no_file_and_no_folder(tmp_path: Path) -> None:
    with pytest.raises(RuntimeError), OutputPlan() as plan:
        plan.add(tmp_path / "new" / "deep" / "x.png", within=tmp_path)
        plan.stage(tmp_path / "new" / "deep" / "x.png", b"x")
        raise RuntimeError("the work failed")

    assert list(tmp_path.iterdir()) == []


def test_a_failed_rename_puts_back_the_files_already_committed(tmp_path: Path, monkeypatch) -> None:
    first, second = tmp_path / "first.json", tmp_path / "second.json"
    first.write_text("old first")
    real_replace, calls = os.replace, []

    def replace_then_fail(source, target) -> None:
        calls.append(target)
        if Path(target) == second:
            raise OSError(5, "Input/output error")
        real_replace(source, target)

    plan = OutputPlan(overwrite=True)
    for path in (first, second):
        plan.add(path)
        plan.stage(path, "new")
    monkeypatch.setattr(atomic.os, "replace", replace_then_fail)
    with pytest.raises(DeaError, match="Input/output error"):
        plan.commit()
    monkeypatch.undo()

    assert first.read_text() == "old first"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["first.json"]


@pytest.mark.parametrize("link", ["same name", "hard link", "symbolic link"])
def test_an_input_is_refused_as_an_output_under_any_name(tmp_path: Path, link: str) -> None:
    scan = tmp_path / "scan.jpg"
    scan.write_bytes(b"scan")
    output = tmp_path / "overview.png"
    if link == "same name":
        output = scan
    elif link == "hard link":
        os.link(scan, output)
    else:
        output.symlink_to(scan)

    with pytest.raises(DeaError, match="input of this command") as caught:
        OutputPlan([scan], overwrite=True).add(output)

    assert str(output) in str(caught.value)


def test_the_one_output_meant_to_replace_its_input_may_with_overwrite_only(tmp_path: Path) -> None:
    page = tmp_path / "page.json"
    page.write_text("{}")

    with pytest.raises(DeaError, match="--overwrite"):
        OutputPlan([page]).add(page, replaces_input=True)
    assert OutputPlan([page], overwrite=True).add(page, replaces_input=True) == page


def test_existing_files_twice_declared_outputs_and_missing_folders_are_refused(tmp_path: Path) -> None:
    (tmp_path / "there.json").write_text("mine")
    plan = OutputPlan()

    with pytest.raises(DeaError, match="already exists; choose another name or pass --overwrite"):
        plan.add(tmp_path / "there.json")
    with pytest.raises(DeaError, match="does not exist"):
        plan.add(tmp_path / "nodir" / "x.png")
    plan.add(tmp_path / "x.png")
    with pytest.raises(DeaError, match="written twice"):
        plan.add(tmp_path / "x.png")


def test_a_link_out_of_an_output_folder_is_refused(tmp_path: Path) -> None:
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "crops").mkdir()
    (tmp_path / "crops" / "label").symlink_to(tmp_path / "elsewhere")

    with pytest.raises(DeaError, match="symbolic link leads out"):
        OutputPlan().add(tmp_path / "crops" / "label" / "a.png", within=tmp_path / "crops")


def test_stale_temp_files_of_dead_processes_go_and_live_ones_stay(tmp_path: Path) -> None:
    target = tmp_path / "page.json"
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True,
                          check=True)
    dead_temp = Path(str(temp_path(target)).replace(f"-{os.getpid()}-", f"-{dead.stdout.strip()}-"))
    live_temp = temp_path(target)  # this process's own
    other_host = "0000" if atomic._HOST != "0000" else "ffff"
    foreign = tmp_path / f".page.json.{other_host}-1-abcdef.tmp"  # another machine's, recent
    old_legacy, new_legacy = tmp_path / ".a.json.0123abcd.tmp", tmp_path / ".b.json.0123abcd.tmp"
    user_file = tmp_path / ".notes.tmp"
    for path in (dead_temp, live_temp, foreign, old_legacy, new_legacy, user_file):
        path.write_bytes(b"x")
    os.utime(old_legacy, (time.time() - 7200, time.time() - 7200))

    removed = clean_stale_temps(tmp_path)

    assert dead_temp in removed and old_legacy in removed
    assert all(p.exists() for p in (live_temp, foreign, new_legacy, user_file)) and not dead_temp.exists()
