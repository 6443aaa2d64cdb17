"""The `dea` record of a LabelMe file: one vignette's verdict, as `dea score` writes it and AutoLabelme reads it.

Torch-free, so that the window reads and writes scored pages without loading PyTorch. A scored box
carries LabelMe's shape flag ANOMALY_FLAG (a tick box in LabelMe) and, under DEA_KEY, the anomaly
score, the threshold it was held against, the detector's confidence and whether the ink was
recognised at all.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Final

from dea_core.io.labelme_json import Shape

DEA_KEY: Final = "dea"
ANOMALY_FLAG: Final = "anomaly"


@dataclass(frozen=True)
class Verdict:
    """One vignette: what the detector called it, where, and whether it looks changed."""

    label: str
    box: tuple[float, float, float, float]  # x0, y0, x1, y1 in page pixels
    detection_score: float  # 0 for an unknown vignette
    anomaly_score: float
    anomaly: bool
    unknown: bool = False

    def record(self, threshold: float) -> dict[str, Any]:
        """What goes under DEA_KEY of its shape."""
        return {"anomaly_score": round(self.anomaly_score, 4), "threshold": round(threshold, 4),
                "detection_score": round(self.detection_score, 4), "unknown": self.unknown}

    def tag(self) -> str:
        """The few characters shown on its box: 'unknown' or '⚠ 0.83' (the anomaly score)."""
        return "unknown" if self.unknown else f"⚠ {self.anomaly_score:.2f}"


def full_colour_heat(threshold: float) -> float:
    """The heat a scored page's overlay shows in full colour: the alarm threshold its vignettes were held
    against (1 when a file gives none that is usable)."""
    return threshold if threshold > 0 else 1.0


def record_number(record: dict[str, Any], key: str) -> float:
    """A number of a `dea` record, as written by any tool: 0 when it is missing, not a number or not finite."""
    try:
        value = float(record.get(key, 0.0))
    except (TypeError, ValueError):
        return 0.0
    return value if math.isfinite(value) else 0.0


def record_box(raw: Any) -> tuple[float, float, float, float] | None:
    """A box (x0, y0, x1, y1) as a `dea` record holds it, or None when it is not four finite numbers."""
    try:
        box = tuple(float(x) for x in raw)
    except (TypeError, ValueError):
        return None
    return box if len(box) == 4 and all(math.isfinite(x) for x in box) else None


def record_threshold(records: Sequence[Any]) -> float | None:
    """The first usable (positive, finite) threshold of `dea` records, or None."""
    usable = (record_number(r, "threshold") for r in records if isinstance(r, dict) and "threshold" in r)
    return next((value for value in usable if value > 0), None)


def read_verdict(label: str, box: tuple, anomaly: bool, record: dict[str, Any]) -> Verdict:
    """A verdict from a shape's label, box, ANOMALY_FLAG and DEA_KEY record (numbers read by record_number)."""
    return Verdict(label, tuple(float(x) for x in box), record_number(record, "detection_score"),
                   record_number(record, "anomaly_score"), anomaly, bool(record.get("unknown", False)))


def shape_box(shape: Shape) -> tuple[float, float, float, float]:
    """(x0, y0, x1, y1) around a shape's points."""
    xs, ys = [float(p[0]) for p in shape.points], [float(p[1]) for p in shape.points]
    return min(xs), min(ys), max(xs), max(ys)


def shape_verdicts(shapes: Sequence[Shape]) -> tuple[list[Verdict], float | None]:
    """The verdicts of the shapes carrying a DEA_KEY record, and the threshold they were held against."""
    scored = [s for s in shapes if isinstance(s.extra.get(DEA_KEY), dict) and len(s.points) >= 2]
    verdicts = [read_verdict(s.label, shape_box(s), bool(s.flags.get(ANOMALY_FLAG)), s.extra[DEA_KEY]) for s in scored]
    return verdicts, record_threshold([s.extra[DEA_KEY] for s in scored])
