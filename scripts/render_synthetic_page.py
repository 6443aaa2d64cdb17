"""Render one synthetic ornament page and its ground truth, for a person to look at.

Run:  .venv/bin/python scripts/render_synthetic_page.py --seed 1 --preset standard -o /tmp/synth
Writes <stem>.png (the page), <stem>.json (LabelMe: one template box per piece) and
<stem>.truth.json (every placed piece: label, pose, box, quad); with --overlay also
<stem>.overlay.png, the page with every truth quad drawn on it (plain instances in green, the
template boxes in blue, the rest in red, the template's top edge thicker).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import cv2
import numpy as np

from dea_core.io import atomic_write_bytes, encode_png
from dea_core.synth import PRESETS, PageSpec, SyntheticPage, generate_page, write_labelme


def overlay(page: SyntheticPage) -> np.ndarray:
    """The page (H, W, 3) BGR with each truth quad, its pose and the template boxes drawn on it."""
    image = page.image.copy()
    for ornament in page.ornaments:
        colour = (0, 160, 0) if ornament.pose.describe() == "plain" else (0, 0, 220)
        corners = np.round(ornament.quad).astype(np.int32)
        cv2.polylines(image, [corners], True, colour, 1, cv2.LINE_AA)
        cv2.line(image, tuple(corners[0]), tuple(corners[1]), colour, 3, cv2.LINE_AA)
        x0, y0 = int(ornament.box[0]), int(ornament.box[1])
        cv2.putText(image, ornament.pose.describe(), (x0, max(10, y0 - 3)), cv2.FONT_HERSHEY_SIMPLEX, 0.35,
                    colour, 1, cv2.LINE_AA)
    for x0, y0, x1, y1 in page.templates.values():
        cv2.rectangle(image, (int(x0) - 2, int(y0) - 2), (int(np.ceil(x1)) + 2, int(np.ceil(y1)) + 2),
                      (220, 90, 0), 2)
    return image


def main(argv: list[str] | None = None) -> Path:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--preset", choices=PRESETS, default="standard")
    parser.add_argument("-o", "--output", type=Path, default=Path("synthetic-pages"))
    parser.add_argument("--stem", help="file name without extension (default: <preset>_seed<seed>)")
    parser.add_argument("--size", help="page size WIDTHxHEIGHT, up to 2000x2800 (default: the preset's)")
    parser.add_argument("--overlay", action="store_true", help="also write <stem>.overlay.png with the truth")
    args = parser.parse_args(argv)
    changes = {}
    if args.size:
        width, height = (int(v) for v in args.size.lower().split("x"))
        changes = {"width": width, "height": height}
    page = generate_page(np.random.default_rng(args.seed), PageSpec.preset(args.preset, **changes))
    stem = args.stem or f"{args.preset}_seed{args.seed}"
    path = write_labelme(page, args.output, stem)
    if args.overlay:
        atomic_write_bytes(args.output / f"{stem}.overlay.png", encode_png(overlay(page)))
    labels = {o.label: sum(p.label == o.label for p in page.ornaments) for o in page.ornaments}
    height, width = page.image.shape[:2]
    print(f"{path.with_suffix('.png')}: {width}x{height}, {len(page.ornaments)} ornaments")
    for label, count in labels.items():
        print(f"  {label}: {count}")
    return path


if __name__ == "__main__":
    main()
