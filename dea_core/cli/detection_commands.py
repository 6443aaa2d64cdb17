"""`dea prepare`, `dea train-detector`, `dea detect`, `dea evaluate`: the ornament detector."""

from __future__ import annotations

import argparse
import contextlib
import json
from pathlib import Path

from dea_core.batch import Processed, check_distinct_stems, expand_inputs, run_batch
from dea_core.cli.batch_options import add_batch_arguments, batch_job, finish, print_row
from dea_core.cli.commands import command_help
from dea_core.cli.option_types import MAX_SEED, finite_float, int_range
from dea_core.cli.progress import ProgressBar
from dea_core.cli.training_progress import add_run_arguments, run_training
from dea_core.detection.assess import evaluate_on_crops, evaluate_on_pages
from dea_core.detection.checkpoint import load_checkpoint
from dea_core.detection.dataset import MANIFEST, PrepareOptions, load_dataset, prepare_dataset
from dea_core.detection.device import DEVICES
from dea_core.detection.errors import DatasetError
from dea_core.detection.inference import SCORE_THRESHOLD, TILE_OVERLAP, Detector
from dea_core.detection.losses import LOSS_KINDS
from dea_core.detection.model import BACKBONES
from dea_core.detection.priors import LAYOUTS
from dea_core.detection.results import write_detections
from dea_core.detection.training import TrainConfig, train_detector
from dea_core.detection.vignette_pages import write_vignette_pages
from dea_core.errors import DeaError
from dea_core.io.labelme_json import IMAGE_SUFFIXES
from dea_core.io.output_plan import OutputPlan
from dea_core.io.pages import page_image_path, read_page

EXIT_INTERRUPTED = 130
_DEFAULTS = PrepareOptions()
_TRAIN = TrainConfig()
EXIT_HELP = "exit status: 0 done; 1 bad input or options (one line says which file and why); 2 wrong command " \
        "line; 130 interrupted."


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    """All four detector commands."""
    add_prepare_parser(subparsers)
    add_train_parser(subparsers)
    add_detect_parser(subparsers)
    add_evaluate_parser(subparsers)


# --- dea prepare ---------------------------------------------------------------------------------

PREPARE_DESCRIPTION = """\
Turn LabelMe pages whose ornaments are all boxed (AutoLabelme's output, checked in LabelMe) into
training pictures for the detector. Each page is cut into random square crops at the detector's
scale; a box is kept when most of it lies inside the crop. Whole pages, not crops, are set aside
for validation, so the detector is scored on pages it never saw. The folder also gets the boxes in
COCO JSON (coco_train.json, coco_val.json) and YOLO text (labels/, classes.txt, data.yaml).
Each label is a class; turned or mirrored occurrences stay in their label's class.
"""


def add_prepare_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "prepare", help=command_help("prepare"),
        description=PREPARE_DESCRIPTION, formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=EXIT_HELP + "\n\nexample:\n  dea prepare matched/*.json -o ornaments-dataset --crops 100\n")
    parser.add_argument("pages", nargs="*", type=Path, metavar="PAGE.json|FOLDER",
                        help="LabelMe files, or folders whose .json files are all used")
    parser.add_argument("-o", "--output", type=Path, required=True, metavar="DATASET",
                        help="folder to write the dataset into (created if missing)")
    parser.add_argument("--vignettes", type=Path, action="append", default=[], metavar="CROPS",
                        help="also learn from a folder of vignette crops, one subfolder per label (what `dea "
                             "match --save-crops` and AutoLabelme's Save Images write); the crops of each source "
                             "page are set on a page of their own in DATASET/vignette-pages (repeatable)")
    parser.add_argument("--crops", type=int_range(1, 10_000), default=_DEFAULTS.crops_per_page, metavar="N",
                        help=f"random crops cut from each page (default {_DEFAULTS.crops_per_page})")
    parser.add_argument("--crop-size", type=int_range(32, 20_000), default=_DEFAULTS.crop_size, metavar="PIXELS",
                        help="side of a crop on the page, in the page's pixels; choose it so an ornament fills "
                             f"a tenth to a half of it (default {_DEFAULTS.crop_size}, for ~3000 x 2000 scans)")
    parser.add_argument("--size", type=int_range(32, 4096), default=_DEFAULTS.image_size, metavar="PIXELS",
                        help=f"side of the saved pictures, the detector's input (default {_DEFAULTS.image_size})")
    parser.add_argument("--min-visible", type=finite_float, default=_DEFAULTS.min_visible, metavar="SHARE",
                        help="keep a box cut by the crop's edge when at least this share of it is inside "
                             f"(default {_DEFAULTS.min_visible})")
    parser.add_argument("--val-fraction", type=finite_float, default=_DEFAULTS.val_fraction, metavar="SHARE",
                        help=f"share of the pages kept for validation (default {_DEFAULTS.val_fraction}; "
                             "at least one page when there are two or more)")
    parser.add_argument("--labels", nargs="+", metavar="LABEL", help="use only these labels (default: all)")
    parser.add_argument("--seed", type=int_range(0, MAX_SEED), default=_DEFAULTS.seed, help="same seed, same crops and split (default 0)")
    parser.add_argument("--overwrite", action="store_true", help="replace a dataset already in the folder")
    parser.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    parser.set_defaults(run=run_prepare)


