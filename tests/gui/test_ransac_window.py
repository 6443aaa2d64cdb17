"""The RANSAC window driven offscreen on small real pairs: the 1616 headpiece printed on two pages."""

from __future__ import annotations

import json
import shutil
import threading
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np
import pytest
from PyQt5.QtCore import QSettings, Qt
from PyQt5.QtWidgets import QApplication, QDialog, QFileDialog, QMessageBox, QPushButton

from autolabelme.main_window import MainWindow as AutoLabelmeWindow
from dea_core.io.images import read_image
from dea_core.io.labelme_json import Shape, load_label_file, new_label_file, save_label_file
from dea_core.paths import RESOURCES
from ransac_gui import window_results
from ransac_gui.compare_pictures import pair_difference
from ransac_gui.dialogs import OutputFolderDialog
from ransac_gui.main_window import SAMPLE_PAIR, MainWindow
from ransac_gui.scans import Status
from ransac_gui.settings import WindowOptions

DATA = Path(__file__).resolve().parents[1] / "data" / "alignment"
WAIT_MS = 60_000


@dataclass
class Dialogs:
    """Stands in for QMessageBox and QFileDialog: records messages, answers from queues."""

    calls: list[tuple[str, str]] = field(default_factory=list)
    answers: list[int] = field(default_factory=list)
    folders: list[Path] = field(default_factory=list)
    files: list[Path] = field(default_factory=list)

    def kinds(self, kind: str) -> list[str]:
        return [text for k, text in self.calls if k == kind]


@pytest.fixture
def dialogs(monkeypatch) -> Dialogs:
    recorder = Dialogs()

    def message(kind):
        def show(_parent, _title, text, *args, **kwargs):
            recorder.calls.append((kind, text))
            if kind == "question":
                return recorder.answers.pop(0) if recorder.answers else QMessageBox.Discard
            return QMessageBox.Ok
        return staticmethod(show)

    for kind in ("warning", "information", "question"):
        monkeypatch.setattr(QMessageBox, kind, message(kind))
    monkeypatch.setattr(QFileDialog, "getExistingDirectory",
                        staticmethod(lambda *a, **k: str(recorder.folders.pop(0)) if recorder.folders else ""))

    def save_folder(dialog):
        recorder.calls.append(("save folder", dialog.path_edit.text()))
        if not recorder.folders:
            return QDialog.Rejected
        dialog.path_edit.setText(str(recorder.folders.pop(0)))
        return QDialog.Accepted

    monkeypatch.setattr(OutputFolderDialog, "exec_", save_folder)
    monkeypatch.setattr(QFileDialog, "getOpenFileName",
                        staticmethod(lambda *a, **k: (str(recorder.files.pop(0)) if recorder.files else "", "")))
    monkeypatch.setattr(QFileDialog, "getOpenFileNames",
                        staticmethod(lambda *a, **k: ([str(f) for f in recorder.files], "")))
    return recorder


def _small(path: Path, scale: float) -> np.ndarray:
    return cv2.resize(read_image(path), None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)


@pytest.fixture
def scans(tmp_path) -> Path:
    """a_f85.jpg (400 px), b_broken.jpg (not a picture), z_f39.png (384 px, the reference: last by name)."""
    folder = tmp_path / "scans"
    folder.mkdir()
    cv2.imwrite(str(folder / "a_f85.jpg"), _small(DATA / "tragiques1616_f85_headpiece.jpg", 0.5))
    (folder / "b_broken.jpg").write_bytes(b"\xff\xd8\xff\xe0 this is not a JPEG")
    cv2.imwrite(str(folder / "z_f39.png"), _small(DATA / "tragiques1616_f39_headpiece.png", 0.6))
    return folder


@pytest.fixture
def settings(tmp_path) -> QSettings:
    return QSettings(str(tmp_path / "ransac.ini"), QSettings.IniFormat)


@pytest.fixture
def window(qtbot, settings, dialogs) -> MainWindow:
    made = MainWindow(settings)
    qtbot.addWidget(made)
    made.options_pane.set_options(WindowOptions(fine=True, work_side=400, save_mapping=True))
    made.show()
    qtbot.waitExposed(made)
    yield made
    made.unsaved = False  # nothing to ask when the test closes it
    if made.worker is not None:
        made.worker.cancel()
        made.wait_for_alignment()


