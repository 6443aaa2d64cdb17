"""pytest fixtures and helpers that drive the AutoLabelme window (tests/gui/test_autolabelme_*.py).

Load with `pytest_plugins = ["autolabelme.testing"]` and use the fixtures only (importing this
module in a test file would stop pytest from rewriting its asserts). Nothing here is autouse: only
tests that ask for these fixtures get their message boxes and file dialogs replaced.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from PyQt5.QtCore import QPoint, QPointF, QSettings, Qt
from PyQt5.QtWidgets import QDialog, QFileDialog, QMessageBox

from autolabelme.dialogs import TemplateNameDialog
from autolabelme.main_window import MainWindow
from autolabelme.search_settings import SearchSettings
from dea_core.paths import SAMPLE_PAGE_JSON

# On the sample page the window's default search finds the upper row of 11 fleurons and the lower,
# upside-down row of 11.
SAMPLE_SEARCH = SearchSettings()
SAMPLE_LABEL = "1"
SAMPLE_COUNT = 22


@dataclass
class DialogRecorder:
    """Stands in for QMessageBox and QFileDialog: records each call, answers from queues.

    questions: answers for QMessageBox.question, in order (default Discard, then No).
    files / folders: paths for the file dialogs, in order (default: cancelled).
    names: (label field, note field) typed into the template name dialog, in order (default: cancelled).
    """

    calls: list[tuple[str, str, str]] = field(default_factory=list)
    questions: list[int] = field(default_factory=list)
    files: list[str] = field(default_factory=list)
    folders: list[str] = field(default_factory=list)
    names: list[tuple[str, str]] = field(default_factory=list)

    def of_kind(self, kind: str) -> list[tuple[str, str, str]]:
        return [call for call in self.calls if call[0] == kind]

    def _message(self, kind: str) -> Callable[..., int]:
        def show(_parent, title, text, *args, **kwargs) -> int:
            self.calls.append((kind, title, text))
            if kind == "question":
                if self.questions:
                    return self.questions.pop(0)
                buttons = args[0] if args else kwargs.get("buttons", 0)
                return QMessageBox.Discard if int(buttons) & QMessageBox.Discard else QMessageBox.No
            return QMessageBox.Ok
        return show

    def _file(self, kind: str) -> Callable[..., tuple[str, str]]:
        def ask(_parent, title, *args, **kwargs) -> tuple[str, str]:
            self.calls.append((kind, title, ""))
            return (self.files.pop(0) if self.files else "", "")
        return ask

    def _folder(self, _parent, title, *args, **kwargs) -> str:
        self.calls.append(("folder", title, ""))
        return self.folders.pop(0) if self.folders else ""

    def _name_dialog(self, dialog: TemplateNameDialog) -> int:
        self.calls.append(("name", dialog.windowTitle(), dialog.label_edit.currentText()))
        if not self.names:
            return QDialog.Rejected
        label, note = self.names.pop(0)
        dialog.label_edit.setEditText(label)
        dialog.note_edit.setText(note)
        return QDialog.Accepted

    def install(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setattr(TemplateNameDialog, "exec_", lambda dialog: self._name_dialog(dialog))
        for kind in ("warning", "information", "question", "critical"):
            monkeypatch.setattr(QMessageBox, kind, staticmethod(self._message(kind)))
        monkeypatch.setattr(QFileDialog, "getOpenFileName", staticmethod(self._file("open")))
        monkeypatch.setattr(QFileDialog, "getSaveFileName", staticmethod(self._file("save")))
        monkeypatch.setattr(QFileDialog, "getExistingDirectory", staticmethod(self._folder))


@pytest.fixture
def dialogs(monkeypatch: pytest.MonkeyPatch) -> DialogRecorder:
    recorder = DialogRecorder()
    recorder.install(monkeypatch)
    return recorder


def copy_sample(folder: Path, stem: str | None = None) -> Path:
    """The bundled sample page (JSON and picture) copied into `folder`; the JSON's path.

    With `stem`, the files are renamed and the JSON's imagePath follows.
    """
    folder.mkdir(parents=True, exist_ok=True)
    picture = SAMPLE_PAGE_JSON.with_suffix(".jpg")
    stem = stem or SAMPLE_PAGE_JSON.stem
    shutil.copy(picture, folder / f"{stem}.jpg")
    text = SAMPLE_PAGE_JSON.read_text(encoding="utf-8").replace(picture.name, f"{stem}.jpg")
    (folder / f"{stem}.json").write_text(text, encoding="utf-8")
    return folder / f"{stem}.json"


@dataclass(frozen=True)
class GeneratedPage:
    """A generated page's LabelMe JSON (one template box per label) and how many of each label it holds."""

    json_path: Path
    counts: dict[str, int]


