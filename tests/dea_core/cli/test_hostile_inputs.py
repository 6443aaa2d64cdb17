"""Every `dea` command against hostile and faulty input, as a careless or unlucky user would give it.

Each test builds its own case here, in plain sight (issue 17's numbered cases in the names), and
checks what the README promises: the inputs' bytes unchanged, no new file on exit 1, the exit
status, one line naming the file, no traceback, and the cases that used to hang ending in time.
The last tests walk the parser itself, so a new command or option is tried without anyone adding
a case: see COMMAND_LINES.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import shutil
import signal
import subprocess
import sys
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from dea_core.cli.main import build_parser, main
from dea_core.detection.checkpoint import load_checkpoint, save_checkpoint
from dea_core.detection.dataset import FORMAT as DATASET_FORMAT
from dea_core.detection.dataset import PrepareOptions
from dea_core.detection.errors import DetectionOptionsError
from dea_core.detection.model import SSD, ModelConfig
from dea_core.detection.vgg_weights import load_vgg16_weights
from dea_core.errors import LabelFileError
from dea_core.io.labelme_json import MAX_SHAPES, load_label_file
from dea_core.paths import SAMPLE_PAGE_JSON

REPO = Path(__file__).resolve().parents[3]
ALIGNMENT_DATA = REPO / "tests" / "data" / "alignment"
HANG_LIMIT_S = 120  # a case that used to hang must end well within this, even on a loaded machine


# --- how a case is run and judged ----------------------------------------------------------------

@dataclass(frozen=True)
class Run:
    code: int
    out: str
    err: str


def dea(*args: object) -> Run:
    """`dea ARGS` in this process (fast: torch is imported once), its exit status and output."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = main([str(arg) for arg in args])
        except SystemExit as stop:
            code = stop.code if isinstance(stop.code, int) else 2
    return Run(code, out.getvalue(), err.getvalue())


# Runs command lines one after another in one process and prints each one's [status, stdout, stderr].
_RUNNER = """
import contextlib, io, json, sys
from dea_core.cli.main import main
for argv in json.loads(sys.argv[1]):
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = main(argv)
        except SystemExit as stop:
            code = stop.code if isinstance(stop.code, int) else 2
    print(json.dumps([code, out.getvalue(), err.getvalue()]), flush=True)
"""


def dea_processes(*command_lines: list[object], cwd: Path) -> list[Run]:
    """Each `dea` command line in a process of their own, for the cases that used to hang: all of
    them must end within HANG_LIMIT_S (one process, so torch is imported once)."""
    argv = json.dumps([[str(arg) for arg in line] for line in command_lines])
    env = {**os.environ, "PYTHONPATH": str(REPO), "OMP_NUM_THREADS": "1"}
    try:
        done = subprocess.run([sys.executable, "-c", _RUNNER, argv], cwd=cwd, env=env, capture_output=True, text=True,
                              timeout=HANG_LIMIT_S, check=False)
    except subprocess.TimeoutExpired:
        pytest.fail(f"{argv[:300]} still ran after {HANG_LIMIT_S} s")
    runs = [Run(*json.loads(line)) for line in done.stdout.splitlines()]
    assert len(runs) == len(command_lines), done.stderr
    return runs


def files(folder: Path) -> dict[str, bytes | str]:
    """Everything under `folder`, hidden files included, with the bytes of each file."""
    return {str(p.relative_to(folder)): p.read_bytes() if p.is_file() and not p.is_fifo() else "other"
            for p in sorted(folder.rglob("*"))}


def assert_refused(run: Run, *named: object, code: int = 1) -> str:
    """The exit status, and one line on stderr naming every one of `named`, without a traceback."""
    assert run.code == code, (run.code, run.err)
    assert "Traceback" not in run.err
    lines = run.err.strip().splitlines()
    assert len(lines) == 1, run.err
    for name in named:
        assert str(name) in lines[0], (name, lines[0])
    return lines[0]