def _align(qtbot, window: MainWindow) -> None:
    qtbot.mouseClick(window.start_button, Qt.LeftButton)
    qtbot.waitUntil(lambda: window.worker is None, timeout=WAIT_MS)


def _statuses(window: MainWindow) -> dict[str, Status]:
    return {s.path.name: s.status for s in window.scans.sources}


def test_folder_is_aligned_corrupt_scan_reported_and_results_saved(qtbot, window, scans, dialogs, tmp_path):
    assert window.open_folder(scans)
    assert window.scans.reference.name == "z_f39.png"
    assert list(window.scan_list.rows) == [scans / "z_f39.png", scans / "a_f85.jpg", scans / "b_broken.jpg"]

    _align(qtbot, window)

    assert _statuses(window) == {"a_f85.jpg": Status.ALIGNED, "b_broken.jpg": Status.FAILED}
    broken = window.scans.sources[1]
    assert "b_broken.jpg" in broken.error and "Traceback" not in broken.error
    assert window.scan_list.rows[broken.path].status.text().startswith("failed: ")
    aligned = window.scans.sources[0]
    assert aligned.result.quality.ssim_after > aligned.result.quality.ssim_before
    assert window.scan_list.rows[aligned.path].bar.value() == 100
    assert window.compare.shown_pictures() == ("reference_red", "aligned_blue")  # the first aligned source, overlaid
    assert window.unsaved and window.windowTitle().endswith("*")
    assert dialogs.calls == []

    out = tmp_path / "out"
    dialogs.folders.append(out)
    assert window.save_results()
    for name in ("a_f85.aligned.png", "a_f85.confidence.png", "a_f85.mapping.npy", "average.png",
                 "difference.png", "overlay.gif", "summary.csv"):
        assert (out / name).is_file(), name
    assert not list(out.glob("b_broken*"))
    summary = json.loads((out / "summary.json").read_text())
    assert [(p["source"].split("/")[-1], p["status"]) for p in summary["pairs"]] == [
        ("a_f85.jpg", "aligned"), ("b_broken.jpg", "failed")]
    reference = read_image(scans / "z_f39.png")
    assert read_image(out / "a_f85.aligned.png").shape == reference.shape
    assert np.load(out / "a_f85.mapping.npy").shape == (*reference.shape[:2], 2)
    assert not window.unsaved


def test_save_results_refuses_unsafe_folders_asks_before_mixing_and_writes_off_the_gui_thread(
        qtbot, window, scans, dialogs, tmp_path, monkeypatch):
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    busy = tmp_path / "busy"
    busy.mkdir()
    (busy / "notes.txt").write_text("mine")
    threads = []
    real_write_run = window_results.write_run

    def write_run(*args, **kwargs):
        threads.append(threading.current_thread() is threading.main_thread())
        return real_write_run(*args, **kwargs)

    monkeypatch.setattr(window_results, "write_run", write_run)
    window.open_folder(scans)
    _align(qtbot, window)

    made = tmp_path / "new" / "aligned"
    dialogs.folders.extend([Path("/proc/dea-results"), home, busy, made])
    dialogs.answers.append(QMessageBox.No)
    assert window.save_results()

    proposals = [text for kind, text in dialogs.calls if kind == "save folder"]
    assert proposals[0] == str(scans / "aligned")  # a new folder is proposed, not the scans' own
    warnings = dialogs.kinds("warning")
    assert "system folder" in warnings[0] and "home folder" in warnings[1]
    assert "notes.txt" in dialogs.kinds("question")[0]
    assert sorted(p.name for p in busy.iterdir()) == ["notes.txt"]
    assert (made / "a_f85.aligned.png").is_file() and (made / "summary.json").is_file()
    assert threads == [False]
    assert window.settings.path("last_output") == made and window.saver is None

    dialogs.folders.append(busy)
    dialogs.answers.append(QMessageBox.Yes)
    assert window.save_results()
    assert (busy / "notes.txt").read_text() == "mine" and (busy / "a_f85.aligned.png").is_file()


