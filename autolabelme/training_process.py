"""Training in a separate process, started detached from the window and followed through files.

Why detached from the start: a crash or an out-of-memory kill of training must not take the
window down, and "leave it running" on closing the window must really leave it running. A child
process that QProcess holds on a pipe dies with the window (QProcess kills it, or its next write
to the closed pipe does). So the window starts `python -m autolabelme.detached_run` with
QProcess.startDetached, its stdout and stderr going to files in a job folder beside the model:

    <model>-training/progress.jsonl   the `--progress json` records, one per line
    <model>-training/errors.txt       stderr: the one-line error, or a crash's traceback
    <model>-training/exit-status      written by detached_run when training ends
    <model>-training/job.json         the command and the process id, to follow it again later

The window reads new lines a few times a second; any window (this one, or one opened later)
can follow a job from its folder. Stop sends SIGTERM, which training takes as a clean stop.
"""

from __future__ import annotations

import json
import os
import signal
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PyQt5.QtCore import QObject, QProcess, QProcessEnvironment, QTimer, pyqtSignal

from autolabelme.training_commands import CommandSpec
from dea_core.errors import DeaError
from dea_core.io import atomic_write_text

EXIT_BAD_INPUT, EXIT_COMMAND_LINE, EXIT_INTERRUPTED = 1, 2, 130


class TrainingStartError(DeaError):
    """The training process could not be started (no Python, folder not writable)."""


@dataclass(frozen=True)
class TrainingJob:
    """The files of one training run (see the module's docstring)."""

    folder: Path

    @classmethod
    def beside(cls, model: Path) -> TrainingJob:
        return cls(model.parent / f"{model.stem}-training")

    @property
    def progress(self) -> Path:
        return self.folder / "progress.jsonl"

    @property
    def errors(self) -> Path:
        return self.folder / "errors.txt"

    @property
    def status(self) -> Path:
        return self.folder / "exit-status"

    @property
    def info(self) -> Path:
        return self.folder / "job.json"

    def spec(self) -> CommandSpec:
        return CommandSpec.from_dict(json.loads(self.info.read_text(encoding="utf-8"))["spec"])

    def pid(self) -> int:
        return int(json.loads(self.info.read_text(encoding="utf-8"))["pid"])

    def exit_status(self) -> int | None:
        try:
            return int(self.status.read_text(encoding="utf-8").strip())
        except (OSError, ValueError):
            return None

    def error_lines(self) -> list[str]:
        try:
            return [line for line in self.errors.read_text(encoding="utf-8", errors="replace").splitlines() if line]
        except OSError:
            return []

    def alive(self) -> bool:
        """True while the process that runs training exists (a zombie nobody reaped counts as ended)."""
        try:
            pid = self.pid()
            os.kill(pid, 0)
        except (OSError, ValueError, KeyError):
            return False
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except (OSError, IndexError):
            return True  # no /proc here: the signal's answer stands
        return state != "Z"


@dataclass(frozen=True)
class TrainingOutcome:
    """How a run ended, in plain words. kind: "done", "cancelled" or "failed"."""

    kind: str
    message: str
    checkpoint: Path | None

    @property
    def resumable(self) -> bool:
        return self.kind != "done" and self.checkpoint is not None and self.checkpoint.is_file()


def describe_end(spec: CommandSpec, status: int | None, last: dict[str, Any] | None,
                 errors: list[str], job: TrainingJob, stop_requested: bool = False) -> TrainingOutcome:
    """What to tell a person when training ends: from its exit status, last record and stderr.
    `stop_requested`: the window sent the stop (a SIGTERM before training set its handler kills it)."""
    kind = (last or {}).get("type")
    output = spec.output
    saved = f"The model so far is in {output.name}; Resume continues from there." if output.is_file() else ""
    if status == 0 and kind == "done":
        return TrainingOutcome("done", f"{spec.title} finished: {last['checkpoint']}", Path(last["checkpoint"]))
    if status == EXIT_INTERRUPTED or (stop_requested and status == -signal.SIGTERM):
        return TrainingOutcome("cancelled", f"{spec.title} stopped. {saved}".strip(), output)
    if status == EXIT_BAD_INPUT and kind == "error":
        return TrainingOutcome("failed", f"{spec.title} could not run: {last['message']}", output)
    last_line = errors[-1].removeprefix("dea: error: ") if errors else "no message"
    if status == EXIT_COMMAND_LINE:
        missing = "invalid choice" in last_line
        reason = (f"this copy of the suite has no `dea {spec.arguments[0]}` command yet" if missing
                  else f"the command line was refused ({last_line})")
        return TrainingOutcome("failed", f"{spec.title} could not start: {reason}.", None)
    if status is None:
        return TrainingOutcome("failed", f"The {spec.title.lower()} process ended without a word (the computer "
                               f"restarted, or it was killed). {saved}".strip(), output)
    if status < 0:
        number = -status
        memory = " (most often because memory ran out: lower the batch size)" if number == signal.SIGKILL else ""
        return TrainingOutcome("failed", f"The system stopped the {spec.title.lower()} (signal {number}){memory}. "
                               f"{saved}".strip(), output)
    return TrainingOutcome("failed", f"{spec.title} stopped on an unexpected error: {last_line}. The full report is "
                           f"in {job.errors}. {saved}".strip(), output)


