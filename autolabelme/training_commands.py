"""The Training menu's `dea` commands as argument lists (Qt-free): what the window runs, and the
line it shows so that a person can run the same thing again on a server."""

from __future__ import annotations

import shlex
from dataclasses import dataclass, replace
from pathlib import Path

PROGRAM = "dea"


def shell_line(arguments: list[str] | tuple[str, ...]) -> str:
    """The command as a person types it in a terminal: `dea ...`, quoted for the shell."""
    return shlex.join([PROGRAM, *arguments])


@dataclass(frozen=True)
class CommandSpec:
    """A training command the window runs as a separate process and follows through `--progress json`.

    title: what it trains, in plain words; arguments: what follows `dea` (without --progress);
    output: the model file it writes and, after a stop, resumes from.
    """

    title: str
    arguments: tuple[str, ...]
    output: Path

    def command_line(self) -> str:
        return shell_line(self.arguments)

    def process_arguments(self) -> list[str]:
        """Arguments for the Python interpreter: the `dea` command line, progress as JSON lines."""
        return ["-m", "dea_core.cli.main", *self.arguments, "--progress", "json"]

    def resumed(self) -> CommandSpec:
        """The same command continuing from its own model file (`--resume`, never `--overwrite`)."""
        kept: list[str] = []
        skip = False
        for argument in self.arguments:
            if skip:
                skip = False
            elif argument == "--resume":
                skip = True
            elif argument != "--overwrite":
                kept.append(argument)
        return replace(self, arguments=(*kept, "--resume", str(self.output)))

    def to_dict(self) -> dict:
        return {"title": self.title, "arguments": list(self.arguments), "output": str(self.output)}

    @classmethod
    def from_dict(cls, raw: dict) -> CommandSpec:
        return cls(str(raw["title"]), tuple(str(a) for a in raw["arguments"]), Path(raw["output"]))


def prepare_arguments(pages: Path, dataset: Path, crops: int, crop_size: int, val_fraction: float,
                      overwrite: bool = False) -> list[str]:
    arguments = ["prepare", str(pages), "-o", str(dataset), "--crops", str(crops), "--crop-size", str(crop_size),
                 "--val-fraction", f"{val_fraction:g}"]
    return [*arguments, "--overwrite"] if overwrite else arguments


def train_detector_spec(dataset: Path, model: Path, backbone: str, loss: str, priors: str, epochs: int,
                        batch_size: int, device: str, overwrite: bool = False) -> CommandSpec:
    arguments = ["train-detector", str(dataset), "-o", str(model), "--backbone", backbone, "--loss", loss,
                 "--priors", priors, "--epochs", str(epochs), "--batch-size", str(batch_size), "--device", device]
    return CommandSpec("Detector training", (*arguments, *(["--overwrite"] if overwrite else [])), model)


def train_dea_spec(dataset: Path, detector: Path, model: Path, decoder: str, epochs: int, batch_size: int,
                   device: str, fine_tune_detector: bool, overwrite: bool = False) -> CommandSpec:
    arguments = ["train-dea", str(dataset), "--detector", str(detector), "-o", str(model), "--decoder", decoder,
                 "--epochs", str(epochs), "--batch-size", str(batch_size), "--device", device]
    options = [*(["--fine-tune-detector"] if fine_tune_detector else []), *(["--overwrite"] if overwrite else [])]
    return CommandSpec("DEA training", (*arguments, *options), model)


def evaluate_arguments(model: Path, dataset: Path, split: str) -> list[str]:
    return ["evaluate", str(model), str(dataset), "--split", split]


def detect_arguments(model: Path, page: Path, threshold: float, device: str) -> list[str]:
    return ["detect", str(model), str(page), "-o", str(page.parent / "detected"), "--threshold", f"{threshold:g}",
            "--device", device]


def score_arguments(model: Path, page: Path, detection_threshold: float, device: str) -> list[str]:
    return ["score", str(page), "--model", str(model), "-o", str(page.parent / "scored"), "--detection-threshold",
            f"{detection_threshold:g}", "--device", device]