def sample_page(folder: Path, name: str | None = None) -> Path:
    """The bundled 1696 page (picture and LabelMe file with one template box) copied into `folder`."""
    picture = SAMPLE_PAGE_JSON.with_suffix(".jpg")
    shutil.copy(picture, folder / picture.name)
    page = folder / (name or SAMPLE_PAGE_JSON.name)
    shutil.copy(SAMPLE_PAGE_JSON, page)
    return page


def edited_page(folder: Path, **changes: object) -> Path:
    """The sample page with top-level keys or its template's `points` replaced, as raw JSON text."""
    page = sample_page(folder)
    data = json.loads(page.read_text())
    points = changes.pop("points", None)
    if points is not None:
        data["shapes"][0]["points"] = "@POINTS@"
    text = json.dumps({**data, **changes})
    page.write_text(text.replace('"@POINTS@"', str(points)) if points is not None else text)
    return page


def tiny_detector(path: Path, crop_size: int = 300, **data: object) -> Path:
    """A light SSD with random weights saved as a detector checkpoint: real file, no training."""
    torch.manual_seed(0)
    config = ModelConfig(classes=("1",), backbone="light", priors="fast")
    model = SSD(config)
    save_checkpoint(path, {"model_config": config.to_dict(),
                           "data": {"crop_size": crop_size, "image_size": 300, **data},
                           "model": {k: v.detach().clone() for k, v in model.state_dict().items()}})
    return path


