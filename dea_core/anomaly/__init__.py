"""Change localisation: where an ornament differs from its genuine copies, and how well a method finds it.

`metrics` holds the Rey's Ornaments benchmark measures, `heatmaps` the error maps and overlays,
`methods` what a method is to the benchmark, `baselines` the methods the DEA is compared with.
"""

from dea_core.anomaly.heatmaps import ink_darkness, overlay_heatmap, pixel_error_map, ssim_error_map
from dea_core.anomaly.methods import ChangeMethod, ChangeScore
from dea_core.anomaly.metrics import (
    BestIoU,
    ChangeMetrics,
    auroc,
    best_threshold_miou,
    change_metrics,
    pixel_auroc,
)

__all__ = [
    "BestIoU",
    "ChangeMethod",
    "ChangeMetrics",
    "ChangeScore",
    "auroc",
    "best_threshold_miou",
    "change_metrics",
    "ink_darkness",
    "overlay_heatmap",
    "pixel_auroc",
    "pixel_error_map",
    "ssim_error_map",
]
