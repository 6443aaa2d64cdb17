"""Where results may be written: system folders, the home folder itself and the suite's files are refused."""

from __future__ import annotations

from pathlib import Path

import pytest

from dea_core.errors import DeaError
from dea_core.io.safe_folders import check_output_folder, is_bundled, other_files
from dea_core.paths import RESOURCES, SAMPLE_PAGE_JSON


@pytest.mark.parametrize("folder", ["/", "/usr", "/usr/share/results", "/etc/x", "/tmp", "/home"])
def test_system_folders_are_refused(folder):
    with pytest.raises(DeaError, match="system folder"):
        check_output_folder(folder)


def test_home_itself_is_refused_but_a_folder_inside_it_is_fine(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))
    with pytest.raises(DeaError, match="home folder"):
        check_output_folder(tmp_path)
    assert check_output_folder("~/results") == tmp_path / "results"


def test_the_suites_own_files_are_bundled_and_refused(tmp_path):
    assert is_bundled(SAMPLE_PAGE_JSON) and not is_bundled(tmp_path / "page.json")
    with pytest.raises(DeaError, match="installed suite"):
        check_output_folder(RESOURCES / "sample" / "out")


def test_a_file_is_not_a_folder_and_other_files_are_listed(tmp_path):
    (tmp_path / "b.txt").write_text("b")
    (tmp_path / ".hidden").write_text("h")
    (tmp_path / "a.png").write_text("a")
    with pytest.raises(DeaError, match="is a file"):
        check_output_folder(tmp_path / "b.txt")
    assert other_files(tmp_path) == ["a.png", "b.txt"]
    assert other_files(Path(tmp_path / "missing")) == []