def picture(path: Path, width: int, height: int) -> Path:
    """A grey picture with a dark block, written by Pillow."""
    pixels = np.full((height, width, 3), 230, np.uint8)
    pixels[height // 4: max(height // 2, 1), width // 4: max(width // 2, 1)] = 20
    Image.fromarray(pixels).save(path)
    return path


def manifest(folder: Path, crop: dict | None = None, **changes: object) -> Path:
    """A dataset.json of `dea prepare`'s layout with one training crop, changed as a test needs."""
    record = {"file": "images/train/a.png", "page": str(folder / "p.json"), "origin": [0, 0],
              "boxes": [[10.0, 10.0, 60.0, 60.0]], "labels": ["1"], "poses": [None], **(crop or {})}
    data = {"format": DATASET_FORMAT, "version": 1, "classes": ["1"], "options": asdict(PrepareOptions()),
            "pages": {"train": [], "val": []}, "crops": {"train": [record], "val": []}, **changes}
    (folder / "images" / "train").mkdir(parents=True, exist_ok=True)
    picture(folder / "images" / "train" / "a.png", 300, 300)
    path = folder / "dataset.json"
    path.write_text(json.dumps(data))
    return path


def shard_summary(folder: Path, rows: str, name: str = "summary-shard-1-of-1.csv") -> Path:
    path = folder / name
    path.write_text("command,shard,input,status,outputs,error\n" + rows)
    return path


# --- 1-5: no command writes over its own inputs, nor over a file without --overwrite ------------

@pytest.mark.parametrize("victim", [".jpg", ".json"])
def test_1_match_overview_never_replaces_the_input_scan_or_json(tmp_path, victim):
    page = sample_page(tmp_path)
    target = page.with_suffix(victim)
    before = files(tmp_path)

    run = dea("match", page, "-o", tmp_path / "out.json", "--overview", target, "-q")

    assert "an input of this command" in assert_refused(run, target)
    assert files(tmp_path) == before


@pytest.mark.parametrize("victim", ["model", "page"])
def test_2_evaluate_json_never_replaces_the_model_or_a_page(tmp_path, victim):
    page = sample_page(tmp_path)
    model = tiny_detector(tmp_path / "det.pt")
    target = model if victim == "model" else page
    before = files(tmp_path)

    run = dea("evaluate", model, page, "--json", target, "--overwrite", "-q")

    assert_refused(run, target)
    assert files(tmp_path) == before


def test_2_training_never_writes_its_model_over_the_dataset_or_the_detector(tmp_path):
    ds = tmp_path / "ds"
    path = manifest(ds)
    detector = tiny_detector(tmp_path / "det.pt")
    before = files(tmp_path)

    assert_refused(dea("train-detector", ds, "-o", path, "--overwrite", "--backbone", "light", "-q"), path)
    assert_refused(dea("train-dea", ds, "--detector", detector, "-o", detector, "--overwrite", "-q"), detector)
    assert files(tmp_path) == before


def test_3_align_set_pictures_never_replace_the_scans_named_like_them(tmp_path):
    shutil.copy(ALIGNMENT_DATA / "tragiques1616_f39_headpiece.png", tmp_path / "ref.png")
    for name in ("difference.png", "average.png"):
        shutil.copy(ALIGNMENT_DATA / "tragiques1616_f85_headpiece.jpg", tmp_path / name)
    before = files(tmp_path)

    run = dea("align", "--reference", tmp_path / "ref.png", "--source", tmp_path / "difference.png",
              tmp_path / "average.png", "-o", tmp_path, "--coarse-only", "-q")

    assert_refused(run, "an input of this command")
    assert files(tmp_path) == before


def test_4_the_notes_file_never_replaces_an_input_named_like_it(tmp_path):
    page = sample_page(tmp_path, "p.label_notes.json")
    before = files(tmp_path)

    run = dea("match", page, "-o", tmp_path / "p.json", "-q")

    assert_refused(run, page)
    assert files(tmp_path) == before


def test_5_demo_keeps_the_users_edits_without_overwrite(tmp_path):
    out = tmp_path / "d1"
    out.mkdir()
    edited = out / f"{SAMPLE_PAGE_JSON.stem}.matched.json"
    edited.write_text('{"my": "corrections"}')
    before = files(tmp_path)

    run = dea("demo", "-o", out)

    assert "--overwrite" in assert_refused(run, edited)
    assert files(tmp_path) == before


# --- 6-7: exit 1 means nothing changed; temporary files of killed runs are cleaned --------------

@pytest.mark.parametrize("where", ["overview in a missing folder", "overview onto a folder", "crops onto a file"])
def test_6_a_bad_destination_is_found_before_anything_is_written(tmp_path, where):
    page = sample_page(tmp_path)
    (tmp_path / "existing").mkdir()
    (tmp_path / "afile").write_text("mine")
    extra = {"overview in a missing folder": ["--overview", tmp_path / "nodir" / "ov.png"],
             "overview onto a folder": ["--overview", tmp_path / "existing"],
             "crops onto a file": ["--save-crops", tmp_path / "afile"]}[where]
    before = files(tmp_path)

    run = dea("match", page, "-o", tmp_path / "out.json", *extra, "-q")

    assert_refused(run, extra[1] if where != "overview in a missing folder" else "nodir")
    assert files(tmp_path) == before


def test_6_a_full_disk_while_writing_leaves_nothing_behind(tmp_path, monkeypatch):
    page = sample_page(tmp_path)
    before = files(tmp_path)
    real_fsync, calls = os.fsync, []

    def fsync_then_full(fd: int) -> None:
        calls.append(fd)
        if len(calls) == 3:  # the JSON and the notes are staged; the overview meets a full disk
            raise OSError(28, "No space left on device")
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", fsync_then_full)
    run = dea("match", page, "-o", tmp_path / "out.json", "--overview", tmp_path / "ov.png", "-q")
    monkeypatch.undo()

    assert "No space left on device" in assert_refused(run, tmp_path / "ov.png")
    assert files(tmp_path) == before


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only folders")
def test_6_a_read_only_folder_is_refused_before_matching(tmp_path):
    page = sample_page(tmp_path)
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o555)
    before = files(tmp_path)

    run = dea("match", page, "-o", tmp_path / "out.json", "--save-crops", locked / "crops", "-q")

    locked.chmod(0o755)
    assert "read-only" in assert_refused(run, locked)
    assert files(tmp_path) == before