def test_results_of_the_bundled_pair_are_proposed_outside_the_suite(window):
    assert window.open_folder(SAMPLE_PAIR)
    proposal = window._default_output()
    assert proposal.name == "sample_pair-aligned" and not proposal.is_relative_to(RESOURCES.parent)


def test_compare_modes_and_views_zoom_together(qtbot, window, scans):
    window.open_folder(scans)
    _align(qtbot, window)
    compare = window.compare
    expected = {"side": ("aligned", None), "overlay": ("reference_red", "aligned_blue"),
                "flicker": ("reference", "aligned"),
                "difference": ("difference", None), "matchability": ("matchability", None)}
    for mode, shown in expected.items():
        qtbot.mouseClick(compare.findChild(type(compare.fit_button), f"mode_{mode}"), Qt.LeftButton)
        assert compare.mode == mode
        assert compare.shown_pictures() == shown
    assert compare.right_view.base.pixmap().width() == read_image(scans / "z_f39.png").shape[1]

    window.compare.set_mode("flicker")
    top = compare.right_view.top
    before = top.isVisible()
    compare.flick()
    assert top.isVisible() != before and "Now showing" in compare.right_title.text()

    window.compare.set_mode("side")
    compare.right_view.zoom(2.0)
    compare.right_view.zoom(2.0)
    assert compare.left_view.transform().m11() == pytest.approx(compare.right_view.transform().m11())
    compare.right_view.horizontalScrollBar().setValue(compare.right_view.horizontalScrollBar().maximum())
    left_centre, right_centre = compare.left_view.centre(), compare.right_view.centre()
    assert abs(left_centre.x() - right_centre.x()) < 2 and abs(left_centre.y() - right_centre.y()) < 2

    window.compare.set_mode("overlay")
    compare.opacity.setValue(30)
    assert compare.right_view.top.opacity() == pytest.approx(0.3)
    compare.colours.setChecked(False)
    assert compare.shown_pictures() == ("reference", "aligned")
    assert compare.right_view.top.opacity() == pytest.approx(0.3)


def test_side_by_side_panes_line_up_and_the_scan_list_keeps_its_width_in_every_view(qtbot, window, scans):
    window.open_folder(scans)
    _align(qtbot, window)
    window.resize(1000, 700)  # narrow: the right title is longer than its pane and wraps
    compare, left_column = window.compare, window.centralWidget().widget(0)
    widths = {}
    for mode in ("side", "overlay", "difference"):
        compare.set_mode(mode)
        QApplication.processEvents()
        widths[mode] = left_column.width()
    compare.set_mode("side")
    QApplication.processEvents()
    assert compare.right_title.heightForWidth(compare.right_title.width()) > compare.fontMetrics().lineSpacing()
    left_top = compare.left_view.mapTo(window, compare.left_view.rect().topLeft()).y()
    right_top = compare.right_view.mapTo(window, compare.right_view.rect().topLeft()).y()
    assert left_top == right_top
    assert len(set(widths.values())) == 1 and widths["overlay"] >= 420


def test_cancel_mid_batch_keeps_the_sources_already_aligned(qtbot, window, scans, dialogs, tmp_path):
    (scans / "b_broken.jpg").unlink()
    for name, scale in (("b_f85.jpg", 0.55), ("c_f85.jpg", 0.45)):
        cv2.imwrite(str(scans / name), _small(DATA / "tragiques1616_f85_headpiece.jpg", scale))
    window.open_folder(scans)
    window.start_alignment()
    # Cancel from the worker's thread as soon as the first source is done, before the second starts.
    window.worker.aligned_one.connect(lambda index, _outcome: window.worker.cancel() if index == 0 else None,
                                      Qt.DirectConnection)
    qtbot.waitUntil(lambda: window.worker is None, timeout=WAIT_MS)

    assert _statuses(window) == {"a_f85.jpg": Status.ALIGNED, "b_f85.jpg": Status.CANCELLED,
                                 "c_f85.jpg": Status.CANCELLED}
    assert "cancelled" in window.statusBar().currentMessage()
    assert window.start_action.isEnabled() and not window.cancel_action.isEnabled()
    out = tmp_path / "out"
    dialogs.folders.append(out)
    assert window.save_results()
    assert sorted(p.name for p in out.glob("*.aligned.png")) == ["a_f85.aligned.png"]


