"""Generated LabelMe pages holding every ornament's box: detector data for tests and benchmarks.

`dea_core.synth.pages.write_labelme` writes one template box per label (what a user draws for the
matcher); a detector needs them all, as AutoLabelme's matched output has them. Each box keeps its
pose under the shape key "match", as AutoLabelme writes it.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from dea_core.io import Shape, atomic_write_bytes, encode_png, new_label_file, save_label_file
from dea_core.synth.pages import PageSpec, SyntheticPage, generate_page


def write_detection_page(page: SyntheticPage, folder: str | Path, stem: str) -> Path:
    """Write `<stem>.png` and `<stem>.json` with one rectangle per ornament; returns the JSON's path."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    height, width = page.image.shape[:2]
    image_path = folder / f"{stem}.png"
    atomic_write_bytes(image_path, encode_png(page.image))
    shapes = []
    for ornament in page.ornaments:
        x0, y0, x1, y1 = ornament.box
        pose = {"score": 1.0, "rotation": ornament.pose.rotation, "flip": ornament.pose.flip,
                "scale": round(ornament.pose.scale, 4), "template": False}
        shapes.append(Shape(label=ornament.label, points=[[round(x0, 2), round(y0, 2)], [round(x1, 2), round(y1, 2)]],
                            extra={"match": pose}))
    return save_label_file(new_label_file(image_path, width, height, shapes), folder / f"{stem}.json", overwrite=True)


def write_detection_pages(folder: str | Path, count: int, preset: str = "easy", seed: int = 0,
                          width: int = 700, height: int = 1000, prefix: str = "page") -> list[Path]:
    """`count` generated pages (page i from seed [seed, i]) written as detector data."""
    spec = PageSpec.preset(preset, width=width, height=height)
    return [write_detection_page(generate_page(np.random.default_rng([seed, i]), spec), folder, f"{prefix}{i:03d}")
            for i in range(count)]
