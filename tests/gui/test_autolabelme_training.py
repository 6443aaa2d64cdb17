"""The Training menu, driven offscreen: prepare a dataset from a folder of pages, train a tiny
detector in its own process, stop, resume, detect on the page and accept a suggestion; leave a
training running when the window closes and follow it from the next window."""

import json
import os
import signal
from pathlib import Path

import numpy as np
import pytest
from PyQt5.QtCore import Qt
from PyQt5.QtWidgets import QCheckBox, QComboBox, QDialogButtonBox, QMessageBox

from autolabelme import anomaly_review
from autolabelme.training_commands import CommandSpec, train_detector_spec
from autolabelme.training_dialogs import (
    DetectDialog,
    EvaluateDialog,
    PathField,
    PrepareDialog,
    ScoreDialog,
    TrainDeaDialog,
    TrainDetectorDialog,
)
from autolabelme.training_process import TrainingJob, TrainingProcess
from dea_core.anomaly.heatmaps import overlay_heatmap
from dea_core.detection.checkpoint import load_checkpoint
from dea_core.detection.dataset import PrepareOptions, prepare_dataset
from dea_core.detection.synthetic import write_detection_pages
from dea_core.io import load_label_file

pytest_plugins = ["autolabelme.testing"]

# A light network on the fast default boxes, a few crops: a few seconds of training on 2 cores.
TINY = {"backbone": "light", "priors": "fast", "batch": 2, "device": "cpu"}
TRAINING_S = 120_000  # ms; generous for a loaded machine


@pytest.fixture(scope="module")
def pages_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("pages")
    write_detection_pages(folder, 3, seed=7)
    return folder


