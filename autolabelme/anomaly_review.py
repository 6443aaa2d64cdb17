"""The DEA's verdicts on the open page, kept with the page and saved in its LabelMe JSON (Qt-free).

Saving follows `dea score`'s format (dea_core.dea.record, shared with the scorer): a box of the page that a verdict falls
on (same label, IoU at least 0.5), other than a template box, gets LabelMe's shape flag "anomaly" and a "dea" record with the
scores. Verdicts on no box of the page (an unknown vignette, or a vignette nobody boxed) go in the
file's own "dea" record, with the threshold and the model, so nothing the DEA said is lost; opening
the file again reads them all back (the heatmap is not saved: score the page again to see it).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any, Final

import numpy as np

from dea_core.dea.record import (
    ANOMALY_FLAG,
    DEA_KEY,
    Verdict,
    read_verdict,
    record_box,
    record_threshold,
    shape_box,
    shape_verdicts,
)
from dea_core.io.labelme_json import LabelFile, Shape
from dea_core.matching.nms import quad_iou
from dea_core.matching.review import box_quad, is_template_box

SAME_BOX_IOU: Final = 0.5


@dataclass(frozen=True)
class PageScores:
    """The DEA's verdicts on one page, its alarm threshold, and the heatmap (H, W) in [0, 1] when
    the page was scored in this session (None when read back from a file)."""

    verdicts: tuple[Verdict, ...]
    threshold: float
    model: str
    heatmap: np.ndarray | None = None

    @classmethod
    def from_scored(cls, scored: Any, model: str) -> PageScores:
        """From a dea_core.dea.scoring.ScoredImage."""
        verdicts = tuple(Verdict(v.label, tuple(float(x) for x in v.box), float(v.detection_score),
                                 float(v.anomaly_score), bool(v.anomaly), bool(v.unknown)) for v in scored.verdicts)
        return cls(verdicts, float(scored.threshold), model, np.asarray(scored.heatmap, np.float32))

    def flagged(self) -> list[Verdict]:
        """The vignettes to look at: anomalies and unknown vignettes."""
        return [v for v in self.verdicts if v.anomaly or v.unknown]

    def marks(self) -> dict[str, tuple[str, str]]:
        """Per label with flagged vignettes: (short mark, explanation)."""
        marks: dict[str, tuple[str, str]] = {}
        for label in dict.fromkeys(v.label for v in self.flagged()):
            found = [v for v in self.flagged() if v.label == label]
            if found[0].unknown:
                text = f"⚠ {len(found)} unknown vignette" + ("s" if len(found) > 1 else "")
                tip = "Ink the DEA's detector does not recognise as any known ornament"
            else:
                worst = max(v.anomaly_score for v in found)
                text = f"⚠ {len(found)} anomal{'ies' if len(found) > 1 else 'y'} (up to {worst:.2f})"
                tip = f"Vignettes that differ from what the DEA learnt (score above the threshold {self.threshold:.2f})"
            marks[label] = (text, tip)
        return marks

    def annotate(self, label_file: LabelFile) -> LabelFile:
        """`label_file` with the verdicts saved in it (see the module's docstring); shapes are copied."""
        unmatched = list(self.verdicts)
        shapes = []
        for shape in label_file.shapes:
            # A template box stays one: a verdict on it is kept with the file's own record.
            verdict = None if is_template_box(shape) else _verdict_on(shape, unmatched)
            if verdict is not None:
                unmatched.remove(verdict)
                shape = replace(shape, flags={**shape.flags, ANOMALY_FLAG: verdict.anomaly},
                                extra={**shape.extra, DEA_KEY: verdict.record(self.threshold)})
            shapes.append(shape)
        page = {"threshold": round(self.threshold, 4), "model": self.model,
                "unmatched": [{"label": v.label, "box": [round(x, 2) for x in v.box], "anomaly": v.anomaly,
                               **v.record(self.threshold)} for v in unmatched]}
        return replace(label_file, shapes=shapes, extra={**label_file.extra, DEA_KEY: page})

    @classmethod
    def read(cls, label_file: LabelFile) -> PageScores | None:
        """The verdicts a file saved by `annotate` or written by `dea score` holds, or None."""
        page = label_file.extra.get(DEA_KEY)
        verdicts, threshold = shape_verdicts(label_file.shapes)
        if not isinstance(page, dict):
            return cls(tuple(verdicts), threshold or 0.0, "") if verdicts else None
        verdicts += _unmatched_verdicts(page.get("unmatched"))
        return cls(tuple(verdicts), record_threshold([page]) or threshold or 0.0, str(page.get("model", "")))


def _unmatched_verdicts(raw: Any) -> list[Verdict]:
    """The verdicts of a file's own record that lay on no box; entries another tool wrote without a label or a
    box of four numbers are left out."""
    entries = raw if isinstance(raw, list) else []
    found = [(entry, record_box(entry.get("box"))) for entry in entries if isinstance(entry, dict) and "label" in entry]
    return [read_verdict(str(entry["label"]), box, bool(entry.get("anomaly", False)), entry)
            for entry, box in found if box is not None]


def _verdict_on(shape: Shape, verdicts: list[Verdict]) -> Verdict | None:
    """The verdict of the same label lying on the shape's box, best overlap first."""
    if len(shape.points) < 2:
        return None
    quad = box_quad(shape_box(shape))
    scored = [(quad_iou(box_quad(v.box), quad), v) for v in verdicts if v.label == shape.label and not v.unknown]
    best = max(scored, key=lambda pair: pair[0], default=(0.0, None))
    return best[1] if best[0] >= SAME_BOX_IOU else None