def run_prepare(args: argparse.Namespace) -> int:
    options = PrepareOptions(crops_per_page=args.crops, crop_size=args.crop_size, image_size=args.size,
                             min_visible=args.min_visible, val_fraction=args.val_fraction, seed=args.seed)
    if not args.pages and not args.vignettes:
        raise DatasetError("give LabelMe pages, folders of them, or --vignettes CROPS")
    if (args.output / MANIFEST).exists() and not args.overwrite:
        raise DatasetError(f"{args.output}: already holds a prepared dataset; choose another folder or pass --overwrite")
    pages = _label_files(args.pages) if args.pages else []
    for crops in args.vignettes:
        pages += write_vignette_pages(crops, args.output / "vignette-pages" / crops.resolve().name)
    with ProgressBar("cutting crops", enabled=not args.quiet) as bar:
        dataset = prepare_dataset(pages, args.output, options, args.labels, args.overwrite, progress=bar.update)
    for split in ("train", "val"):
        counts = dataset.boxes_per_class(split)
        print(f"{split}: {len(dataset.pages[split])} pages, {len(dataset.crops[split])} crops, "
              f"{sum(counts.values())} boxes")
    for label, count in dataset.boxes_per_class("train").items():
        print(f"  {label}: {count} boxes in training crops")
    print(f"wrote {args.output / MANIFEST} (and COCO, YOLO files)")
    return 0


def _label_files(paths: list[Path]) -> list[Path]:
    files = []
    for path in paths:
        if path.is_dir():
            files += sorted(p for p in path.glob("*.json")
                            if not p.name.endswith((".label_notes.json", ".truth.json")))
        else:
            files.append(path)
    if not files:
        raise DatasetError(f"{paths[0]}: no LabelMe .json files found")
    return files


# --- dea train-detector --------------------------------------------------------------------------

TRAIN_DESCRIPTION = """\
Train the ornament detector (SSD300) on a dataset made by `dea prepare`. It runs on the GPU when
PyTorch sees one (with mixed precision), otherwise on the CPU, where the light backbone is
advisable. MODEL.pt is saved after every epoch and when you interrupt with Ctrl+C; continue
later with --resume MODEL.pt (it takes up exactly where it stopped). Nothing is downloaded: the
network starts from random weights unless you give a VGG-16 weights file.
"""


def add_train_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "train-detector", help=command_help("train-detector"),
        description=TRAIN_DESCRIPTION, formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=EXIT_HELP + "\n\nexamples:\n  dea train-detector ornaments-dataset -o detector.pt --loss diou --epochs 40\n"
               "  dea train-detector ornaments-dataset -o detector.pt --resume detector.pt --epochs 60\n")
    parser.add_argument("dataset", type=Path, metavar="DATASET", help="folder written by `dea prepare`")
    parser.add_argument("-o", "--output", type=Path, metavar="MODEL.pt",
                        help="model file to write (default: the --resume file)")
    parser.add_argument("--loss", choices=LOSS_KINDS, default=_TRAIN.loss,
                        help="how box errors are measured: smooth_l1 on offsets (the original SSD) or an IoU loss "
                             f"on the boxes; diou gives the tightest boxes in the report (default {_TRAIN.loss})")
    parser.add_argument("--alpha", type=finite_float, default=_TRAIN.alpha,
                        help=f"weight of the box loss beside the class loss (default {_TRAIN.alpha:g})")
    parser.add_argument("--lr", type=finite_float, default=_TRAIN.learning_rate,
                        help=f"starting learning rate of Adam (default {_TRAIN.learning_rate:g}); divided by 10 "
                             "when the loss stops dropping by 2%%")
    parser.add_argument("--backbone", choices=BACKBONES, default="vgg16",
                        help="vgg16: the SSD300 of the report (best with a GPU); light: about 20 times less "
                             "computation, for CPU-only machines (default vgg16)")
    parser.add_argument("--priors", choices=LAYOUTS, default="ssd300",
                        help="default boxes: ssd300 = 8732 boxes of several shapes; fast = the report's 1940, one "
                             "per cell, quicker to train when ornaments never overlap (default ssd300)")
    parser.add_argument("--vgg-weights", type=Path, metavar="FILE",
                        help="start the vgg16 backbone from these ImageNet weights (a torchvision vgg16 "
                             "state_dict, or the SSD ports' vgg16_reducedfc.pth)")
    parser.add_argument("--no-mirror", action="store_true",
                        help="do not mirror crops left-right while training (mirroring is on by default: a "
                             "mirrored ornament keeps its class)")
    parser.add_argument("--workers", type=int_range(0, 64), default=0, help="processes loading crops (default 0: none)")
    add_run_arguments(parser, _TRAIN.epochs, _TRAIN.batch_size, _TRAIN.seed, "MODEL.pt")
    parser.set_defaults(run=run_train)


