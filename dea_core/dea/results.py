"""A scored page on disk: LabelMe JSON the archivist opens, and the heatmaps as pictures.

Each vignette is a rectangle labelled with its ornament (or "unknown vignette"), with LabelMe's
shape flag `anomaly` (shown as a tick box in LabelMe) and a "dea" record holding the anomaly score,
the threshold it was held against, and the detector's confidence. The heatmaps are 8-bit greys
(255 = the largest error), and the overlay is the page with the pixel heatmap laid over it in colour.
On request the anomaly map itself is saved too, as a float32 NumPy array (H, W) (higher = more
anomalous), for scripts and benchmarks.
"""

from __future__ import annotations

import io
import os
from pathlib import Path
from typing import Final

import numpy as np

from dea_core.anomaly.heatmaps import overlay_heatmap
from dea_core.dea.record import ANOMALY_FLAG, DEA_KEY, full_colour_heat
from dea_core.dea.scoring import ScoredImage
from dea_core.io import LabelFile, Shape, encode_png, new_label_file
from dea_core.io.labelme_json import label_file_text
from dea_core.io.output_plan import OutputPlan

SUFFIXES: Final = {"json": ".scored.json", "heatmap": ".heatmap.png", "ssim": ".ssim-heatmap.png",
                   "overlay": ".overlay.png"}
MAP_SUFFIX: Final = ".anomaly.npy"


def scored_label_file(scored: ScoredImage, image_path: str | os.PathLike[str], width: int, height: int) -> LabelFile:
    """A new LabelMe file for the picture at `image_path` with one rectangle per verdict."""
    shapes = [Shape(label=v.label,
                    points=[[round(v.box[0], 2), round(v.box[1], 2)], [round(v.box[2], 2), round(v.box[3], 2)]],
                    flags={ANOMALY_FLAG: v.anomaly},
                    extra={DEA_KEY: v.record(scored.threshold)})
              for v in scored.verdicts]
    return new_label_file(image_path, width, height, shapes)


def output_paths(out_dir: Path, stem: str, save_map: bool = False) -> dict[str, Path]:
    """Where the results of the picture named `stem` go (with the float map's file when `save_map`)."""
    paths = {kind: out_dir / f"{stem}{suffix}" for kind, suffix in SUFFIXES.items()}
    if save_map:
        paths["map"] = out_dir / f"{stem}{MAP_SUFFIX}"
    return paths


def write_scored(scored: ScoredImage, image: np.ndarray, image_path: Path, out_dir: Path,
                 save_map: bool = False) -> dict[str, Path]:
    """Write the LabelMe file, both heatmaps and the overlay of one picture in `out_dir` (created if
    needed), and with `save_map` the anomaly map as float32 (H, W) `.npy`, all together or none
    (dea_core.io.output_plan); the picture itself is never replaced."""
    paths = output_paths(out_dir, image_path.stem, save_map)
    label_file = scored_label_file(scored, image_path.resolve(), image.shape[1], image.shape[0])
    with OutputPlan([image_path], overwrite=True) as plan:
        for path in paths.values():
            plan.add(path, within=out_dir)
        plan.stage(paths["heatmap"], encode_png(_grey8(scored.heatmap)))
        plan.stage(paths["ssim"], encode_png(_grey8(scored.ssim_heatmap)))
        plan.stage(paths["overlay"], encode_png(overlay_heatmap(image, scored.heatmap,
                                                                 full=full_colour_heat(scored.threshold))))
        if save_map:
            buffer = io.BytesIO()
            np.save(buffer, np.asarray(scored.heatmap, np.float32), allow_pickle=False)
            plan.stage(paths["map"], buffer.getvalue())
        plan.stage(paths["json"], label_file_text(label_file, paths["json"]))
        plan.commit()
    return paths


def _grey8(heatmap: np.ndarray) -> np.ndarray:
    return np.round(np.clip(heatmap, 0.0, 1.0) * 255).astype(np.uint8)