def test_7_a_temp_file_left_by_a_killed_save_is_removed_by_the_next_run(tmp_path):
    page = sample_page(tmp_path)
    out = tmp_path / "out.json"
    save_then_die = ("import os, signal, sys; from pathlib import Path; from dea_core.io.atomic import write_temp_file; "
                     "write_temp_file(Path(sys.argv[1]), b'x' * 2_000_000); os.kill(os.getpid(), signal.SIGKILL)")
    killed = subprocess.run([sys.executable, "-c", save_then_die, out], env={**os.environ, "PYTHONPATH": str(REPO)},
                            timeout=HANG_LIMIT_S, check=False)
    assert killed.returncode == -signal.SIGKILL
    assert len(list(tmp_path.glob(".out.json.*.tmp"))) == 1
    legacy = tmp_path / ".old.json.0123abcd.tmp"  # an earlier version's name, hours old
    legacy.write_bytes(b"x")
    os.utime(legacy, (1, 1))

    assert dea("match", page, "-o", out, "-q").code == 0

    assert not list(tmp_path.glob(".*.tmp"))
    assert json.loads(out.read_text())["shapes"]


# --- 8-11: what used to hang or run away ends at once --------------------------------------------

def test_8_only_regular_files_are_read(tmp_path):
    fifo_page = tmp_path / "fifo.json"
    os.mkfifo(fifo_page)
    os.mkfifo(tmp_path / "fifo.png")
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    pages = {fifo_page: fifo_page, edited_page(tmp_path / "a", imagePath="../fifo.png"): "../fifo.png",
             edited_page(tmp_path / "b", imagePath="/dev/zero"): "/dev/zero"}

    runs = dea_processes(*[["match", page, "-o", tmp_path / "o.json", "-q"] for page in pages], cwd=tmp_path)

    for run, named in zip(runs, pages.values()):
        assert "not a regular file" in assert_refused(run, named)
    assert not (tmp_path / "o.json").exists()


def test_9_search_counts_beyond_a_sane_limit_are_command_line_errors(tmp_path):
    page = sample_page(tmp_path)
    options = [["--rotation-range", "0", "1e12"], ["--scales", "0.8:1.25:100000000"],
               ["--rotations", ",".join(["1"] * 1000)]]

    runs = dea_processes(*[["match", page, "-o", tmp_path / "o.json", *option, "-q"] for option in options],
                         cwd=tmp_path)

    for run, option in zip(runs, options):
        assert run.code == 2 and "Traceback" not in run.err
        assert option[0] in run.err


def test_10_merge_refuses_an_absurd_shard_count_at_once(tmp_path):
    shard_summary(tmp_path, "", "summary-shard-1-of-10000000000.csv")

    [run] = dea_processes(["merge", tmp_path], cwd=tmp_path)

    assert_refused(run, "summary-shard-1-of-10000000000.csv")
    assert not (tmp_path / "summary.csv").exists()


def _crowded_page(folder: Path, shapes: int) -> Path:
    page = sample_page(folder)
    data = json.loads(page.read_text())
    shape = json.dumps(data["shapes"][0] | {"label": "n"})
    data["shapes"] = "@SHAPES@"
    page.write_text(json.dumps(data).replace('"@SHAPES@"', "[" + ",".join([shape] * shapes) + "]"))
    return page


