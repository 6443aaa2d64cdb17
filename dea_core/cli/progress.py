"""A progress bar on the terminal for long engine work (tqdm), fed by the engine's callbacks."""

from __future__ import annotations

import sys
from types import TracebackType
from typing import Self

from tqdm import tqdm


class ProgressBar:
    """Context manager whose `update(done, total)` matches the engine's progress callbacks."""

    def __init__(self, description: str, enabled: bool = True) -> None:
        self._description = description
        self._enabled = enabled and sys.stderr.isatty()
        self._bar: tqdm | None = None

    def __enter__(self) -> Self:
        if self._enabled:
            self._bar = tqdm(total=1, desc=self._description, unit="step", leave=False, file=sys.stderr)
        return self

    def update(self, done: int, total: int) -> None:
        if self._bar is not None:
            self._bar.total = total
            self._bar.n = done
            self._bar.refresh()

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        if self._bar is not None:
            self._bar.close()
