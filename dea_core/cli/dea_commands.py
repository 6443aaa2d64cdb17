"""`dea train-dea` and `dea score`: the Detector-Encoder Autoencoder from the command line."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from dea_core.batch import Processed, check_distinct_stems, expand_inputs, run_batch
from dea_core.cli.batch_options import add_batch_arguments, batch_job, finish, print_row
from dea_core.cli.commands import command_help
from dea_core.cli.detection_commands import EXIT_HELP, EXIT_INTERRUPTED
from dea_core.cli.option_types import finite_float
from dea_core.cli.progress import ProgressBar
from dea_core.cli.training_progress import add_run_arguments, run_training
from dea_core.dea.model import DECODERS, DEAConfig
from dea_core.dea.results import output_paths, write_scored
from dea_core.dea.scoring import AnomalyScorer
from dea_core.dea.training import CHECKPOINT_KIND, DEATrainConfig, train_dea
from dea_core.detection.checkpoint import load_checkpoint
from dea_core.detection.device import DEVICES
from dea_core.detection.errors import DatasetError
from dea_core.detection.inference import SCORE_THRESHOLD
from dea_core.io.labelme_json import IMAGE_SUFFIXES
from dea_core.io.pages import page_image_path, read_page
from dea_core.training.distributed import Launch

_TRAIN = DEATrainConfig()


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    add_train_parser(subparsers)
    add_score_parser(subparsers)


# --- dea train-dea -------------------------------------------------------------------------------

TRAIN_DESCRIPTION = """\
Train the Detector-Encoder Autoencoder (DEA) that flags changed or counterfeit vignettes. It
learns to redraw each vignette of the catalogue from what a trained detector (`dea train-detector`)
sees of it; on a page it cannot redraw well, something has changed. Train it on the same dataset
(`dea prepare`) as the detector. At the end, the alarm threshold is set on the validation pages'
genuine vignettes so that only --false-alarms of them would be flagged. DEA.pt is saved after
every epoch and on Ctrl+C; continue with --resume DEA.pt.
"""


def add_train_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "train-dea", help=command_help("train-dea"), description=TRAIN_DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=EXIT_HELP + "\n\nexamples:\n  dea train-dea ornaments-dataset --detector detector.pt -o dea.pt\n"
               "  dea train-dea ornaments-dataset --detector detector.pt -o dea.pt --decoder deconv --epochs 40\n"
               "  dea train-dea ornaments-dataset --resume dea.pt --epochs 60\n")
    parser.add_argument("dataset", type=Path, metavar="DATASET", help="folder written by `dea prepare`")
    parser.add_argument("--detector", type=Path, metavar="DETECTOR.pt",
                        help="trained detector (`dea train-detector`); not needed with --resume")
    parser.add_argument("-o", "--output", type=Path, metavar="DEA.pt", help="model file to write (default: the "
                        "--resume file)")
    parser.add_argument("--decoder", choices=DECODERS, default=DEAConfig().decoder,
                        help="redraw: draws the genuine sort the detector recognised, 128 x 128, laid on the print "
                             "and checked against the trained layouts; fc: redraws each vignette from its features "
                             "as 128 x 128 grey (the DEA paper); deconv: as 64 x 64 colour (the internship report) "
                             f"(default {DEAConfig().decoder})")
    parser.add_argument("--lr", type=finite_float, default=_TRAIN.learning_rate,
                        help=f"learning rate of Adam (default {_TRAIN.learning_rate:g})")
    parser.add_argument("--fine-tune-detector", action="store_true",
                        help="train the detector too, with its own box loss (default: keep it as trained)")
    parser.add_argument("--false-alarms", type=finite_float, default=_TRAIN.false_alarm_rate, metavar="RATE",
                        help=f"share of genuine vignettes allowed to raise an alarm, 0.01 = 1%% (default "
                             f"{_TRAIN.false_alarm_rate:g}); lower it for fewer false alarms and fewer changes found")
    add_run_arguments(parser, _TRAIN.epochs, _TRAIN.batch_size, _TRAIN.seed, "DEA.pt")
    parser.set_defaults(run=run_train_dea)


def run_train_dea(args: argparse.Namespace) -> int:
    def train(output: Path, progress, cancel):
        if args.resume is None and args.detector is None:
            raise DatasetError("give the trained detector with --detector DETECTOR.pt (or --resume DEA.pt)")
        config = DEATrainConfig(epochs=args.epochs, batch_size=args.batch_size, learning_rate=args.lr,
                                fine_tune_detector=args.fine_tune_detector, false_alarm_rate=args.false_alarms,
                                seed=args.seed, device=args.device)
        return train_dea(args.dataset, args.detector, output, DEAConfig(decoder=args.decoder), config,
                         resume=args.resume, progress=progress, cancel=cancel)

    result = run_training(args, _saved_history, train, _saved_total)
    if result is None:
        return EXIT_INTERRUPTED
    calibration = result.calibration
    if Launch.from_environment().rank == 0:
        print(f"alarm threshold {calibration['threshold']:.4f}: {calibration['false_alarm_rate']:.1%} of "
              f"{calibration['vignettes']} genuine vignettes ({calibration['split']} split) above it",
              file=sys.stderr if args.progress == "json" else sys.stdout)
    return 0


def _saved_history(checkpoint: Path) -> list[dict]:
    return load_checkpoint(checkpoint, CHECKPOINT_KIND).get("training", {}).get("history", [])


def _saved_total(checkpoint: Path) -> int:
    return int(load_checkpoint(checkpoint, CHECKPOINT_KIND).get("train_config", {}).get("epochs", _TRAIN.epochs))


# --- dea score -----------------------------------------------------------------------------------

SCORE_DESCRIPTION = """\
Check the vignettes of pages or ornament crops with a trained DEA (`dea train-dea`). For each
picture, in OUT/:
  <name>.scored.json         LabelMe file: one box per vignette, ticked "anomaly" when it looks
                             changed, with its anomaly score; ink no known vignette explains is
                             boxed as "unknown vignette"
  <name>.overlay.png         the picture with the anomaly heatmap over it
  <name>.heatmap.png         where the redrawn vignettes differ from the print (white = most)
  <name>.ssim-heatmap.png    the same by local structure, blind to lighter or heavier inking
  <name>.anomaly.npy         with --save-maps: the anomaly map itself, float32 H x W (higher = more
                             anomalous), for scripts