@pytest.fixture(scope="module")
def dataset(pages_folder: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("dataset")
    prepare_dataset(sorted(pages_folder.glob("*.json")), out, PrepareOptions(crops_per_page=2, val_fraction=0.34))
    return out


@pytest.fixture(autouse=True)
def fast_polling(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(TrainingProcess, "POLL_MS", 50)


@pytest.fixture
def jobs(tmp_path: Path):
    """Kills, after the test, training processes the test left running (a failed test)."""
    yield
    for info in tmp_path.rglob("job.json"):
        job = TrainingJob(info.parent)
        if job.exit_status() is None and job.alive():
            for pid in [*children(job.pid()), job.pid()]:
                os.kill(pid, signal.SIGKILL)


def children(pid: int) -> list[int]:
    text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
    return [int(value) for value in text.split()]


def answer(monkeypatch: pytest.MonkeyPatch, dialog_class: type, **fields) -> list:
    """The next `dialog_class` dialogs get `fields` typed in, then Start pressed; returns them."""
    seen = []

    def exec_(dialog) -> int:
        for name, value in fields.items():
            widget = getattr(dialog, name)
            if isinstance(widget, PathField):
                widget.edit.setText(str(value))
            elif isinstance(widget, QComboBox):
                assert widget.findData(value) >= 0, (name, value)
                widget.setCurrentIndex(widget.findData(value))
            elif isinstance(widget, QCheckBox):
                widget.setChecked(value)
            else:
                widget.setValue(value)
        seen.append(dialog)
        dialog.buttons.button(QDialogButtonBox.Ok).click()
        return dialog.result()

    monkeypatch.setattr(dialog_class, "exec_", exec_)
    return seen


def wait_for_steps(qtbot, window, count: int = 1) -> None:
    qtbot.waitUntil(lambda: len(window.training_panel.curve.steps) >= count, timeout=TRAINING_S)


def wait_for_end(qtbot, window) -> None:
    qtbot.waitUntil(lambda: not window.training.is_running(), timeout=TRAINING_S)


def test_prepare_train_stop_resume_detect_and_accept(driver, window, pages_folder, tmp_path, monkeypatch, qtbot,
                                                     dialogs, jobs):
    assert not window.train_act.prepare.isEnabled()  # no folder open yet
    assert window.open_folder(pages_folder)
    data, model = tmp_path / "data", tmp_path / "model.pt"
    shown = answer(monkeypatch, PrepareDialog, dataset=data, crops=3, val_share=0.34)
    window.train_act.prepare.trigger()
    [prepare] = shown
    assert "dea prepare" in prepare.command_edit.toPlainText() and "--crops 3" in prepare.command_edit.toPlainText()
    driver.wait_idle(window)
    assert (data / "dataset.json").is_file()
    assert "Next: Training > Train Detector" in dialogs.of_kind("information")[-1][2]

    shown = answer(monkeypatch, TrainDetectorDialog, model=model, epochs=2, **TINY)
    window.train_act.train_detector.trigger()
    [train] = shown
    assert train.dataset.path() == data  # the prepared dataset is offered
    assert train.command_edit.isReadOnly()
    assert train.command_edit.toPlainText().startswith(f"dea train-detector {data} -o {model} --backbone light")
    assert window.training.is_running() and not window.train_act.train_detector.isEnabled()
    wait_for_steps(qtbot, window)
    panel = window.training_panel
    assert panel.isVisible() and "Epoch 1 of 2" in panel.epoch_label.text() and "left" in panel.time_label.text()
    qtbot.mouseClick(panel.stop_button, Qt.LeftButton)
    wait_for_end(qtbot, window)
    assert "stopped" in panel.message.text() and panel.resume_button.isEnabled()
    stopped = load_checkpoint(model)["training"]
    assert not stopped["finished"] and stopped["epoch"] * 100 + stopped["step"] < 200  # usable, not the end
    assert TrainingJob.beside(model).exit_status() == 130

    qtbot.mouseClick(panel.resume_button, Qt.LeftButton)
    assert window.training.spec.arguments[-2:] == ("--resume", str(model))
    wait_for_end(qtbot, window)
    assert "finished" in panel.message.text(), panel.message.text()
    assert load_checkpoint(model)["training"]["finished"] and panel.progress.value() == 1000
    assert len(panel.curve.epochs) == 2 and len(panel.curve.val) == 2  # the epochs before the stop too
    assert panel.ap_label.text().startswith("Validation after epoch 2:")

    again = TrainDetectorDialog(window.settings.qsettings, window)  # remembered: same dataset, model, options
    assert again.model.path() == model and again.backbone.currentData() == "light" and again.epochs.value() == 2
    assert "exists" in again.problem.text()
    again.existing.setCurrentIndex(again.existing.findData("resume"))
    assert not again.problem.text() and again.spec().arguments[-2:] == ("--resume", str(model))

    answer(monkeypatch, EvaluateDialog, model=model, dataset=data)
    window.train_act.evaluate.trigger()
    driver.wait_idle(window, timeout=60000)
    assert "mAP" in dialogs.of_kind("information")[-1][2]

    # Two epochs of a tiny detector score low: the lowest threshold the dialog allows still shows its best boxes.
    shown = answer(monkeypatch, DetectDialog, model=model, threshold=0.01, device="cpu")
    window.train_act.detect.trigger()
    assert f"dea detect {model}" in shown[0].command_edit.toPlainText()
    driver.wait_idle(window, timeout=60000)
    pending = window.pending_suggestions()
    assert pending and all(s.score >= 0.01 for s in pending)
    keys = [k for k in window.page_view.boxes() if k[0] == "suggestion"]
    assert len(keys) == len(pending)
    best = pending[0]
    point = ((best.box[0] + best.box[2]) / 2, (best.box[1] + best.box[3]) / 2)
    window.page_view.fitInView(*best.box[:2], best.box[2] - best.box[0], best.box[3] - best.box[1])
    key = window.page_view.key_at(driver.view_point(window, *point))
    clicked = pending[key[2]]
    driver.click_page(window, *point)
    assert len(window.pending_suggestions()) == len(pending) - 1
    assert window.current_label == clicked.label
    added = window.current_entry().added[-1]
    assert added.box == pytest.approx(clicked.box) and added.score == pytest.approx(clicked.score, abs=1e-4)
    assert window.save_json()
    saved = load_label_file(window.document.json_path)
    manual = [s for s in saved.shapes if s.extra.get("match", {}).get("manual")]
    assert len(manual) == 1 and manual[0].label == clicked.label
    assert [*manual[0].points[0], *manual[0].points[1]] == pytest.approx(clicked.box, abs=0.01)
    assert manual[0].extra["match"]["score"] == pytest.approx(clicked.score, abs=1e-4)

    window.undo_stack.undo()
    assert len(window.pending_suggestions()) == len(pending)
    window.train_act.reject_suggestions.trigger()
    assert not window.pending_suggestions() and not any(k[0] == "suggestion" for k in window.page_view.boxes())


def test_leave_training_running_on_close_then_follow_and_stop_it(driver, dataset, tmp_path, monkeypatch, qtbot,
                                                                 dialogs, jobs):
    window = driver.window()
    model = tmp_path / "long.pt"
    answer(monkeypatch, TrainDetectorDialog, dataset=dataset, model=model, epochs=200, **TINY)
    window.train_act.train_detector.trigger()
    wait_for_steps(qtbot, window)
    job = window.training.job
    dialogs.questions = [QMessageBox.No]  # leave it running
    window.close()
    assert not window.isVisible()
    assert "still running" in dialogs.of_kind("question")[-1][2]
    qtbot.wait(500)
    assert job.alive() and job.exit_status() is None

    second = driver.window()  # same settings: it follows the run
    assert second.training.is_running() and second.training_panel.isVisible()
    seen = len(second.training_panel.curve.steps)
    wait_for_steps(qtbot, second, seen + 1)
    dialogs.questions = [QMessageBox.Yes]  # stop it this time
    second.close()
    qtbot.waitUntil(lambda: job.exit_status() is not None, timeout=TRAINING_S)
    assert job.exit_status() == 130
    assert json.loads(job.progress.read_text().splitlines()[-1])["type"] == "cancelled"
    saved = load_checkpoint(model)["training"]
    assert saved["epoch"] + saved["step"] > 0 and not saved["finished"]


def test_a_killed_training_is_explained_and_a_missing_command_too(window, dataset, tmp_path, monkeypatch, qtbot,
                                                                  jobs):
    answer(monkeypatch, TrainDetectorDialog, dataset=dataset, model=tmp_path / "m.pt", epochs=200, **TINY)
    window.train_act.train_detector.trigger()
    wait_for_steps(qtbot, window)
    [training] = children(window.training.job.pid())
    os.kill(training, signal.SIGKILL)  # what the system does when memory runs out
    wait_for_end(qtbot, window)
    message = window.training_panel.message.text()
    assert "signal 9" in message and "memory" in message

    answer(monkeypatch, TrainDeaDialog, dataset=dataset, detector=tmp_path / "m.pt", model=tmp_path / "dea.pt",
           decoder="deconv", epochs=2, batch=2, device="cpu")
    spec = TrainDeaDialog(window.settings.qsettings, window)
    spec.exec_()
    assert "--detector" in spec.command_edit.toPlainText() and "--decoder deconv" in spec.command_edit.toPlainText()
    window.start_training(spec.spec())
    wait_for_end(qtbot, window)
    message = window.training_panel.message.text()
    assert message.startswith("DEA training"), message
    assert window.settings.qsettings.value("training/job", "") == ""  # ended: not followed again


@pytest.fixture(scope="module")
def tiny_dea(dataset: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A detector trained for one epoch and a DEA over it, in this process (a few seconds)."""
    from dea_core.dea.model import DEAConfig
    from dea_core.dea.training import DEATrainConfig, train_dea
    from dea_core.detection.training import TrainConfig, train_detector

    folder = tmp_path_factory.mktemp("models")
    train_detector(dataset, folder / "detector.pt", config=TrainConfig(epochs=1, batch_size=4, validate=False,
                                                                        device="cpu"), backbone="light", priors="fast")
    train_dea(dataset, folder / "detector.pt", folder / "dea.pt", DEAConfig(decoder="deconv"),
              DEATrainConfig(epochs=1, batch_size=4, device="cpu"))
    return folder / "dea.pt"


def test_score_page_flags_vignettes_shows_the_heatmap_and_saves_the_verdicts(driver, window, pages_folder, tiny_dea,
                                                                             tmp_path, monkeypatch, qtbot):
    import shutil

    for name in ("page001.json", "page001.png"):
        shutil.copy(pages_folder / name, tmp_path / name)
    assert window.open_path(tmp_path / "page001.json")
    assert not window.heatmap_action.isEnabled()
    shown = answer(monkeypatch, ScoreDialog, model=tiny_dea, vignettes="boxes", device="cpu")
    window.score_action.trigger()
    assert f"dea score {tmp_path / 'page001.png'} --model {tiny_dea}" in shown[0].command_edit.toPlainText()
    boxes = window.document.review.total()
    driver.wait_idle(window, timeout=60000)
    scores = window.document.scores
    assert scores is not None and scores.heatmap.shape == window.document.image.shape[:2]
    assert len([v for v in scores.verdicts if not v.unknown]) == boxes  # each box of the page checked
    assert window.is_modified() and window.heatmap_action.isEnabled()
    layer = window._heatmap_item
    assert layer is not None and layer.isVisible() and layer.pixmap().width() == window.document.image.shape[1]
    # The heat is shown on the scale of the threshold the verdicts were held against: heat under 1 but near the
    # threshold in colour, as the threshold's own.
    expected = overlay_heatmap(window.document.image, scores.heatmap, full=scores.threshold)
    near = np.where((scores.heatmap > 0.5 * scores.threshold) & (scores.heatmap <= scores.threshold), scores.heatmap, 0)
    assert near.max() > 0
    y, x = np.unravel_index(int(np.argmax(near)), near.shape)
    shown_colour = layer.pixmap().toImage().pixelColor(int(x), int(y))
    assert (shown_colour.red(), shown_colour.green(), shown_colour.blue()) == tuple(int(v) for v in expected[y, x, ::-1])
    window.heatmap_action.trigger()  # View > Show Anomaly Heatmap off
    assert window._heatmap_item is None
    flagged = scores.flagged()
    assert len([k for k in window.page_view.boxes() if k[0] == "anomaly"]) == len(flagged)
    for label in {v.label for v in scores.verdicts}:
        expected = any(v.label == label for v in flagged)
        assert bool(window.label_list.mark_of(label)) == expected, label

    assert window.save_json()
    saved = load_label_file(window.document.json_path)
    page_record = saved.extra["dea"]
    assert page_record["threshold"] == pytest.approx(scores.threshold, abs=1e-4)
    on_shapes = [s for s in saved.shapes if "dea" in s.extra]
    assert len(on_shapes) == boxes and len(page_record["unmatched"]) == len(scores.verdicts) - boxes
    assert all(s.flags["anomaly"] == (s.extra["dea"]["anomaly_score"] > scores.threshold) for s in on_shapes)

    window.undo_stack.undo()  # the verdicts go; the saved file still has them
    assert window.document.scores is None and window.label_list.isColumnHidden(3)
    assert window.open_path(tmp_path / "page001.json")  # the changed page is discarded
    reopened = window.document.scores
    assert reopened is not None and len(reopened.verdicts) == len(scores.verdicts)
    assert {v.anomaly for v in reopened.verdicts} == {v.anomaly for v in scores.verdicts}


def test_a_resumed_command_continues_its_own_file_and_never_overwrites_it(tmp_path):
    spec = train_detector_spec(tmp_path / "data", tmp_path / "m.pt", "light", "diou", "fast", 5, 2, "cpu",
                               overwrite=True)
    assert "--overwrite" in spec.arguments
    again = spec.resumed().resumed()
    assert "--overwrite" not in again.arguments and again.arguments.count("--resume") == 1
    assert again.arguments[-2:] == ("--resume", str(tmp_path / "m.pt")) and again.output == spec.output
    assert again.process_arguments()[-2:] == ["--progress", "json"]
    assert CommandSpec.from_dict(json.loads(json.dumps(again.to_dict()))) == again


def test_verdicts_are_saved_under_the_names_dea_score_writes():
    from dea_core.dea import results

    assert (anomaly_review.DEA_KEY, anomaly_review.ANOMALY_FLAG) == (results.DEA_KEY, results.ANOMALY_FLAG)


def test_a_dialog_with_empty_paths_shows_what_to_fill_and_start_waits_for_it(qtbot, tmp_path):
    from PyQt5.QtCore import QSettings

    settings = QSettings(str(tmp_path / "dialogs.ini"), QSettings.IniFormat)
    dialog = TrainDetectorDialog(settings)
    qtbot.addWidget(dialog)
    start = dialog.buttons.button(QDialogButtonBox.Ok)
    command = dialog.command_edit.toPlainText()
    assert " . " not in command and "<dataset folder" in command
    assert not start.isEnabled() and "Choose the dataset folder" in dialog.problem.text()
    (tmp_path / "dataset").mkdir()
    dialog.dataset.edit.setText(str(tmp_path / "dataset"))
    dialog.model.edit.setText(str(tmp_path / "detector.pt"))
    assert start.isEnabled() and str(tmp_path / "dataset") in dialog.command_edit.toPlainText()


def test_new_training_dialogs_offer_what_the_commands_default_to(qtbot, tmp_path):
    from PyQt5.QtCore import QSettings

    from dea_core.dea.model import DECODERS, DEAConfig
    from dea_core.dea.training import DEATrainConfig
    from dea_core.detection.training import TrainConfig

    settings = QSettings(str(tmp_path / "dialogs.ini"), QSettings.IniFormat)
    detector, dea = TrainDetectorDialog(settings), TrainDeaDialog(settings)
    qtbot.addWidget(detector)
    qtbot.addWidget(dea)
    assert detector.epochs.value() == TrainConfig().epochs
    assert dea.epochs.value() == DEATrainConfig().epochs
    assert dea.decoder.currentData() == DEAConfig().decoder
    assert tuple(dea.decoder.itemData(i) for i in range(dea.decoder.count())) == DECODERS
