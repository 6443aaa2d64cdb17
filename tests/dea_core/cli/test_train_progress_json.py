"""`dea train-detector --progress json`: one JSON record per line; SIGTERM stops cleanly, like Ctrl+C."""

import json
import os
import signal
from pathlib import Path

import pytest

from dea_core.cli import training_progress
from dea_core.cli.main import main
from dea_core.detection.checkpoint import load_checkpoint
from dea_core.detection.dataset import PrepareOptions, prepare_dataset
from dea_core.detection.synthetic import write_detection_pages

TINY = ["--batch-size", "4", "--backbone", "light", "--priors", "fast", "--device", "cpu", "--progress", "json"]


@pytest.fixture(scope="module")
def dataset(tmp_path_factory: pytest.TempPathFactory) -> Path:
    pages = write_detection_pages(tmp_path_factory.mktemp("pages"), 3, seed=7)
    out = tmp_path_factory.mktemp("dataset")
    prepare_dataset(pages, out, PrepareOptions(crops_per_page=4, val_fraction=0.34, seed=1))
    return out


def records(text: str) -> list[dict]:
    """Every stdout line must be one JSON object."""
    return [json.loads(line) for line in text.splitlines()]


def test_json_progress_gives_steps_epochs_and_the_checkpoint(dataset, tmp_path, capsys):
    model = tmp_path / "m.pt"
    assert main(["train-detector", str(dataset), "-o", str(model), "--epochs", "2", *TINY]) == 0
    lines = records(capsys.readouterr().out)
    kinds = [r["type"] for r in lines]
    assert kinds[0] == "start" and kinds[-1] == "done" and kinds.count("epoch") == 2
    steps = [r for r in lines if r["type"] == "step"]
    assert {"epoch", "epochs", "step", "steps_per_epoch", "loss", "learning_rate", "elapsed_s", "eta_s"} <= set(steps[0])
    assert steps[0]["epoch"] == 1 and steps[-1]["epoch"] == 2 and steps[-1]["step"] == steps[-1]["steps_per_epoch"]
    epochs = [r for r in lines if r["type"] == "epoch"]
    # The epoch record comes before the next epoch's first step, and holds the saved history entry.
    assert kinds.index("epoch") < next(i for i, r in enumerate(lines) if r["type"] == "step" and r["epoch"] == 2)
    saved = load_checkpoint(model)["training"]["history"]
    assert [{k: v for k, v in r.items() if k != "type"} for r in epochs] == saved
    assert "val_loss" in epochs[0]
    assert lines[-1]["checkpoint"] == str(model.resolve()) and lines[-1]["history"] == saved


def test_sigterm_saves_a_checkpoint_that_resumes_to_the_end(dataset, tmp_path, monkeypatch, capsys):
    model = tmp_path / "m.pt"
    handlers = signal.getsignal(signal.SIGTERM), signal.getsignal(signal.SIGINT)  # as the shell left them
    original = training_progress.JsonProgress.update

    def terminate_after_first_step(self, state):
        original(self, state)
        os.kill(os.getpid(), signal.SIGTERM)

    monkeypatch.setattr(training_progress.JsonProgress, "update", terminate_after_first_step)
    assert main(["train-detector", str(dataset), "-o", str(model), "--epochs", "2", *TINY]) == 130
    out = capsys.readouterr()
    last = records(out.out)[-1]
    assert last["type"] == "cancelled" and last["checkpoint"] == str(model.resolve())
    assert "--resume" in last["message"] and "--resume" in out.err
    assert load_checkpoint(model)["training"]["step"] == 1
    assert (signal.getsignal(signal.SIGTERM), signal.getsignal(signal.SIGINT)) == handlers

    monkeypatch.setattr(training_progress.JsonProgress, "update", original)
    assert main(["train-detector", str(dataset), "--resume", str(model), "--epochs", "2", *TINY]) == 0
    lines = records(capsys.readouterr().out)
    assert lines[0]["type"] == "start" and lines[-1]["type"] == "done"
    assert next(r["step"] for r in lines if r["type"] == "step") == 2
    assert load_checkpoint(model)["training"]["finished"]


def test_a_refused_run_ends_with_an_error_record_and_exit_1(tmp_path, capsys):
    assert main(["train-detector", str(tmp_path), "-o", str(tmp_path / "m.pt"), *TINY]) == 1
    out = capsys.readouterr()
    (last,) = records(out.out)[-1:]
    assert last["type"] == "error" and "prepare the dataset first" in last["message"]
    assert out.err.startswith("dea: error:")
