"""`dea prepare`, `dea train-detector`, `dea evaluate`, `dea detect` from the command line."""

import json
import os
import signal

import pytest

from dea_core.cli.main import main
from dea_core.detection.checkpoint import load_checkpoint
from dea_core.io import load_label_file


@pytest.mark.parametrize("command", ["prepare", "train-detector", "detect", "evaluate"])
def test_help_explains_each_command(command, capsys):
    with pytest.raises(SystemExit) as stop:
        main([command, "--help"])
    assert stop.value.code == 0
    assert "example" in capsys.readouterr().out


def test_prepare_train_evaluate_detect(pages, tmp_path, capsys):
    data, model = tmp_path / "data", tmp_path / "model.pt"
    assert main(["prepare", *map(str, pages), "-o", str(data), "--crops", "4", "--val-fraction", "0.34", "-q"]) == 0
    assert "val: 1 pages, 4 crops" in capsys.readouterr().out
    assert main(["train-detector", str(data), "-o", str(model), "--epochs", "1", "--batch-size", "4",
                 "--backbone", "light", "--priors", "fast", "--device", "cpu", "-q"]) == 0
    assert f"wrote {model}" in capsys.readouterr().out
    assert main(["train-detector", str(data), "-o", str(model), "--epochs", "1", "-q"]) == 1
    assert "already exists" in capsys.readouterr().err

    scores = tmp_path / "scores.json"
    assert main(["evaluate", str(model), str(data), "--json", str(scores), "-q"]) == 0
    out = capsys.readouterr().out
    assert "AP.75" in out and "mAP.5:.95" in out
    assert set(json.loads(scores.read_text())["mean"]) >= {"0.5", "0.75", "0.99"}
    assert main(["evaluate", str(model), str(pages[0]), "-q"]) == 0

    found = tmp_path / "found"
    image = load_label_file(pages[0]).image_file()
    assert main(["detect", str(model), str(image), str(pages[1]), "-o", str(found), "--threshold", "0.05", "-q"]) == 0
    result = load_label_file(found / f"{image.stem}.detected.json")
    assert result.image_file().resolve() == image.resolve()
    assert all("score" in shape.extra["detection"] for shape in result.shapes)
    assert (found / f"{pages[1].stem}.detected.json").is_file()


def test_user_errors_are_one_line_and_exit_1(tmp_path, capsys, pages):
    assert main(["train-detector", str(tmp_path), "-o", str(tmp_path / "m.pt"), "-q"]) == 1
    assert "prepare the dataset first" in capsys.readouterr().err
    bogus = tmp_path / "bogus.pt"
    bogus.write_bytes(b"not a model")
    assert main(["detect", str(bogus), str(pages[0]), "-o", str(tmp_path / "out"), "-q"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("dea: error:") and len(err.strip().splitlines()) == 1


def test_ctrl_c_saves_a_checkpoint_and_exits_130(dataset_dir, tmp_path, monkeypatch, capsys):
    handler = signal.getsignal(signal.SIGINT)  # as the shell left it (ignored in a background job)
    from dea_core.cli import training_progress

    def interrupt_after_first_step(self, state):
        os.kill(os.getpid(), signal.SIGINT)

    monkeypatch.setattr(training_progress.TrainBar, "update", interrupt_after_first_step)
    model = tmp_path / "m.pt"
    assert main(["train-detector", str(dataset_dir), "-o", str(model), "--epochs", "1", "--batch-size", "4",
                 "--backbone", "light", "--priors", "fast", "--device", "cpu", "-q"]) == 130
    assert "--resume" in capsys.readouterr().err
    assert load_checkpoint(model)["training"]["step"] == 1
    assert signal.getsignal(signal.SIGINT) == handler