class TrainingProcess(QObject):
    """Starts or follows one training job; emits each JSON record, then how it ended."""

    recordRead = pyqtSignal(dict)
    ended = pyqtSignal(object)  # TrainingOutcome
    POLL_MS = 250

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.job: TrainingJob | None = None
        self.spec: CommandSpec | None = None
        self._offset = 0
        self._partial = b""
        self._last: dict[str, Any] | None = None
        self._stop_requested = False
        self._timer = QTimer(self)
        self._timer.setInterval(self.POLL_MS)
        self._timer.timeout.connect(self._poll)

    def is_running(self) -> bool:
        return self._timer.isActive()

    def start(self, spec: CommandSpec) -> TrainingJob:
        """Start `spec` detached; TrainingStartError when the process cannot be made."""
        job = TrainingJob.beside(spec.output)
        try:
            job.folder.mkdir(parents=True, exist_ok=True)
            for path in (job.progress, job.errors, job.status):
                path.unlink(missing_ok=True)
        except OSError as error:
            raise TrainingStartError(f"{job.folder}: cannot write the training's log folder "
                                     f"({error.strerror or error})") from error
        process = QProcess()
        process.setProgram(sys.executable)
        process.setArguments(["-m", "autolabelme.detached_run", str(job.status), "--", sys.executable,
                              *spec.process_arguments()])
        process.setWorkingDirectory(str(spec.output.parent))
        environment = QProcessEnvironment.systemEnvironment()
        environment.insert("PYTHONUNBUFFERED", "1")
        process.setProcessEnvironment(environment)
        process.setStandardOutputFile(str(job.progress))
        process.setStandardErrorFile(str(job.errors))
        started, pid = process.startDetached()
        if not started:
            raise TrainingStartError(f"cannot start {sys.executable}: {process.errorString()}")
        atomic_write_text(job.info, json.dumps({"spec": spec.to_dict(), "pid": pid, "started": time.time()}))
        self.follow(job)
        return job

    def follow(self, job: TrainingJob) -> None:
        """Read `job`'s records from the start (again), until it ends."""
        self.job, self.spec = job, job.spec()
        self._offset, self._partial, self._last, self._stop_requested = 0, b"", None, False
        self._timer.start()
        self._poll()

    def stop(self) -> None:
        """Ask for a clean stop: training saves its model file and ends with a "cancelled" record."""
        if self.job is not None and self.is_running():
            self._stop_requested = True
            try:
                os.kill(self.job.pid(), signal.SIGTERM)
            except OSError:
                pass  # it has just ended; the next poll says how

    def detach(self) -> None:
        """Stop following; the process goes on."""
        self._timer.stop()

    def _poll(self) -> None:
        job = self.job
        if job.exit_status() is None and job.alive():
            self._read_records()
            return
        status = job.exit_status()  # read again: it may have ended between the two looks
        self._read_records()
        self._timer.stop()
        self.ended.emit(describe_end(self.spec, status, self._last, job.error_lines(), job, self._stop_requested))

    def _read_records(self) -> None:
        try:
            with open(self.job.progress, "rb") as stream:
                stream.seek(self._offset)
                data = stream.read()
        except OSError:
            return
        self._offset += len(data)
        *lines, self._partial = (self._partial + data).split(b"\n")
        for line in lines:
            try:
                record = json.loads(line)
            except ValueError:
                continue  # not ours (a library printing on stdout)
            if isinstance(record, dict):
                self._last = record
                self.recordRead.emit(record)
