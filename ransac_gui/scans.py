"""What the window works on, without Qt: the reference, the sources, and each source's result."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path

import numpy as np

from dea_core.alignment.pipeline import PairOutcome
from dea_core.alignment.quality import AlignmentQuality


class Status(Enum):
    WAITING = "waiting"
    ALIGNING = "aligning"
    ALIGNED = "aligned"
    FAILED = "failed"
    CANCELLED = "cancelled"


@dataclass(frozen=True)
class AlignedScan:
    """A source laid on the reference: arrays on the reference's grid (see PairAlignment).

    mapping is None for a saved run without mappings; annotations cannot be carried then.
    """

    aligned: np.ndarray
    confidence: np.ndarray
    inside: np.ndarray
    mapping: np.ndarray | None
    quality: AlignmentQuality
    observed: np.ndarray | None = None  # 1 where the mapping was measured, 0 interpolated


@dataclass
class Scan:
    """One source picture and where its alignment stands."""

    path: Path
    status: Status = Status.WAITING
    error: str = ""
    result: AlignedScan | None = None
    progress: float = 0.0
    outcome: PairOutcome | None = None  # what Save writes; None for a result read back from disk

    def describe(self) -> str:
        """One line for the list: the status, the quality score, or why it failed."""
        if self.status is Status.ALIGNED and self.result is not None:
            q = self.result.quality
            fallback = ", dense fallback: features unreliable" if q.dense_coarse else ""
            return (f"aligned: {q.matchable_share:.0%} matchable "
                    f"(similarity {q.ssim_before:.2f} \u2192 {q.ssim_after:.2f}{fallback})")
        if self.status is Status.FAILED:
            return f"failed: {self.error}"
        if self.status is Status.ALIGNING:
            return "aligning\u2026"
        if self.status is Status.CANCELLED:
            return "cancelled (not aligned)"
        return "waiting"


@dataclass
class ScanSet:
    """The reference and its sources; choosing another reference turns the old one into a source."""

    reference: Path | None = None
    sources: list[Scan] = field(default_factory=list)

    def paths(self) -> list[Path]:
        """Every picture, sources first, the reference last (the folder's order)."""
        return [s.path for s in self.sources] + ([self.reference] if self.reference is not None else [])

    def set_pictures(self, reference: Path | None, sources: list[Path]) -> None:
        self.reference = reference
        self.sources = [Scan(p) for p in sources if p != reference]

    def add_sources(self, paths: list[Path]) -> None:
        known = set(self.paths())
        self.sources.extend(Scan(p) for p in paths if p not in known)

    def make_reference(self, path: Path) -> None:
        """`path` becomes the reference; every result is dropped (they were laid on the old one)."""
        everything = self.paths()
        if path not in everything:
            raise ValueError(f"{path} is not one of the pictures")
        self.set_pictures(path, [p for p in everything if p != path])

    def clear_results(self) -> None:
        for scan in self.sources:
            scan.status, scan.error, scan.result, scan.progress, scan.outcome = Status.WAITING, "", None, 0.0, None

    def aligned(self) -> list[Scan]:
        return [s for s in self.sources if s.result is not None]

    def has_results(self) -> bool:
        return any(s.status in (Status.ALIGNED, Status.FAILED) for s in self.sources)
