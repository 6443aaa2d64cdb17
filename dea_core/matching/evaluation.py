"""Precision, recall and pose accuracy of matches against known ground truth."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Protocol, TypeVar

import numpy as np

from dea_core.matching.ncc import self_similarity
from dea_core.matching.nms import box_iou
from dea_core.matching.poses import Pose, render_pose
from dea_core.matching.result import Match

# Two poses are the same answer when the template looks this alike in both (symmetric pieces).
SAME_APPEARANCE = 0.9


class Truth(Protocol):
    """A known ornament on a generated page."""

    label: str
    pose: Pose
    box: tuple[float, float, float, float]


T = TypeVar("T", bound="Boxed")


class Boxed(Protocol):
    """Anything with a label and an upright box (x0, y0, x1, y1), as truths of any benchmark are."""

    label: str
    box: tuple[float, float, float, float]


@dataclass(frozen=True)
class MatchScore:
    """Counts at one IoU, and the ratios a benchmark reports."""

    true_positives: int
    false_positives: int
    false_negatives: int
    right_pose: int

    @property
    def precision(self) -> float:
        found = self.true_positives + self.false_positives
        return self.true_positives / found if found else 1.0

    @property
    def recall(self) -> float:
        wanted = self.true_positives + self.false_negatives
        return self.true_positives / wanted if wanted else 1.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0

    @property
    def pose_accuracy(self) -> float:
        return self.right_pose / self.true_positives if self.true_positives else 1.0

    def __add__(self, other: MatchScore) -> MatchScore:
        return MatchScore(self.true_positives + other.true_positives,
                          self.false_positives + other.false_positives,
                          self.false_negatives + other.false_negatives,
                          self.right_pose + other.right_pose)


def same_pose(template: np.ndarray, found: Pose, truth: Pose) -> bool:
    """True when `found` is the truth's pose, or one the template cannot be told apart from."""
    if found.same_transform(truth):
        return True
    a, _ = render_pose(template, Pose(found.rotation, found.flip), border_value=255)
    b, _ = render_pose(template, Pose(truth.rotation, truth.flip), border_value=255)
    return self_similarity(a, b) >= SAME_APPEARANCE


def score_matches(matches: Iterable[Match], truths: Iterable[Truth], templates: dict[str, np.ndarray],
                  iou: float = 0.5) -> MatchScore:
    """Greedy one-to-one pairing, best score first, of matches with truths of the same label.

    templates: label -> template image (H, W), used to judge poses of symmetric ornaments.
    """
    pairs, fp, remaining = pair_greedily(matches, truths, iou)
    right = sum(same_pose(templates[match.label], match.pose, truth.pose) for match, truth in pairs)
    return MatchScore(len(pairs), fp, len(remaining), right)


def pair_greedily(matches: Iterable[Match], truths: Iterable[T], iou: float) -> tuple[list[tuple[Match, T]], int, list[T]]:
    """Greedy one-to-one pairing, best score first, of matches with truths of the same label at `iou`:
    (the pairs, the count of matches left unpaired, the truths left unpaired)."""
    remaining = list(truths)
    pairs: list[tuple[Match, T]] = []
    unpaired = 0
    for match in sorted(matches, key=lambda m: -m.score):
        overlaps = [(box_iou(match.box, t.box), i) for i, t in enumerate(remaining) if t.label == match.label]
        best_iou, best = max(overlaps, default=(0.0, -1))
        if best_iou < iou:
            unpaired += 1
        else:
            pairs.append((match, remaining.pop(best)))
    return pairs, unpaired, remaining