# The generated pages' poses: every right angle, both flips, sizes around 1 (the "easy" preset).
GENERATED_SEARCH = SearchSettings(rotation_min=0, rotation_max=270, rotation_step=90, flip=True, whole_page=True,
                                  scale_min=0.9, scale_max=1.1, scale_count=3)


@pytest.fixture
def generated_page(tmp_path: Path) -> GeneratedPage:
    """A small page from dea_core.synth ("easy" preset, 900 x 1200) with known ornaments."""
    import numpy as np

    from dea_core.synth import PageSpec, generate_page, write_labelme

    spec = PageSpec.preset("easy", width=900, height=1200)
    made = generate_page(np.random.default_rng(1), spec)
    counts: dict[str, int] = {}
    for ornament in made.ornaments:
        counts[ornament.label] = counts.get(ornament.label, 0) + 1
    return GeneratedPage(write_labelme(made, tmp_path / "generated", "page"), counts)


@pytest.fixture
def page(tmp_path: Path) -> Path:
    """A copy of the sample page's JSON (one label, '1', drawn around one fleuron)."""
    return copy_sample(tmp_path / "pages")


class WindowDriver:
    """Makes windows for one test (sharing its settings file and autosave folder, as two
    sessions of one person would) and drives them with the mouse and keyboard through qtbot."""

    sample_search = SAMPLE_SEARCH
    generated_search = GENERATED_SEARCH
    sample_label = SAMPLE_LABEL
    sample_count = SAMPLE_COUNT

    def __init__(self, qtbot, tmp_path: Path, dialogs: DialogRecorder) -> None:
        self.qtbot, self.tmp_path, self.dialogs = qtbot, tmp_path, dialogs
        self.windows: list[MainWindow] = []

    def window(self, labelme_program: str | None = "") -> MainWindow:
        """A shown window; `labelme_program` "" means LabelMe is not installed."""
        settings = QSettings(str(self.tmp_path / "settings.ini"), QSettings.IniFormat)
        window = MainWindow(settings, self.tmp_path / "autosave", labelme_program)
        self.qtbot.addWidget(window)
        window.resize(1200, 800)
        window.show()
        self.qtbot.waitExposed(window)
        self.windows.append(window)
        return window

    def copy_sample(self, folder: Path, stem: str | None = None) -> Path:
        return copy_sample(folder, stem)

    def wait_idle(self, window: MainWindow, timeout: int = 20000) -> None:
        self.qtbot.waitUntil(lambda: not window.is_busy(), timeout=timeout)

    def match_current(self, window: MainWindow, search: SearchSettings = SAMPLE_SEARCH) -> None:
        """Set the search options, press Rematch, wait for the result."""
        window.controls.set_search_settings(search)
        window.act.rematch.trigger()
        if not window.is_busy():
            raise AssertionError("Rematch did not start matching")
        self.wait_idle(window)

    def view_point(self, window: MainWindow, x: float, y: float) -> QPoint:
        """Where page pixel (x, y) is in the page view's viewport."""
        return window.page_view.mapFromScene(QPointF(x, y))

    def click_page(self, window: MainWindow, x: float, y: float) -> None:
        self.qtbot.mouseClick(window.page_view.viewport(), Qt.LeftButton, pos=self.view_point(window, x, y))

    def drag_page(self, window: MainWindow, start: tuple[float, float], end: tuple[float, float],
                  button: Qt.MouseButton = Qt.LeftButton, modifier: Qt.KeyboardModifier = Qt.NoModifier) -> None:
        """Press at `start`, move in a few steps, release at `end` (page pixels)."""
        viewport = window.page_view.viewport()
        a, b = self.view_point(window, *start), self.view_point(window, *end)
        self.qtbot.mousePress(viewport, button, modifier, a)
        for step in (1, 2, 3, 4):
            self.qtbot.mouseMove(viewport, a + (b - a) * step / 4)
        self.qtbot.mouseRelease(viewport, button, modifier, b)

    def close_all(self) -> None:
        for window in self.windows:
            window.wait_for_matching()
            window.labelme.wait(5000)


@pytest.fixture
def driver(qtbot, tmp_path: Path, dialogs: DialogRecorder) -> Iterator[WindowDriver]:
    made = WindowDriver(qtbot, tmp_path, dialogs)
    yield made
    made.close_all()


@pytest.fixture
def window(driver: WindowDriver) -> MainWindow:
    return driver.window()