def run_train(args: argparse.Namespace) -> int:
    def train(output: Path, progress, cancel):
        config = TrainConfig(epochs=args.epochs, batch_size=args.batch_size, learning_rate=args.lr, loss=args.loss,
                             alpha=args.alpha, seed=args.seed, mirror=not args.no_mirror, device=args.device,
                             workers=args.workers)
        return train_detector(args.dataset, output, config=config, backbone=args.backbone, priors=args.priors,
                              vgg_weights=args.vgg_weights, resume=args.resume, progress=progress, cancel=cancel)

    return EXIT_INTERRUPTED if run_training(args, _saved_history, train, _saved_total) is None else 0


def _saved_history(checkpoint: Path) -> list[dict]:
    """The per-epoch records saved in a detector checkpoint."""
    return load_checkpoint(checkpoint).get("training", {}).get("history", [])


def _saved_total(checkpoint: Path) -> int:
    """The total of epochs a saved detector run was asked for."""
    return int(load_checkpoint(checkpoint).get("train_config", {}).get("epochs", _TRAIN.epochs))


# --- dea detect ----------------------------------------------------------------------------------

DETECT_DESCRIPTION = """\
Find the ornaments a trained detector knows on whole pages. A page is read in overlapping squares
the size of the training crops, so ornaments appear at the size the detector learnt; boxes found
twice where squares overlap are merged. For each page, OUT/<page>.detected.json is written: a
LabelMe file with one box per ornament and its score (under "detection"), to check in LabelMe.
Pages whose result exists are skipped unless --overwrite, so a rerun resumes; a page that fails is
reported and the others go on (exit status 1 at the end). OUT/summary-shard-K-of-N.csv lists every
page with its status and detections per label; with --shard K/N only every N-th page is done.
"""


def add_detect_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "detect", help=command_help("detect"), description=DETECT_DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=EXIT_HELP + " A page that fails gives exit status 1 once the others are done.\n\nexamples:\n"
               "  dea detect detector.pt scans/*.jpg -o found/ --threshold 0.6\n"
               "  dea detect detector.pt scans/ -o found/ --shard ${SLURM_ARRAY_TASK_ID}/${SLURM_ARRAY_TASK_COUNT}\n")
    parser.add_argument("model", type=Path, metavar="MODEL.pt", help="model file from `dea train-detector`")
    parser.add_argument("pages", nargs="+", type=Path, metavar="PAGE|FOLDER",
                        help="page images (jpg, png, tif ...) or LabelMe files (their image is used), or folders "
                             "whose images are all used")
    parser.add_argument("-o", "--output", type=Path, required=True, metavar="OUT", help="folder for the results")
    parser.add_argument("--threshold", type=finite_float, default=SCORE_THRESHOLD,
                        help=f"lowest score kept, 0 to 1 (default {SCORE_THRESHOLD}); lower finds more, with "
                             "more false boxes")
    parser.add_argument("--overlap", type=finite_float, default=TILE_OVERLAP,
                        help=f"how much neighbouring squares overlap, as a share of their side (default "
                             f"{TILE_OVERLAP}); raise it if large ornaments are cut in two")
    parser.add_argument("--device", choices=DEVICES, default="auto", help="where to run (default auto)")
    add_batch_arguments(parser)
    parser.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    parser.set_defaults(run=run_detect)