"""


def add_score_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "score", help=command_help("score"),
        description=SCORE_DESCRIPTION, formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=EXIT_HELP + "\n\nexamples:\n  dea score book/*.jpg --model dea.pt -o verdicts/\n"
               "  dea score scans/ --model dea.pt -o verdicts/ --shard ${SLURM_ARRAY_TASK_ID}/"
               "${SLURM_ARRAY_TASK_COUNT}\n")
    parser.add_argument("pages", nargs="+", type=Path, metavar="PAGE_OR_CROP",
                        help="page images or ornament crops, LabelMe files (their image is used), or folders")
    parser.add_argument("--model", type=Path, required=True, metavar="DEA.pt", help="model file from `dea train-dea`")
    parser.add_argument("-o", "--output", type=Path, required=True, metavar="OUT", help="folder for the results")
    parser.add_argument("--detection-threshold", type=finite_float, default=SCORE_THRESHOLD, metavar="SCORE",
                        help=f"lowest detector score for a vignette to be checked, 0 to 1 (default {SCORE_THRESHOLD})")
    parser.add_argument("--device", choices=DEVICES, default="auto", help="where to run (default auto)")
    parser.add_argument("--save-maps", action="store_true",
                        help="also write each picture's float anomaly map, <name>.anomaly.npy (H x W)")
    add_batch_arguments(parser)
    parser.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    parser.set_defaults(run=run_score)


def run_score(args: argparse.Namespace) -> int:
    if not 0.0 <= args.detection_threshold <= 1.0:
        raise argparse.ArgumentTypeError("--detection-threshold must lie in [0, 1]")
    scorer = AnomalyScorer.from_checkpoint(args.model, args.device)
    pages = expand_inputs(args.pages, IMAGE_SUFFIXES)
    check_distinct_stems(pages)

    def process(page: Path) -> Processed:
        image, image_path = read_page(page)
        with ProgressBar(page.name, enabled=not args.quiet) as bar:
            scored = scorer.score_image(image, progress=bar.update, score_threshold=args.detection_threshold)
        paths = write_scored(scored, image, image_path, args.output, args.save_maps)
        unknown = sum(v.unknown for v in scored.verdicts)
        changed = len(scored.anomalies) - unknown
        print(f"{page}: {len(scored.verdicts) - unknown} vignettes, {changed} look changed, {unknown} unknown; "
              f"wrote {paths['json']}", flush=True)
        return Processed(list(paths.values()), {"vignettes": len(scored.verdicts) - unknown, "changed": changed,
                                                "unknown": unknown})

    def expected(page: Path) -> list[Path]:
        return list(output_paths(args.output, page_image_path(page).stem, args.save_maps).values())

    return finish(run_batch(batch_job("score", args.output, args, (args.model,)), pages, expected, process,
                            on_row=print_row))
