"""Change localisation on composed headpieces: the DEA's comparison methods side by side, same sets, same run.

Run:  .venv/bin/python benchmarks/dea_changes.py [--sets real generated] [--train 160] [--test-genuine 60]
          [--test-changed 120] [--design 0] [--seed 0] [--work /tmp/dea_changes] [--methods NAME ...]
          [--ae-epochs 30] [--crops 4] [--detector-epochs 12] [--dea-epochs 10] [--dea-lr 1e-3]
Two sets, the real one first: "real" (benchmarks/real_vignettes.py: six designs of real vignettes
cut from the shared scans, seven change kinds, test vignettes other occurrences than the training
ones) and "generated" (one design of dea_core.synth.composed, six change kinds). Each is written to
WORK/<set>/train and WORK/<set>/test with write_change_set (PNG, masks, LabelMe files with poses:
what the DEA's detector trains from). The whole-picture baselines compare a headpiece with the
genuine printings of its own design (pictures of one design share their size). Every
method fits on the training pictures and scores each test picture. Prints the Rey's Ornaments
measures (dea_core.anomaly.metrics), fit and scoring time, and each change kind's image AUROC
against the genuine test pictures, with the machine, load and date. Heat-map overlays of a few test
pictures go to WORK/overlays/<method>/.

To add a method, add a factory to METHODS: it gets the Context (where the sets are on disk, the seed
and the options) and returns a dea_core.anomaly.methods.ChangeMethod.
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import torch
from dea_method import DEAMethod
from real_vignettes import REAL_KINDS, known_sorts, real_change_set

from dea_core.anomaly.baselines import ConvAutoencoder, MeanOfAligned, MeanOfGenuine, default_alignment
from dea_core.anomaly.heatmaps import overlay_heatmap
from dea_core.anomaly.methods import ChangeMethod, ChangeScore
from dea_core.anomaly.metrics import ChangeMetrics, auroc, change_metrics, pixel_auroc
from dea_core.io import atomic_write_bytes, encode_png
from dea_core.synth.composed import (
    CATALOGUE,
    CHANGE_KINDS,
    GENUINE,
    ChangeSample,
    generate_change_set,
    standard_designs,
    write_change_set,
)


@dataclass(frozen=True)
class Context:
    """What a method factory may use: the sets as written on disk (LabelMe files included), seed, options."""

    train_folder: Path
    test_folder: Path
    seed: int
    options: argparse.Namespace
    set_name: str


class PerDesign:
    """A whole-picture method fitted once per design (pictures of one design share their size)."""

    def __init__(self, factory: Callable[[], ChangeMethod]) -> None:
        self.factory, self.methods = factory, {}
        self.name = factory().name

    def fit(self, genuine_images: list[np.ndarray]) -> None:
        for shape in {image.shape for image in genuine_images}:
            self.methods[shape] = self.factory()
            self.methods[shape].fit([image for image in genuine_images if image.shape == shape])

    def score(self, image: np.ndarray) -> ChangeScore:
        return self.methods[image.shape].score(image)


METHODS: dict[str, Callable[[Context], ChangeMethod]] = {
    "naive mean of genuine": lambda c: PerDesign(MeanOfGenuine),
    "mean of aligned (coarse + fine)": lambda c: PerDesign(lambda: MeanOfAligned(
        default_alignment(fine=True), name="mean of aligned (coarse + fine)")),
    "conv autoencoder": lambda c: ConvAutoencoder(epochs=c.options.ae_epochs, seed=c.seed),
    "DEA (deconv decoder)": lambda c: DEAMethod("deconv", c.train_folder, c.options.work / c.set_name / "dea",
                                                c.options, c.seed),
    "DEA (fc decoder)": lambda c: DEAMethod("fc", c.train_folder, c.options.work / c.set_name / "dea", c.options,
                                            c.seed),
    "DEA (redraw decoder)": lambda c: DEAMethod("redraw", c.train_folder, c.options.work / c.set_name / "dea",
                                                c.options, c.seed),
}


@dataclass
class Outcome:
    """One method's scores on the test set and its timings."""

    scores: list[ChangeScore]
    fit_seconds: float
    score_seconds: float  # per picture

    def metrics(self, test: list[ChangeSample]) -> ChangeMetrics:
        return change_metrics([s.pixel for s in self.scores], [s.image for s in self.scores], [t.mask for t in test])

    def kind_pixel_auroc(self, test: list[ChangeSample], kind: str) -> float:
        chosen = [(s.pixel, t.mask) for s, t in zip(self.scores, test) if t.kind in (kind, GENUINE)]
        return pixel_auroc([c[0] for c in chosen], [c[1] for c in chosen])

    def kind_auroc(self, test: list[ChangeSample], kind: str) -> float:
        chosen = [(s.image, t.kind == kind) for s, t in zip(self.scores, test) if t.kind in (kind, GENUINE)]
        return auroc(np.array([c[0] for c in chosen]), np.array([c[1] for c in chosen]))


def make_sets(args: argparse.Namespace, name: str) -> tuple[list[ChangeSample], list[ChangeSample], list[str]]:
    """The training and test sets `name` ("real" or "generated"), written under args.work/name, seeded by
    args.seed; and the change kinds."""
    train_rng, test_rng = np.random.default_rng(args.seed).spawn(2)
    if name == "real":
        train = real_change_set(train_rng, "train", args.train, 0)
        test = real_change_set(test_rng, "test", args.test_genuine, args.test_changed)
        known, kinds = known_sorts(), list(REAL_KINDS)
    else:
        design = standard_designs()[args.design]
        train = generate_change_set(train_rng, args.train, 0, [design])
        test = generate_change_set(test_rng, args.test_genuine, args.test_changed, [design])
        known, kinds = list(CATALOGUE), list(CHANGE_KINDS)
    write_change_set(args.work / name / "train", train, known)
    write_change_set(args.work / name / "test", test, known)
    return train, test, kinds


