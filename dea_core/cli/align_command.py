"""`dea align`: align page scans or ornament crops to a reference, to the pixel (RANSAC-Flow style)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

import numpy as np

from dea_core.alignment.errors import AlignmentCancelled
from dea_core.alignment.job import (
    check_labels_fit,
    check_outputs,
    folder_inputs,
    output_names,
    pair_files,
    summary_entry,
    write_pair,
    write_set,
    write_summary,
)
from dea_core.alignment.pipeline import AlignOptions, PairAlignment, PairOutcome, align_batch
from dea_core.batch import BatchError, Processed, ordered_inputs, run_batch
from dea_core.cli.batch_options import add_batch_arguments, batch_job, finish, print_row
from dea_core.cli.commands import command_help
from dea_core.cli.progress import ProgressBar
from dea_core.io.images import read_image
from dea_core.io.labelme_json import load_label_file

DESCRIPTION = """\
Align each SOURCE picture to the REFERENCE: SIFT matches and several MAGSAC homographies, then a
fine flow (DIS optical flow both ways, kept where the reference shows ink and the two agree,
filled smoothly from there onto blank paper). Writes into OUTDIR, per source, <stem>.aligned.png
and <stem>.confidence.png (white: trusted; yellow: interpolated, not measured), with --save-mapping
<stem>.mapping.npy (float32 H x W x 2: for each reference pixel its x, y in the source), with
--labels the reference's LabelMe boxes carried onto each source (<stem>.json); for the set,
average.png, difference.png (red: ink only in the reference, blue: only in a source), overlay.gif
and summary.json / summary.csv (SSIM before and after, share of matchable pixels).

Sources whose results exist are skipped unless --overwrite, so a rerun resumes; OUTDIR also gets
summary-shard-K-of-N.csv (1-of-1 without --shard). With --shard K/N only every N-th source is
aligned, and the pictures of the whole set (average, difference, overlay, summary.json/.csv) are
left out, as they are whenever sources were skipped: they need every source aligned in one run.
"""

EPILOG = """\
exit status: 0 every source aligned; 1 a source failed (each failure has its own line, the others
are written) or bad input; 2 wrong command line; 130 interrupted.

examples:
  dea align --reference REF.png --source SRC.jpg -o OUT --save-mapping
  dea align --folder scans/ -o aligned/        (the last picture in name order is the reference)
  dea align --folder scans/ -o aligned/ --shard 2/8    (the second of eight shares of the sources)
"""


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("align", help=command_help("align"),
                                   description=DESCRIPTION, epilog=EPILOG,
                                   formatter_class=argparse.RawDescriptionHelpFormatter)
    inputs = parser.add_mutually_exclusive_group(required=True)
    inputs.add_argument("--reference", type=Path, metavar="REF", help="the picture the others are aligned to")
    inputs.add_argument("--folder", type=Path, metavar="DIR",
                        help="align every picture of DIR to the last one in name order")
    parser.add_argument("--source", type=Path, nargs="+", metavar="SRC", help="pictures to align (with --reference)")
    parser.add_argument("-o", "--output", type=Path, required=True, metavar="OUTDIR", help="folder for the results")
    parser.add_argument("--save-mapping", action="store_true", help="also save each dense mapping as .npy")
    parser.add_argument("--labels", type=Path, metavar="REF.json",
                        help="LabelMe file drawn on the reference: carry its shapes onto each source")
    parser.add_argument("--coarse-only", action="store_true", help="homographies only, no fine flow (faster)")
    add_batch_arguments(parser)
    parser.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    reference, sources = _inputs(args)
    options = AlignOptions(fine=None) if args.coarse_only else AlignOptions()
    reference_image = read_image(reference)
    labels = load_label_file(args.labels) if args.labels is not None else None
    if labels is not None:
        check_labels_fit(labels, reference_image.shape, reference)
    names = dict(zip(ordered_inputs(sources), output_names(ordered_inputs(sources))))
    inputs = [reference, *sources, *([args.labels] if labels is not None else [])]
    check_outputs(args.output, list(names.values()), inputs, args.save_mapping, labels is not None)
    outcomes: dict[Path, tuple[PairOutcome, dict[str, Any]]] = {}

    def expected(source: Path) -> list[Path]:
        return pair_files(args.output / names[source], args.save_mapping, labels is not None)

    def process(source: Path) -> Processed:
        with ProgressBar(source.name, enabled=not args.quiet) as bar:
            outcome = align_batch(reference_image, [(str(source), source)], options, progress=bar.update)[0]
        files = write_pair(outcome, source, args.output / names[source], labels, args.save_mapping, inputs=inputs)
        outcomes[source] = outcome, summary_entry(outcome, source, files)
        if outcome.alignment is None:
            raise BatchError(str(outcome.error))
        print_alignment(outcome.name, outcome.alignment)
        return Processed(files, {**outcome.alignment.quality.as_dict(), "seconds": round(outcome.alignment.seconds, 2)})

    try:
        result = run_batch(batch_job("align", args.output, args), sources, expected, process, on_row=print_row)
    except AlignmentCancelled as error:
        print(f"dea: {error}", file=sys.stderr)
        return 130
    if len(outcomes) == len(names):
        _write_set_products(reference, reference_image, [outcomes[p] for p in dict.fromkeys(p.resolve() for p in sources)],
                            args.output, inputs)
    else:
        print("average, difference, overlay and summary.json not written: they need every source aligned in one run")
    return finish(result)


def _inputs(args: argparse.Namespace) -> tuple[Path, list[Path]]:
    if args.folder is not None:
        if args.source:
            raise argparse.ArgumentTypeError("--source goes with --reference, not with --folder")
        return folder_inputs(args.folder)
    if not args.source:
        raise argparse.ArgumentTypeError("--reference needs at least one --source")
    return args.reference, args.source


def _write_set_products(reference: Path, image: np.ndarray, done: list[tuple[PairOutcome, dict[str, Any]]],
                        out_dir: Path, inputs: list[Path]) -> None:
    """The set's pictures and alignment summary, in the order the sources were given."""
    written = write_set(image, [outcome for outcome, _ in done], out_dir, inputs=inputs)
    written += write_summary(reference, image.shape, [entry for _, entry in done], out_dir, inputs=inputs)
    print(f"wrote {', '.join(path.name for path in written)} in {out_dir}")


def print_alignment(name: str, alignment: PairAlignment) -> None:
    """One line for an aligned source: its quality."""
    q = alignment.quality
    coarse = ("dense fallback (features unreliable)" if q.dense_coarse
              else f"{q.homographies} homograph{'y' if q.homographies == 1 else 'ies'}")
    print(f"{name}: aligned, SSIM {q.ssim_before:.2f} -> {q.ssim_after:.2f}, "
          f"{q.matchable_share:.0%} matchable, {coarse}, {alignment.seconds:.1f} s", flush=True)