def test_11_a_page_beyond_the_shape_limit_is_refused_and_a_crowded_one_loads(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()

    crowded = _crowded_page(tmp_path / "a", MAX_SHAPES + 1)
    with pytest.raises(LabelFileError, match=f"more than the {MAX_SHAPES}") as caught:
        load_label_file(crowded)

    assert str(caught.value).startswith(str(crowded)) and len(str(caught.value).splitlines()) == 1
    assert len(load_label_file(_crowded_page(tmp_path / "b", 20_000)).shapes) == 20_000


# --- 12-18: one line, never a traceback ----------------------------------------------------------

def test_12_deeply_nested_json_is_one_line_for_a_page_a_batch_and_a_dataset(tmp_path):
    nested = "[" * 100_000 + "]" * 100_000
    pages = tmp_path / "pages"
    pages.mkdir()
    page = pages / "deep.json"
    page.write_text(nested)
    (tmp_path / "ds").mkdir()
    (tmp_path / "ds" / "dataset.json").write_text(nested)

    assert "nested" in assert_refused(dea("match", page, "-o", tmp_path / "o.json", "-q"), page)
    batch = dea("match", pages, "-o", tmp_path / "out", "-q")
    assert batch.code == 1 and "nested" in batch.err and "unexpected" not in batch.err
    assert_refused(dea("train-detector", tmp_path / "ds", "-o", tmp_path / "m.pt", "-q"), "dataset.json")
    assert not (tmp_path / "m.pt").exists()


@pytest.mark.parametrize("points", ["[[239, 1" + "0" * 400 + "], [314, 313]]", "[[239, " + "7" * 5000 + "], [314, 313]]"])
def test_13_huge_integers_in_points_are_one_line(tmp_path, points):
    page = edited_page(tmp_path, points=points)
    before = files(tmp_path)

    assert_refused(dea("match", page, "-o", tmp_path / "o.json", "-q"), page)
    assert files(tmp_path) == before


@pytest.mark.parametrize("command", ["detect", "score"])
def test_14_an_empty_model_file_is_one_line(tmp_path, command):
    empty = tmp_path / "empty.pt"
    empty.write_bytes(b"")
    page = picture(tmp_path / "p.png", 64, 64)
    args = ["detect", empty, page] if command == "detect" else ["score", page, "--model", empty]

    assert_refused(dea(*args, "-o", tmp_path / "out", "-q"), empty)
    assert not (tmp_path / "out").exists()


def test_14_an_empty_vgg_weights_file_is_one_line(tmp_path):
    empty = tmp_path / "vgg.pth"
    empty.write_bytes(b"")

    with pytest.raises(DetectionOptionsError) as caught:
        load_vgg16_weights(SSD(ModelConfig(classes=("1",), priors="fast")), empty)

    assert str(empty) in str(caught.value) and len(str(caught.value).splitlines()) == 1


@pytest.mark.parametrize("case", ["text file", "model is a list", "entry is not a tensor"])
def test_15_a_text_or_forged_checkpoint_is_one_line(tmp_path, case):
    model = tmp_path / "det.pt"
    if case == "text file":
        model.write_text("these are not weights\n")
    else:
        weights: object = [1, 2] if case == "model is a list" else {"conv.weight": [1.0]}
        torch.save({"format": "dea-ssd-checkpoint", "version": 1, "model_config": {}, "data": {},
                    "model": weights, "digest": "0"}, model)
    page = picture(tmp_path / "p.png", 64, 64)

    assert_refused(dea("detect", model, page, "-o", tmp_path / "out", "-q"), model)
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("row", ["dea,1/1,/x/a.png,ok\n", "dea,1/1,/x/a.png,ok,a.json,,7,8\n"])
def test_16_merge_of_a_cut_or_padded_summary_row_is_one_line(tmp_path, row):
    summary = shard_summary(tmp_path, row)

    assert_refused(dea("merge", tmp_path), summary)
    assert not (tmp_path / "summary.csv").exists()


def test_17_nan_angles_an_output_file_for_demo_and_nan_neighbourhood(tmp_path):
    page = sample_page(tmp_path)
    (tmp_path / "afile").write_text("mine")
    before = files(tmp_path)

    assert dea("match", page, "-o", tmp_path / "o.json", "--rotations", "nan").code == 2
    assert dea("match", page, "-o", tmp_path / "o.json", "--neighbourhood", "nan").code == 2
    assert_refused(dea("demo", "-o", tmp_path / "afile"), tmp_path / "afile")
    assert files(tmp_path) == before


@pytest.mark.parametrize("tamper", [{"crop": {"boxes": "abc"}}, {"crop": {"labels": ["1", "1"]}},
                                    {"classes": []}, {"crop": {"boxes": [[1, 2, 3]]}}])
def test_18_a_tampered_dataset_is_one_line(tmp_path, tamper):
    ds = tmp_path / "ds"
    path = manifest(ds, tamper.get("crop"), **{k: v for k, v in tamper.items() if k != "crop"})

    assert_refused(dea("train-detector", ds, "-o", tmp_path / "m.pt", "--backbone", "light", "-q"), path)
    assert not (tmp_path / "m.pt").exists()


# --- 19-26: wrong results no longer accepted silently --------------------------------------------

@pytest.mark.parametrize("size", [(1, 1), (640, 121)])
def test_19_detections_stay_inside_a_picture_smaller_than_the_crop(tmp_path, size):
    model = tiny_detector(tmp_path / "det.pt")
    page = picture(tmp_path / "small.png", *size)

    assert dea("detect", model, page, "-o", tmp_path / "out", "--threshold", "0.05", "-q").code == 0

    shapes = json.loads((tmp_path / "out" / "small.detected.json").read_text())["shapes"]
    assert shapes  # random weights find plenty
    width, height = size
    for shape in shapes:
        (x0, y0), (x1, y1) = shape["points"]
        assert 0 <= x0 < x1 <= width and 0 <= y0 < y1 <= height, shape["points"]


def test_20_align_refuses_sources_whose_results_would_share_a_name(tmp_path):
    shutil.copy(ALIGNMENT_DATA / "tragiques1616_f39_headpiece.png", tmp_path / "ref.png")
    for folder in ("s1", "s2"):
        (tmp_path / folder).mkdir()
        shutil.copy(ALIGNMENT_DATA / "tragiques1616_f85_headpiece.jpg", tmp_path / folder / "x.jpg")

    run = dea("align", "--reference", tmp_path / "ref.png", "--source", tmp_path / "s1" / "x.jpg",
              tmp_path / "s2" / "x.jpg", "-o", tmp_path / "out", "--coarse-only", "-q")

    assert_refused(run, tmp_path / "s1" / "x.jpg", tmp_path / "s2" / "x.jpg")
    assert not (tmp_path / "out").exists()


def test_21_align_into_its_own_folder_twice_does_not_take_its_results_for_scans(tmp_path):
    scans = tmp_path / "D"
    scans.mkdir()
    shutil.copy(ALIGNMENT_DATA / "tragiques1616_f85_headpiece.jpg", scans / "a.jpg")
    shutil.copy(ALIGNMENT_DATA / "tragiques1616_f39_headpiece.png", scans / "b.png")

    for extra in ([], ["--overwrite"]):
        assert dea("align", "--folder", scans, "-o", scans, "--coarse-only", "-q", *extra).code == 0

    summary = json.loads((scans / "summary.json").read_text())
    assert Path(summary["reference"]).name == "b.png"
    assert [Path(pair["source"]).name for pair in summary["pairs"]] == ["a.jpg"]


@pytest.mark.parametrize("box", [[float("nan"), 1, 20, 20], [1, 1, 1e308, 20], [30, 30, 10, 10]])
def test_22_dataset_boxes_that_are_not_finite_or_empty_are_refused_before_training(tmp_path, box):
    ds = tmp_path / "ds"
    path = manifest(ds, {"boxes": [box]})

    assert_refused(dea("train-detector", ds, "-o", tmp_path / "m.pt", "--backbone", "light", "-q"), path)
    assert not (tmp_path / "m.pt").exists()


def test_22_23_training_stops_on_a_non_finite_loss_and_resume_takes_the_new_total(tmp_path):
    page = sample_page(tmp_path)
    ds = tmp_path / "ds"
    light = ["--backbone", "light", "--priors", "fast", "--batch-size", "2", "--device", "cpu", "-q"]
    assert dea("prepare", page, "-o", ds, "--crops", "2", "--crop-size", "600", "--val-fraction", "0", "-q").code == 0
    model = tmp_path / "m.pt"
    assert dea("train-detector", ds, "-o", model, "--epochs", "2", *light).code == 0
    saved = model.read_bytes()

    fewer = dea("train-detector", ds, "--resume", model, "--epochs", "1", *light)
    assert "--epochs 1 is fewer than the 2 epochs" in assert_refused(fewer, model)
    assert model.read_bytes() == saved

    # What an earlier version wrote after training on NaN boxes: a valid file holding NaN weights.
    record = load_checkpoint(model)
    record["model"] = {name: torch.full_like(w, float("nan")) if w.is_floating_point() else w
                       for name, w in record["model"].items()}
    poisoned = save_checkpoint(tmp_path / "nan.pt", {k: v for k, v in record.items()
                                                     if k not in ("format", "version", "digest")})
    before = poisoned.read_bytes()
    diverged = dea("train-detector", ds, "--resume", poisoned, "--epochs", "3", *light)
    assert "the loss became nan" in assert_refused(diverged, poisoned)
    assert poisoned.read_bytes() == before


def test_24_align_labels_drawn_on_another_size_are_refused(tmp_path):
    shutil.copy(ALIGNMENT_DATA / "tragiques1616_f39_headpiece.png", tmp_path / "ref.png")
    shutil.copy(ALIGNMENT_DATA / "tragiques1616_f85_headpiece.jpg", tmp_path / "src.jpg")
    labels = tmp_path / "ref.json"
    labels.write_text(json.dumps({"shapes": [{"label": "a", "points": [[1, 1], [4, 4]], "shape_type": "rectangle"}],
                                  "imagePath": "ref.png", "imageData": None, "imageWidth": 5, "imageHeight": 5}))
    before = files(tmp_path)

    run = dea("align", "--reference", tmp_path / "ref.png", "--source", tmp_path / "src.jpg", "-o", tmp_path / "out",
              "--labels", labels, "--coarse-only", "-q")

    assert "640 x 121" in assert_refused(run, labels)
    assert files(tmp_path) == before


def test_25_merge_refuses_an_unknown_status(tmp_path):
    summary = shard_summary(tmp_path, "dea,1/1,/x/a.png,WEIRD,,\n")

    assert "WEIRD" in assert_refused(dea("merge", tmp_path), summary)
    assert not (tmp_path / "summary.csv").exists()


@pytest.mark.parametrize("points", ["[[-1e308, -1e308], [1e308, 1e308]]", "[[5000, 5000], [5100, 5100]]"])
def test_26_a_template_box_off_the_page_is_refused(tmp_path, points):
    page = edited_page(tmp_path, points=points)
    before = files(tmp_path)

    assert_refused(dea("match", page, "-o", tmp_path / "o.json", "-q"), page)
    assert files(tmp_path) == before


def test_26_a_checkpoint_with_a_negative_crop_size_is_refused(tmp_path):
    model = tiny_detector(tmp_path / "det.pt", crop_size=-640)
    page = picture(tmp_path / "p.png", 64, 64)

    assert "crop_size" in assert_refused(dea("detect", model, page, "-o", tmp_path / "out", "-q"), model)
    assert not (tmp_path / "out").exists()


# --- 27: messages in the command line's words ----------------------------------------------------

def test_27_messages_use_the_command_lines_words_and_name_the_file(tmp_path):
    page = sample_page(tmp_path)
    existing = tmp_path / "out.json"
    existing.write_text("{}")
    line = assert_refused(dea("match", page, "-o", existing, "-q"), existing)
    assert "--overwrite" in line and "overwrite=True" not in line

    (tmp_path / "t").mkdir()
    tiny_box = edited_page(tmp_path / "t", points="[[239, 228], [241, 230]]")
    assert "smaller than" in assert_refused(dea("match", tiny_box, "-o", tmp_path / "t.json", "-q"), tiny_box)


def test_27_a_blank_reference_is_named_as_the_problem(tmp_path):
    Image.new("RGB", (640, 121), "white").save(tmp_path / "blank.png")
    shutil.copy(ALIGNMENT_DATA / "tragiques1616_f85_headpiece.jpg", tmp_path / "src.jpg")

    run = dea("align", "--reference", tmp_path / "blank.png", "--source", tmp_path / "src.jpg", "-o", tmp_path / "out",
              "--coarse-only", "-q")

    assert run.code == 1 and "Traceback" not in run.err
    assert "the reference shows 0 features" in run.err


def test_27_a_model_of_other_classes_is_one_line(tmp_path):
    config = ModelConfig(classes=("1",), backbone="light", priors="fast")
    other = SSD(ModelConfig(classes=("1", "2", "3"), backbone="light", priors="fast"))
    model = tmp_path / "det.pt"
    save_checkpoint(model, {"model_config": config.to_dict(), "data": {"crop_size": 300, "image_size": 300},
                            "model": other.state_dict()})

    assert_refused(dea("detect", model, picture(tmp_path / "p.png", 64, 64), "-o", tmp_path / "out", "-q"), model)


class _Payload:
    """Not a tensor: what a pickled whole model or a booby-trapped file holds."""


def test_27_vgg_weights_refusal_never_advises_loading_it_anyway(tmp_path):
    weights = tmp_path / "vgg.pth"
    torch.save({"features.0.weight": _Payload()}, weights)

    with pytest.raises(DetectionOptionsError) as caught:
        load_vgg16_weights(SSD(ModelConfig(classes=("1",), priors="fast")), weights)

    message = str(caught.value)
    assert str(weights) in message and len(message.splitlines()) == 1
    assert "weights_only" not in message and "can still be loaded" not in message and "\x1b" not in message


# --- 28: nothing outside what the user chose is read or written ----------------------------------

@pytest.mark.parametrize("form", ["relative", "absolute"])
def test_28_an_image_path_that_names_no_picture_is_refused_unopened(tmp_path, form):
    page = edited_page(tmp_path, imagePath=os.path.relpath("/etc/passwd", tmp_path) if form == "relative"
                       else "/etc/passwd")

    assert "does not name a picture" in assert_refused(dea("match", page, "-o", tmp_path / "o.json", "-q"), page)


def test_28_a_dataset_crop_outside_the_dataset_is_refused(tmp_path):
    ds = tmp_path / "ds"
    path = manifest(ds, {"file": "/etc/passwd"})

    assert_refused(dea("train-detector", ds, "-o", tmp_path / "m.pt", "--backbone", "light", "-q"), path)


def test_28_crops_never_follow_a_planted_link_out_of_the_crops_folder(tmp_path):
    page = sample_page(tmp_path)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (tmp_path / "crops").mkdir()
    (tmp_path / "crops" / "1").symlink_to(elsewhere)
    before = files(tmp_path)

    run = dea("match", page, "-o", tmp_path / "out.json", "--save-crops", tmp_path / "crops", "-q")

    assert "symbolic link" in assert_refused(run, tmp_path / "crops")
    assert files(tmp_path) == before and not list(elsewhere.iterdir())


# --- the battery grows with the command line -----------------------------------------------------

# For each command, a command line that parses; every option of it is tried with hostile values
# below. A new command must be added here (the first test fails until it is).
COMMAND_LINES = {
    "match": ["p.json", "-o", "o.json"],
    "align": ["--reference", "r.png", "--source", "s.png", "-o", "out"],
    "demo": [],
    "prepare": ["p.json", "-o", "ds"],
    "train-detector": ["ds", "-o", "m.pt"],
    "detect": ["m.pt", "p.png", "-o", "out"],
    "evaluate": ["m.pt", "ds"],
    "train-dea": ["ds", "-o", "dea.pt"],
    "score": ["p.png", "--model", "dea.pt", "-o", "out"],
    "merge": ["out"],
}
HOSTILE_VALUES = ["nan", "-inf", "1e400", "9" * 60, "", "1/0"]


def _commands() -> dict[str, argparse.ArgumentParser]:
    subparsers = next(a for a in build_parser(full=True)._actions if isinstance(a, argparse._SubParsersAction))
    return dict(subparsers.choices)


def _typed_options() -> list[tuple[str, str]]:
    """(command, option) for every option that converts its value, i.e. is not a path or free text."""
    return [(name, action.option_strings[-1]) for name, parser in _commands().items() for action in parser._actions
            if action.option_strings and action.type not in (None, Path, str) and not action.choices]


def test_every_command_has_its_hostile_command_line():
    assert set(_commands()) == set(COMMAND_LINES)


@pytest.mark.parametrize(("command", "option"), _typed_options())
def test_every_numeric_option_refuses_non_finite_and_absurd_values(tmp_path, monkeypatch, command, option):
    monkeypatch.chdir(tmp_path)  # the command lines' relative files would land here
    for value in HOSTILE_VALUES:
        run = dea(command, *COMMAND_LINES[command], option, value)
        assert run.code == 2, (command, option, value, run.err)
        assert "Traceback" not in run.err and option in run.err
    assert list(tmp_path.iterdir()) == []