def run_method(method: ChangeMethod, train: list[ChangeSample], test: list[ChangeSample]) -> Outcome:
    started = time.perf_counter()
    method.fit([s.image for s in train])
    fitted = time.perf_counter()
    scores = [method.score(s.image) for s in test]
    return Outcome(scores, fitted - started, (time.perf_counter() - fitted) / len(test))


def save_overlays(folder: Path, outcome: Outcome, test: list[ChangeSample]) -> None:
    """The first test picture of each kind with its heat map (scaled by the set's highest score) over it."""
    folder.mkdir(parents=True, exist_ok=True)
    top = max(float(s.pixel.max()) for s in outcome.scores) or 1.0
    firsts = {t.kind: i for i, t in reversed(list(enumerate(test)))}
    for kind, index in firsts.items():
        image = overlay_heatmap(test[index].image, outcome.scores[index].pixel / top)
        contours, _ = cv2.findContours(test[index].mask.astype(np.uint8), cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
        cv2.drawContours(image, contours, -1, (255, 160, 0), 1)
        atomic_write_bytes(folder / f"{index:04d}_{kind}.png", encode_png(image))


def print_tables(outcomes: dict[str, Outcome], test: list[ChangeSample], kinds: list[str]) -> None:
    print("| method | mIoU C | mIoU CU | pixel AUROC | image AUROC | fit s | score s/image |")
    print("|---|---|---|---|---|---|---|")
    for name, outcome in outcomes.items():
        m = outcome.metrics(test)
        print(f"| {name} | {m.miou_changed:.3f} | {m.miou_all:.3f} | {m.pixel_auroc:.3f} | {m.image_auroc:.3f} | "
              f"{outcome.fit_seconds:.1f} | {outcome.score_seconds:.3f} |")
    print("\nimage AUROC of each change kind against the genuine test pictures:\n")
    print("| method | " + " | ".join(kinds) + " |")
    print("|---|" + "---|" * len(kinds))
    for name, outcome in outcomes.items():
        print(f"| {name} | " + " | ".join(f"{outcome.kind_auroc(test, k):.3f}" for k in kinds) + " |")
    print("\npixel AUROC of each change kind (its changed pictures and the genuine ones):\n")
    print("| method | " + " | ".join(kinds) + " |")
    print("|---|" + "---|" * len(kinds))
    for name, outcome in outcomes.items():
        print(f"| {name} | " + " | ".join(f"{outcome.kind_pixel_auroc(test, k):.3f}" for k in kinds) + " |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sets", nargs="+", choices=("real", "generated"), default=["real", "generated"])
    parser.add_argument("--train", type=int, default=160, help="genuine training pictures")
    parser.add_argument("--test-genuine", type=int, default=60)
    parser.add_argument("--test-changed", type=int, default=120, help="spread evenly over the change kinds")
    parser.add_argument("--design", type=int, default=0, help="generated set: index into standard_designs()")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--work", type=Path, default=Path("/tmp/dea_changes"))
    parser.add_argument("--methods", nargs="+", choices=list(METHODS), default=list(METHODS))
    parser.add_argument("--ae-epochs", type=int, default=30)
    parser.add_argument("--crops", type=int, default=4, help="DEA: crops per training picture for its dataset")
    parser.add_argument("--detector-epochs", type=int, default=12, help="DEA: epochs of its detector")
    parser.add_argument("--dea-epochs", type=int, default=10, help="DEA: epochs of each seed decoder")
    parser.add_argument("--redraw-epochs", type=int, default=30, help="DEA: epochs of the redraw decoder")
    parser.add_argument("--dea-lr", type=float, default=1e-3, help="DEA: learning rate of its seed decoders")
    parser.add_argument("--threads", type=int, default=2, help="torch CPU threads")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    for name in args.sets:
        load_before = os.getloadavg()[0]
        train, test, kinds = make_sets(args, name)
        context = Context(args.work / name / "train", args.work / name / "test", args.seed, args, name)
        outcomes = {}
        for method in args.methods:
            outcomes[method] = run_method(METHODS[method](context), train, test)
            save_overlays(args.work / name / "overlays" / re.sub(r"\W+", "_", method).strip("_"), outcomes[method], test)
            print(f"  {name}: {method}: fitted in {outcomes[method].fit_seconds:.1f} s", flush=True)
        kinds = [k for k in kinds if any(t.kind == k for t in test)]
        print(f"\n## {name} set\n\n{datetime.datetime.now():%Y-%m-%d %H:%M}, {platform.node()}, "
              f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, torch {torch.__version__} "
              f"({args.threads} threads), OpenCV {cv2.__version__}; load average {load_before:.2f} before, "
              f"{os.getloadavg()[0]:.2f} after; {len(train)} genuine for training, {args.test_genuine} genuine + "
              f"{args.test_changed} changed for test ({', '.join(kinds)}), seed {args.seed}, autoencoder "
              f"{args.ae_epochs} epochs, detector {args.detector_epochs}, seed decoders {args.dea_epochs}, redraw "
              f"decoder {args.redraw_epochs}\n", flush=True)
        print_tables(outcomes, test, kinds)


if __name__ == "__main__":
    main()