def test_saved_run_opens_again(qtbot, window, scans, dialogs, settings, tmp_path):
    window.open_folder(scans)
    _align(qtbot, window)
    out = tmp_path / "out"
    dialogs.folders.append(out)
    window.save_results()

    again = MainWindow(settings)
    qtbot.addWidget(again)
    dialogs.folders.append(out)
    again.open_results()
    assert again.scans.reference == scans / "z_f39.png"
    assert _statuses(again) == {"a_f85.jpg": Status.ALIGNED, "b_broken.jpg": Status.FAILED}
    assert again.scans.sources[0].result.mapping is not None
    assert again.compare.shown_pictures() == ("reference_red", "aligned_blue")
    assert "b_broken.jpg" in again.scans.sources[1].error
    assert not again.unsaved and again.transfer_action.isEnabled()


def test_another_reference_is_picked_with_a_click(qtbot, window, scans):
    window.open_folder(scans)
    qtbot.mouseClick(window.scan_list.rows[scans / "a_f85.jpg"].button, Qt.LeftButton)
    assert window.scans.reference == scans / "a_f85.jpg"
    assert [s.path.name for s in window.scans.sources] == ["b_broken.jpg", "z_f39.png"]
    assert window.scan_list.rows[scans / "a_f85.jpg"].button.isHidden()


def test_unsaved_results_are_not_dropped_without_asking(qtbot, window, scans, dialogs):
    window.open_folder(scans)
    _align(qtbot, window)
    dialogs.answers.append(QMessageBox.Cancel)
    assert not window.open_folder(scans)
    assert "not been saved" in dialogs.kinds("question")[0]
    assert window.scans.sources[0].status is Status.ALIGNED


def test_bad_input_gets_a_clear_message(qtbot, window, scans, dialogs, tmp_path):
    lonely = tmp_path / "lonely"
    lonely.mkdir()
    shutil.copy(scans / "a_f85.jpg", lonely)
    assert not window.open_folder(lonely)
    assert "needs at least two pictures" in dialogs.kinds("warning")[-1]

    dialogs.files.append(scans / "b_broken.jpg")
    window.choose_reference()
    assert "b_broken.jpg" in dialogs.kinds("warning")[-1] and window.scans.reference is None

    dialogs.folders.append(scans)
    window.open_results()
    assert "summary.json" in dialogs.kinds("warning")[-1]

    # A reference that cannot be read stops the batch with a message, not a traceback.
    window.open_folder(scans)
    window.make_reference(scans / "b_broken.jpg")
    _align(qtbot, window)
    assert "b_broken.jpg" in dialogs.kinds("warning")[-1]
    assert all(s.status is Status.WAITING for s in window.scans.sources)
    assert all("Traceback" not in text for _, text in dialogs.calls)


def test_annotation_is_carried_to_the_sources_and_opens_in_autolabelme(qtbot, window, scans, dialogs, tmp_path,
                                                                       monkeypatch):
    reference = scans / "z_f39.png"
    height, width = read_image(reference).shape[:2]
    box = Shape(label="scroll", points=[[60.0, 15.0], [130.0, 55.0]])
    labels = save_label_file(new_label_file(reference, width, height, [box]), scans / "z_f39.json")
    window.open_folder(scans)
    _align(qtbot, window)
    out = tmp_path / "out"
    dialogs.folders.append(out)
    dialogs.files.append(labels)
    window.transfer_annotation()  # not saved yet: asks where to save, then writes beside the results

    carried = load_label_file(out / "a_f85.json")
    assert [s.label for s in carried.shapes] == ["scroll"]
    assert carried.image_file().resolve() == (scans / "a_f85.jpg").resolve()
    (x0, y0), (x1, y1) = carried.shapes[0].points
    assert 0 <= x0 < x1 and 0 <= y0 < y1 and (out / "a_f85.aligned.json").is_file()
    assert window.autolabelme_action.isEnabled()

    monkeypatch.setattr(window, "new_autolabelme_window", lambda: AutoLabelmeWindow(
        QSettings(str(tmp_path / "al.ini"), QSettings.IniFormat), tmp_path / "autosave"))
    opened = window.open_in_autolabelme()
    qtbot.addWidget(opened)
    assert opened.document is not None and opened.document.source == (out / "a_f85.json").absolute()


