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
    exp(-cycle^2 / 2 tolerance^2) for the cycle error in pixels. Weak texture is observed all
    the same where the pictures share the paper's grain (`grain.shared_grain`: the same sheet):
    the correlation of the two, less their Gaussian blur of `grain_shading_sigma` px, in a
    `grain_window` px window, ramps to full weight from `grain_correlation` to `grain_correlation`
    + `grain_span`, times a ramp to `grain_margin` above its best with the source shifted
    `grain_shift` px (`follow_grain=False` turns this off). Chosen on the benchmark
    (docs/alignment.md).
    """

    finest_scale: int | None = None
    dis_side: int = 600
    refinement_iterations: int = 5
    paper_multiple: float = 2.0
    texture_span: float = 2e-4
    cycle_tolerance: float = 0.7
    follow_grain: bool = True
    grain_window: int = 21
    grain_shading_sigma: float = 3.0
    grain_shift: int = 2
    grain_correlation: float = 0.3
    grain_span: float = 0.4
    grain_margin: float = 0.15
