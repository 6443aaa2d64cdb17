"""What the training commands (`dea train-detector`, `dea train-dea`) share: their progress
(`--progress bar`, a tqdm bar, or `--progress json`) and a clean stop on the first Ctrl+C or SIGTERM.

With `--progress json`, stdout carries one JSON object per line and nothing else, for a program
that follows the run (AutoLabelme starts training as a separate process and reads them). Epochs
count from 1 in every record:

    {"type": "start", "epochs": 30, "history": [...]}     the history so far, when resuming
    {"type": "step", "epoch": 3, "epochs": 30, "step": 5, "steps_per_epoch": 40, "loss": 2.1,
     "learning_rate": 0.0001, "elapsed_s": 80.2, "eta_s": 950.0}
    {"type": "epoch", "epoch": 3, "loss": 2.0, "learning_rate": 0.0001, "val_loss": 2.4, ...}
                                                          the checkpoint's history entry, as saved
    {"type": "done", "checkpoint": "/abs/detector.pt", "history": [...]}
    {"type": "cancelled", "checkpoint": "/abs/detector.pt", "message": "..."}   exit status 130
    {"type": "error", "message": "..."}                   exit status 1 (the message is on stderr too)
"""

from __future__ import annotations

import json
import signal
import sys
from collections.abc import Callable
from pathlib import Path
from types import FrameType, TracebackType
from typing import Any, Final, Self, TextIO

from tqdm import tqdm

from dea_core.cli.option_types import MAX_SEED, int_range
from dea_core.detection.device import DEVICES
from dea_core.detection.errors import DatasetError, TrainingCancelled
from dea_core.errors import DeaError
from dea_core.io.output_plan import OutputPlan
from dea_core.training.distributed import Launch

PROGRESS_KINDS: Final = ("bar", "json")
STOP_SIGNALS: Final = (signal.SIGINT, signal.SIGTERM)
History = list[dict[str, Any]]


class StopRequest:
    """While entered: the first SIGINT (Ctrl+C) or SIGTERM asks for a clean stop at the next step
    (calling the object says whether one was asked); a second one interrupts at once."""

    def __init__(self) -> None:
        self._stop = False
        self._previous: dict[int, Any] = {}

    def __enter__(self) -> Self:
        for number in STOP_SIGNALS:
            self._previous[number] = signal.signal(number, self._request)
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        for number, handler in self._previous.items():
            signal.signal(number, handler)

    def __call__(self) -> bool:
        return self._stop

    def _request(self, signum: int, frame: FrameType | None) -> None:
        if self._stop:
            raise KeyboardInterrupt
        self._stop = True
        print("\ndea: stopping after this step, the model file is saved (Ctrl+C again to stop at once)",
              file=sys.stderr)


class JsonProgress:
    """The `--progress json` records. `read_history()` gives the history saved in the checkpoint:
    an epoch record is written for each new entry once the next epoch starts, or at the end."""

    def __init__(self, read_history: Callable[[], History], out: TextIO | None = None) -> None:
        self._read_history = read_history
        self._out = out
        self._epochs_written = 0

    def start(self, epochs: int, history: History) -> None:
        self._epochs_written = len(history)
        self._write({"type": "start", "epochs": epochs, "history": history})

    def update(self, state: Any) -> None:
        """One training step: `state` has the fields of dea_core.detection.training.TrainProgress."""
        if state.epoch > self._epochs_written:
            self._write_epochs(self._read_history())
        self._write({"type": "step", "epoch": state.epoch + 1, "epochs": state.epochs, "step": state.step,
                     "steps_per_epoch": state.steps_per_epoch, "loss": state.loss,
                     "learning_rate": state.learning_rate, "elapsed_s": round(state.elapsed_s, 2),
                     "eta_s": round(state.eta_s, 2)})

    def done(self, checkpoint: Path, history: History) -> None:
        self._write_epochs(history)
        self._write({"type": "done", "checkpoint": str(Path(checkpoint).resolve()), "history": history})

    def cancelled(self, checkpoint: Path, message: str) -> None:
        self._write_epochs(self._read_history())
        self._write({"type": "cancelled", "checkpoint": str(Path(checkpoint).resolve()), "message": message})

    def failed(self, message: str) -> None:
        self._write({"type": "error", "message": message})

    def close(self) -> None:
        """Every record is flushed as it is written: nothing to close."""

    def _write_epochs(self, history: History) -> None:
        for record in history[self._epochs_written:]:
            self._write({"type": "epoch", **record})
        self._epochs_written = max(self._epochs_written, len(history))

    def _write(self, record: dict[str, Any]) -> None:
        print(json.dumps(record), file=self._out or sys.stdout, flush=True)