def test_annotation_of_another_picture_is_refused(qtbot, window, scans, dialogs, tmp_path):
    labels = save_label_file(new_label_file(scans / "a_f85.jpg", 400, 78, []), tmp_path / "other.json")
    window.open_folder(scans)
    _align(qtbot, window)
    dialogs.files.append(labels)
    window.transfer_annotation()
    assert "was drawn on a 400x78 picture" in dialogs.kinds("warning")[-1]
    assert not (tmp_path / "out").exists()


def test_options_and_folder_are_remembered(qtbot, window, scans, settings):
    window.open_folder(scans)
    window.options_pane.set_options(WindowOptions(fine=False, work_side=800, save_mapping=False))
    window.compare.set_mode("difference")
    window.close()
    again = MainWindow(settings)
    qtbot.addWidget(again)
    assert again.options_pane.options() == WindowOptions(fine=False, work_side=800, save_mapping=False)
    assert again.compare.mode == "difference"
    assert again.settings.path("last_folder") == scans


def test_settings_saved_with_the_old_device_choice_still_load(qtbot, tmp_path):
    old = tmp_path / "old.ini"  # as the window wrote it while it had a Device combo
    old.write_text("[options]\ndevice=cuda\nfine=false\nwork_side=700\nsave_mapping=false\n")
    window = MainWindow(QSettings(str(old), QSettings.IniFormat))
    qtbot.addWidget(window)
    assert window.options_pane.options() == WindowOptions(fine=False, work_side=700, save_mapping=False)


def test_autolabelme_file_menu_opens_the_ransac_window(qtbot, tmp_path, monkeypatch):
    monkeypatch.setattr("ransac_gui.settings.QSettings",
                        lambda *_args: QSettings(str(tmp_path / "ransac.ini"), QSettings.IniFormat))
    labeller = AutoLabelmeWindow(QSettings(str(tmp_path / "al.ini"), QSettings.IniFormat), tmp_path / "autosave")
    qtbot.addWidget(labeller)
    file_menu = labeller.menuBar().actions()[0].menu()
    action = next(a for a in file_menu.actions() if "RANSAC GUI" in a.text())
    action.trigger()
    windows = [w for w in QApplication.topLevelWidgets() if isinstance(w, MainWindow) and w.isVisible()]
    assert windows
    for opened in windows:
        qtbot.addWidget(opened)


def test_difference_view_shows_where_the_alignment_is_interpolated(qtbot, window, scans):
    window.open_folder(scans)
    _align(qtbot, window)
    window.compare.set_mode("difference")
    result = window.scans.sources[0].result
    interpolated = (result.observed < 0.5) & result.inside
    observed = (result.observed >= 0.5) & result.inside
    assert interpolated.any() and observed.any()
    picture = window.compare._picture("difference")
    plain = pair_difference(read_image(scans / "z_f39.png"), result.aligned, result.inside)
    # Interpolated paper is washed pale yellow (less blue than red), observed pixels are left as they were.
    assert np.array_equal(picture[observed], plain[observed])
    paper = interpolated & (plain.min(axis=2) == 255)
    assert (picture[paper][:, 0] < picture[paper][:, 2]).all()
    assert "interpolated" in window.compare.caption.text()


def test_the_left_columns_buttons_show_their_whole_labels_in_the_smallest_window(window, qtbot):
    window.resize(200, 200)  # the window keeps its minimum size
    qtbot.wait(50)
    left = window.centralWidget().widget(0)
    buttons = left.findChildren(QPushButton)
    assert any(b.text().startswith("Choose Target") for b in buttons)
    for button in buttons:
        assert button.width() > button.fontMetrics().horizontalAdvance(button.text()), button.text()
