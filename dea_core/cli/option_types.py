"""argparse types shared by the commands: numbers that are finite and within sane bounds.

A value outside them is a command-line error (exit status 2) saying what is allowed, before any
file is read: `--lr nan` would train to NaN weights, `--crops 1000000000` would run for ever.
"""

from __future__ import annotations

import argparse
import math
from collections.abc import Callable
from typing import Final

# No option of ours means anything beyond this: such a value is a slip of the keyboard.
MAX_MAGNITUDE: Final = 1e15
# Seeds go to NumPy and PyTorch generators, which both take unsigned 32-bit values everywhere.
MAX_SEED: Final = 2**32 - 1


def finite_float(text: str) -> float:
    """A finite number within ±MAX_MAGNITUDE (not nan, inf, 1e400 or sixty nines)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text[:40]}' is not a number") from None
    if not math.isfinite(value) or abs(value) > MAX_MAGNITUDE:
        raise argparse.ArgumentTypeError(f"'{text[:40]}' is not a finite number within ±{MAX_MAGNITUDE:.0e}")
    return value


def int_range(low: int, high: int) -> Callable[[str], int]:
    """An argparse type for whole numbers from `low` to `high`."""
    def parse(text: str) -> int:
        try:
            value = int(text) if len(text) <= 40 else None
        except ValueError:
            value = None
        if value is None or not low <= value <= high:
            raise argparse.ArgumentTypeError(f"'{text[:40]}' is not a whole number from {low} to {high}")
        return value
    parse.__name__ = f"whole number from {low} to {high}"
    return parse