class TrainBar:
    """tqdm bar with loss and ETA for a person at a terminal; the last epochs' losses at the end."""

    def __init__(self, enabled: bool) -> None:
        self._bar: tqdm | None = None
        self._enabled = enabled and sys.stderr.isatty()

    def start(self, epochs: int, history: list[dict]) -> None:
        """Nothing to show before the first step."""

    def update(self, state: Any) -> None:
        if not self._enabled:
            return
        total = state.epochs * state.steps_per_epoch
        if self._bar is None:
            self._bar = tqdm(total=total, desc="training", unit="step", file=sys.stderr)
        self._bar.total = total
        self._bar.n = state.epoch * state.steps_per_epoch + state.step
        self._bar.set_postfix_str(f"epoch {state.epoch + 1}/{state.epochs} loss {state.loss:.3f} "
                                  f"lr {state.learning_rate:.0e}", refresh=False)
        self._bar.refresh()

    def done(self, checkpoint: Path, history: list[dict]) -> None:
        for record in history[-3:]:
            print("epoch {epoch}: loss {loss:.4f}".format(**record)
                  + (f", validation loss {record['val_loss']:.4f}" if "val_loss" in record else "")
                  + (f", learning rate {record['learning_rate']:g}" if "learning_rate" in record else ""))
        print(f"wrote {checkpoint}")

    def cancelled(self, checkpoint: Path, message: str) -> None:
        """run_train prints the message, in both modes."""

    def failed(self, message: str) -> None:
        """`dea` prints the message."""

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None


class Silent:
    """The reporter of the processes other than rank 0 under torchrun: rank 0 speaks for the run."""

    def start(self, epochs: int, history: History) -> None:
        """Rank 0 reports."""

    def update(self, state: Any) -> None:
        """Rank 0 reports."""

    def done(self, checkpoint: Path, history: History) -> None:
        """Rank 0 reports."""

    def cancelled(self, checkpoint: Path, message: str) -> None:
        """Rank 0 reports."""

    def failed(self, message: str) -> None:
        """Rank 0 reports."""

    def close(self) -> None:
        """Nothing to close."""


def run_training(args: Any, read_history: Callable[[Path], History],
                 train: Callable[[Path, Callable[[Any], None], Callable[[], bool]], Any],
                 read_total: Callable[[Path], int] | None = None) -> Any | None:
    """What `dea train-detector` and `dea train-dea` share: check the model file to write
    (args.output or args.resume; args.overwrite), settle args.epochs (without --epochs: the default,
    or with --resume the resumed run's total, which `read_total` reads), report progress as args.progress asks, turn the
    first Ctrl+C or SIGTERM into a clean stop, and call `train(output, progress, cancel)`.

    Returns train's result (with .checkpoint and .state.history), or None when the user stopped
    the run (the checkpoint is saved; the message is printed). A DeaError is reported, then raised.
    """
    output = args.output or args.resume
    reporter = _reporter(args, lambda: read_history(output))
    try:
        if args.epochs is None:
            resumed = args.resume is not None and read_total is not None
            args.epochs = read_total(args.resume) if resumed else args.default_epochs
        _check_output(output, args)
        reporter.start(args.epochs, read_history(args.resume) if args.resume is not None else [])
        with StopRequest() as stop:
            result = train(output, reporter.update, stop)
    except TrainingCancelled as error:
        reporter.close()
        reporter.cancelled(output, str(error))
        print(f"dea: {error}", file=sys.stderr)
        return None
    except DeaError as error:
        reporter.close()
        reporter.failed(str(error))
        raise
    reporter.close()
    reporter.done(result.checkpoint, result.state.history)
    return result


def _reporter(args: Any, read_history: Callable[[], History]) -> JsonProgress | TrainBar | Silent:
    if Launch.from_environment().rank != 0:
        return Silent()
    return JsonProgress(read_history) if args.progress == "json" else TrainBar(not args.quiet)


def _check_output(output: Path | None, args: Any) -> None:
    if output is None:
        raise DatasetError("give the model file to write with -o MODEL.pt")
    if output.exists() and not args.overwrite and (args.resume is None or output.resolve() != args.resume.resolve()):
        raise DatasetError(f"{output}: already exists; choose another name, pass --overwrite, or --resume it")
    from dea_core.detection.dataset import MANIFEST  # here: it imports torch, which `dea --help` need not

    read = [getattr(args, name, None) for name in ("detector", "vgg_weights")] + [args.dataset / MANIFEST]
    OutputPlan([path for path in read if path is not None], overwrite=True).add(output)


def add_run_arguments(parser: Any, epochs: int, batch_size: int, seed: int, model_file: str) -> None:
    """The options every training command takes, with the same words: how long, how much at once,
    the seed, the device, the model file to resume or replace, and how progress is shown."""
    parser.add_argument("--epochs", type=int_range(1, 1_000_000), metavar="N",
                        help=f"passes over the training crops (default {epochs}); with --resume, the new total "
                             "(default: the resumed run's own)")
    parser.set_defaults(default_epochs=epochs)
    parser.add_argument("--batch-size", type=int_range(1, 100_000), default=batch_size,
                        help=f"crops per step, over all processes under torchrun (default {batch_size}; lower it "
                             "if memory runs out)")
    parser.add_argument("--seed", type=int_range(0, MAX_SEED), default=seed, help=f"same seed, same run (default {seed})")
    parser.add_argument("--device", choices=DEVICES, default="auto", help="where to train (default auto)")
    parser.add_argument("--resume", type=Path, metavar=model_file, help="continue training this model file")
    parser.add_argument("--overwrite", action="store_true", help=f"replace {model_file} if it exists")
    parser.add_argument("--progress", choices=PROGRESS_KINDS, default="bar",
                        help="bar: a progress bar on the terminal (default); json: one JSON object per line on "
                             "stdout (step, epoch, done, cancelled, error records), for programs following the run")
    parser.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
