"""The fine stage's options, apart from fine.py so that the window can read them without the stage's
machinery (fine.py itself no longer loads torch; it once did)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class FineOptions:
    """DIS's finest pyramid level (0: full resolution, 1: half; None: the coarsest whose long side
    is still at least `dis_side`, so 1 at 1200 px and 0 for small crops, where half resolution
    lost a tenth of a pixel on the landmark pairs) and its variational refinement steps; then
    what counts as observed. A component (x or y) of the flow is observed where the
    7x7 mean of the reference's squared gradient along it (pictures in [0, 1], Sobel / 8) exceeds
    `paper_multiple` times its median on blank paper (`paper_energy`: the grain, which differs
    between two sheets), ramping to full weight `texture_span` above; times
    exp(-cycle^2 / 2 tolerance^2) for the cycle error in pixels. Chosen on the benchmark
    (docs/alignment.md).
    """

    finest_scale: int | None = None
    dis_side: int = 600
    refinement_iterations: int = 5
    paper_multiple: float = 2.0
    texture_span: float = 2e-4
    cycle_tolerance: float = 0.7