def run_detect(args: argparse.Namespace) -> int:
    if not 0.0 <= args.threshold <= 1.0 or not 0.0 <= args.overlap < 0.9:
        raise argparse.ArgumentTypeError("--threshold must lie in [0, 1] and --overlap in [0, 0.9)")
    detector = Detector.from_checkpoint(args.model, args.device)
    pages = expand_inputs(args.pages, IMAGE_SUFFIXES)
    check_distinct_stems(pages)

    def process(page: Path) -> Processed:
        image, image_path = read_page(page)
        with ProgressBar(page.name, enabled=not args.quiet) as bar:
            found = detector.detect_page(image, args.threshold, args.overlap, progress=bar.update)
        out = _detections_path(page, args.output)
        write_detections(found, image_path.resolve(), image.shape[1], image.shape[0], out, overwrite=True)
        counts: dict[str, int] = {}
        for detection in found:
            counts[detection.label] = counts.get(detection.label, 0) + 1
        summary = ", ".join(f"{label} {count}" for label, count in sorted(counts.items())) or "nothing found"
        print(f"{page}: {summary}; wrote {out}", flush=True)
        return Processed([out], {"detections": len(found), **{f"detections {k}": n for k, n in counts.items()}})

    def expected(page: Path) -> list[Path]:
        return [_detections_path(page, args.output)]

    return finish(run_batch(batch_job("detect", args.output, args, (args.model,)), pages, expected, process,
                            on_row=print_row))


def _detections_path(page: Path, out_dir: Path) -> Path:
    """OUT/<image stem>.detected.json; a LabelMe page is named after its image."""
    return out_dir / f"{page_image_path(page).stem}.detected.json"


# --- dea evaluate --------------------------------------------------------------------------------

EVALUATE_DESCRIPTION = """\
Score a trained detector: average precision (AP) of each ornament class, and their mean, at box
overlaps (IoU) of 0.5, 0.75, 0.8, 0.85, 0.9, 0.95 and 0.99 (the internship report's table: the
higher ones say how tight the boxes are), and COCO's mAP@[.5:.95]. Give a dataset folder to score
the crops of its validation pages, or LabelMe files to score whole pages found as `dea detect` does.
"""


def add_evaluate_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "evaluate", help=command_help("evaluate"), description=EVALUATE_DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=EXIT_HELP + "\n\nexamples:\n  dea evaluate detector.pt ornaments-dataset\n"
               "  dea evaluate detector.pt checked/*.json --json scores.json\n")
    parser.add_argument("model", type=Path, metavar="MODEL.pt", help="model file from `dea train-detector`")
    parser.add_argument("data", nargs="+", type=Path, metavar="DATASET|PAGE.json",
                        help="a folder from `dea prepare`, or LabelMe files with every ornament boxed")
    parser.add_argument("--split", choices=("val", "train"), default="val",
                        help="which crops of a dataset to score (default val, pages kept out of training)")
    parser.add_argument("--pages", action="store_true",
                        help="with a dataset: score the split's whole pages instead of its crops")
    parser.add_argument("--json", type=Path, metavar="OUT.json", help="also save the numbers as JSON")
    parser.add_argument("--overwrite", action="store_true", help="replace OUT.json if it exists")
    parser.add_argument("--device", choices=DEVICES, default="auto", help="where to run (default auto)")
    parser.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    parser.set_defaults(run=run_evaluate)


def run_evaluate(args: argparse.Namespace) -> int:
    plan = OutputPlan([args.model, *args.data], overwrite=args.overwrite)
    if args.json is not None:
        for path in args.data:
            if path.is_dir():
                plan.add_input(path / MANIFEST)
            elif path.suffix.lower() == ".json":
                with contextlib.suppress(DeaError):
                    plan.add_input(page_image_path(path))
        plan.add(args.json)
    detector = Detector.from_checkpoint(args.model, args.device)
    with ProgressBar("evaluating", enabled=not args.quiet) as bar:
        if len(args.data) == 1 and args.data[0].is_dir():
            dataset = load_dataset(args.data[0])
            if args.pages:
                report = evaluate_on_pages(detector, dataset.pages[args.split], progress=bar.update)
            else:
                report = evaluate_on_crops(detector, dataset, args.split, progress=bar.update)
        else:
            report = evaluate_on_pages(detector, _label_files(args.data), progress=bar.update)
    print(report.table())
    if args.json is not None:
        with plan:
            plan.stage(args.json, json.dumps(report.to_dict(), indent=1) + "\n")
            plan.commit()
        print(f"wrote {args.json}")
    return 0
