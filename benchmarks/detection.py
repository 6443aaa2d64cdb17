"""Detector: SSD trained with the GIoU and the DIoU box loss on the same generated pages, the report's table.

Run:  nice -n 19 .venv/bin/python benchmarks/detection.py [--pages 30] [--crops 100] [--epochs 12]
          [--losses diou giou] [--backbone light] [--priors ssd300] [--work /tmp/dea-detection-benchmark]
      .venv/bin/python benchmarks/detection.py --speed        (training images per second only)

Pages come from dea_core.synth ("standard" preset, 700 x 1000, every ornament boxed, pose kept);
a fifth of the pages are held out. Each loss trains from scratch with the same seed, data and
schedule; a stopped run resumes from its checkpoint in WORK when started again. AP is computed on
the held-out crops (as the report did) and on the held-out whole pages found by tiled inference.
The table goes to stdout and to benchmarks/detection_results.md with the machine, load and date.
The report's numbers (its own catalogue pages, VGG-16 on a K80) are printed beside for reference.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import time
from pathlib import Path

import numpy as np
import torch

from dea_core.detection.assess import evaluate_on_crops, evaluate_on_pages
from dea_core.detection.checkpoint import load_checkpoint
from dea_core.detection.dataset import MANIFEST, PrepareOptions, load_dataset, prepare_dataset
from dea_core.detection.inference import Detector
from dea_core.detection.losses import multibox_loss
from dea_core.detection.model import SSD, ModelConfig
from dea_core.detection.priors import PriorLayout, make_priors
from dea_core.detection.synthetic import write_detection_pages
from dea_core.detection.training import TrainConfig, train_detector

RESULTS = Path(__file__).with_name("detection_results.md")
TABLE_THRESHOLDS = (0.5, 0.75, 0.8, 0.85, 0.9, 0.95, 0.99)
# Internship report, Table 1 (AP at 0.75 .. 0.99; its catalogue pages, VGG-16 SSD300).
REPORT = {"giou": (0.62, 0.48, 0.288, 0.081, 0.007, 1.25e-5), "diou": (0.647, 0.54, 0.3713, 0.1328, 0.0125, 0.00057)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pages", type=int, default=30)
    parser.add_argument("--preset", default="standard")
    parser.add_argument("--crops", type=int, default=100)
    parser.add_argument("--crop-size", type=int, default=320,
                        help="crop side on the 700 x 1000 pages: the share of the page a 640 crop is of a 3000 x 2000 scan")
    parser.add_argument("--epochs", type=int, default=12)
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--losses", nargs="+", default=["diou", "giou"])
    parser.add_argument("--backbone", default="light")
    parser.add_argument("--priors", default="ssd300")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--work", type=Path, default=Path("/tmp/dea-detection-benchmark"))
    parser.add_argument("--speed", action="store_true", help="only time training steps")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    if args.speed:
        print(speed_table())
        return
    args.work.mkdir(parents=True, exist_ok=True)
    dataset_dir = make_dataset(args)
    results_file = args.work / "results.json"
    results = json.loads(results_file.read_text()) if results_file.exists() else {}
    for loss in args.losses:
        results[loss] = train_and_evaluate(args, dataset_dir, loss)
        results_file.write_text(json.dumps(results, indent=1))
        write_results(args, results)


def make_dataset(args: argparse.Namespace) -> Path:
    pages_dir, dataset_dir = args.work / "pages", args.work / "dataset"
    if not (dataset_dir / MANIFEST).exists():
        started = time.monotonic()
        pages = write_detection_pages(pages_dir, args.pages, preset=args.preset, seed=2024)
        prepare_dataset(pages, dataset_dir, PrepareOptions(crops_per_page=args.crops, crop_size=args.crop_size,
                                                           val_fraction=0.2, seed=0))
        log(f"prepared {args.pages} pages in {time.monotonic() - started:.0f} s")
    dataset = load_dataset(dataset_dir)
    log(f"dataset: {len(dataset.crops['train'])} train crops from {len(dataset.pages['train'])} pages, "
        f"{len(dataset.crops['val'])} val crops from {len(dataset.pages['val'])} pages; "
        f"boxes per class (train) {dataset.boxes_per_class('train')}")
    return dataset_dir


def train_and_evaluate(args: argparse.Namespace, dataset_dir: Path, loss: str) -> dict:
    checkpoint = args.work / f"{loss}.pt"
    config = TrainConfig(epochs=args.epochs, batch_size=args.batch_size, learning_rate=args.lr, loss=loss,
                         seed=0, device="auto")
    resume = None
    if checkpoint.exists():
        if load_checkpoint(checkpoint)["training"]["finished"]:
            log(f"{loss}: already trained")
        resume = checkpoint
    started = time.monotonic()
    last = [0.0]

    def report(progress) -> None:
        if time.monotonic() - last[0] > 60 or progress.step == progress.steps_per_epoch:
            last[0] = time.monotonic()
            log(f"{loss}: epoch {progress.epoch + 1}/{progress.epochs} step {progress.step}/{progress.steps_per_epoch} "
                f"loss {progress.loss:.4f} lr {progress.learning_rate:.0e} eta {progress.eta_s / 60:.0f} min")

    result = train_detector(dataset_dir, checkpoint, config=config, backbone=args.backbone, priors=args.priors,
                            resume=resume, progress=report)
    train_minutes = (time.monotonic() - started) / 60
    detector = Detector.from_checkpoint(checkpoint)
    dataset = load_dataset(dataset_dir)
    crops = evaluate_on_crops(detector, dataset, "val")
    pages = evaluate_on_pages(detector, dataset.pages["val"])
    log(f"{loss}: val crops\n{crops.table(TABLE_THRESHOLDS)}\n{loss}: val pages (tiled)\n{pages.table(TABLE_THRESHOLDS)}")
    return {"crops": crops.to_dict(), "pages": pages.to_dict(), "history": result.state.history,
            "train_minutes_this_session": train_minutes}


def write_results(args: argparse.Namespace, results: dict) -> None:
    load = os.getloadavg()
    lines = [
        "# Detector benchmark: SSD with GIoU vs DIoU box loss (issue 7)",
        "",
        (f"Recorded {datetime.datetime.now():%Y-%m-%d %H:%M} on {platform.node()} ({platform.processor() or platform.machine()}, "
        f"{os.cpu_count()} cores shared with other developers, load {load[0]:.1f}/{load[1]:.1f}/{load[2]:.1f}), "
        f"torch {torch.__version__}, device {'cuda' if torch.cuda.is_available() else 'cpu'}, {args.threads} threads, nice 19."),
        "",
        (f"Data: {args.pages} generated pages (`{args.preset}` preset, 700 x 1000, every ornament boxed), split by page "
        f"4:1; {args.crops} random {args.crop_size} x {args.crop_size} crops per page resized to 300 x 300 (the crop is "
        "to our small pages what 640 is to a 3000 x 2000 scan). Model: "
        f"`{args.backbone}` backbone, `{args.priors}` default boxes, from scratch; Adam lr {args.lr:g} (/10 on a 2% "
        f"plateau), batch {args.batch_size}, {args.epochs} epochs, seed 0, same data and schedule for each loss."),
        "",
        (f"Re-run: `nice -n 19 .venv/bin/python benchmarks/detection.py --pages {args.pages} --crops {args.crops} "
        f"--epochs {args.epochs} --losses {' '.join(results)}`"),
        "",
    ]
    for where, title in (("crops", "held-out crops (as the report)"), ("pages", "held-out whole pages, tiled inference")):
        lines += [f"## AP on {title}", "",
                  "| model | " + " | ".join(f"AP{t:g}" for t in TABLE_THRESHOLDS) + " | COCO mAP@[.5:.95] |",
                  "|---|" + "---|" * (len(TABLE_THRESHOLDS) + 1)]
        for loss, result in results.items():
            mean = result[where]["mean"]
            cells = " | ".join(f"{mean[str(t)]:.4f}" for t in TABLE_THRESHOLDS)
            lines.append(f"| ours, SSD {loss.upper()} | {cells} | {result[where]['coco_map']:.4f} |")
        if where == "crops":
            for loss, values in REPORT.items():
                lines.append(f"| report, SSD {loss.upper()} (its own data) | - | " + " | ".join(f"{v:g}" for v in values) + " | - |")
        lines.append("")
    lines += ["## Training", ""]
    for loss, result in results.items():
        history = result["history"]
        lines.append(f"- {loss}: " + ", ".join(f"e{r['epoch']} {r['loss']:.3f}/{r.get('val_loss', float('nan')):.3f}"
                                                f" (lr {r['learning_rate']:.0e})" for r in history)
                     + f"; {result['train_minutes_this_session']:.0f} min in the last session (train/val loss)")
    # Hand-written notes under "## Notes" survive a rewrite: the tables change, the reading stays.
    previous = RESULTS.read_text() if RESULTS.exists() else ""
    notes = previous[previous.index("\n## Notes"):] if "\n## Notes" in previous else ""
    RESULTS.write_text("\n".join(lines) + "\n" + notes)
    log(f"wrote {RESULTS}")


def speed_table(batch: int = 8) -> str:
    """Images per second of one training step (forward, loss, backward, Adam) on a random batch."""
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    rows = [f"training images/s, batch {batch}, device {device}"]
    generator = torch.Generator().manual_seed(0)
    images = torch.randn(batch, 3, 300, 300, generator=generator).to(device)
    boxes = [torch.tensor([[0.2, 0.2, 0.45, 0.5]], device=device)] * batch
    labels = [torch.tensor([1], device=device)] * batch
    for backbone in ("light", "vgg16"):
        model = SSD(ModelConfig(("a", "b"), backbone, "ssd300")).to(device)
        priors = make_priors(PriorLayout("ssd300")).to(device)
        optimizer = torch.optim.Adam(model.parameters(), 1e-4)

        def step(model=model, priors=priors, optimizer=optimizer) -> None:
            with torch.autocast(device.type, dtype=torch.float16, enabled=device.type == "cuda"):
                offsets, scores = model(images)
            loss, _ = multibox_loss(offsets, scores, priors, boxes, labels, "diou")
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()

        rows.append(f"  ours {backbone:<6} {_rate(step, batch, device):8.1f}")
    try:
        from torchvision.models.detection import ssd300_vgg16
    except Exception as error:  # noqa: BLE001 - any failure means "not available here"
        rows.append(f"  torchvision ssd300_vgg16: not available ({type(error).__name__})")
    else:
        model = ssd300_vgg16(weights=None, weights_backbone=None, num_classes=3).to(device).train()
        optimizer = torch.optim.Adam(model.parameters(), 1e-4)
        targets = [{"boxes": b * 300, "labels": lbl} for b, lbl in zip(boxes, labels)]

        def tv_step() -> None:
            with torch.autocast(device.type, dtype=torch.float16, enabled=device.type == "cuda"):
                losses = model(list(images), targets)
            optimizer.zero_grad()
            sum(losses.values()).backward()
            optimizer.step()

        rows.append(f"  torchvision ssd300_vgg16 {_rate(tv_step, batch, device):8.1f}")
    return "\n".join(rows)


def _rate(step, batch: int, device: torch.device, repeats: int = 5) -> float:
    step()
    if device.type == "cuda":
        torch.cuda.synchronize()
    started = time.perf_counter()
    for _ in range(repeats):
        step()
    if device.type == "cuda":
        torch.cuda.synchronize()
    return batch * repeats / (time.perf_counter() - started)


def log(text: str) -> None:
    print(f"[{datetime.datetime.now():%H:%M:%S}] {text}", flush=True)


if __name__ == "__main__":
    np.seterr(all="ignore")
    main()
