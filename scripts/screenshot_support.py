"""What the screenshot scripts share: letting a real window work and paint before a grab."""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from pathlib import Path

from PyQt5.QtWidgets import QApplication


def wait_until(app: QApplication, done: Callable[[], bool], seconds: float = 120.0) -> None:
    """Process events until `done()` is true; TimeoutError after `seconds`."""
    end = time.monotonic() + seconds
    while not done():
        if time.monotonic() > end:
            raise TimeoutError("the window did not finish in time")
        app.processEvents()
        time.sleep(0.01)


def pause(app: QApplication, seconds: float) -> None:
    """Let the window lay itself out and paint."""
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        app.processEvents()
        time.sleep(0.01)


def output_folder(description: str, argv: list[str] | None) -> Path:
    """The screenshots' folder from the command line (-o, default demo-output/), created."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("-o", "--output-dir", type=Path, default=Path("demo-output"))
    folder = parser.parse_args(argv).output_dir
    folder.mkdir(parents=True, exist_ok=True)
    return folder
