"""`dea align`: align page scans or ornament crops to a reference, to the pixel (RANSAC-Flow style)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from dea_core.alignment.errors import AlignmentCancelled
from dea_core.alignment.job import AlignReport, folder_inputs, run_align_job
from dea_core.alignment.pipeline import AlignOptions
from dea_core.cli.progress import ProgressBar

DESCRIPTION = """\
Align each SOURCE picture to the REFERENCE: SIFT matches and several MAGSAC homographies, then a
smooth fine flow found by optimizing SSIM with cycle consistency. Writes into OUTDIR, per source,
<stem>.aligned.png and <stem>.confidence.png (white: trusted), with --save-mapping
<stem>.mapping.npy (float32 H x W x 2: for each reference pixel its x, y in the source), with
--labels the reference's LabelMe boxes carried onto each source (<stem>.json); for the set,
average.png, difference.png (red: ink only in the reference, blue: only in a source), overlay.gif
and summary.json / summary.csv (SSIM before and after, share of matchable pixels).
"""

EPILOG = """\
exit status: 0 every source aligned; 1 a source failed (each failure has its own line, the others
are written) or bad input; 2 wrong command line; 130 interrupted.

examples:
  dea align --reference REF.png --source SRC.jpg -o OUT --save-mapping
  dea align --folder scans/ -o aligned/        (the last picture in name order is the reference)
"""


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("align", help="align scans or ornament crops to a reference",
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
    parser.add_argument("--device", choices=("auto", "cpu", "cuda"), default="auto",
                        help="where the fine flow runs: auto uses CUDA when torch sees it (default auto)")
    parser.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    if args.folder is not None:
        if args.source:
            raise argparse.ArgumentTypeError("--source goes with --reference, not with --folder")
        reference, sources = folder_inputs(args.folder)
    else:
        if not args.source:
            raise argparse.ArgumentTypeError("--reference needs at least one --source")
        reference, sources = args.reference, args.source
    options = AlignOptions(device=args.device, fine=None) if args.coarse_only else AlignOptions(device=args.device)
    try:
        with ProgressBar("aligning", enabled=not args.quiet) as bar:
            report = run_align_job(reference, sources, args.output, options, save_mapping=args.save_mapping,
                                   labels_path=args.labels, progress=bar.update)
    except AlignmentCancelled as error:
        print(f"dea: {error}", file=sys.stderr)
        return 130
    print_report(report)
    return 1 if report.failures else 0


def print_report(report: AlignReport) -> None:
    """One line per source: its quality, or why it failed (on stderr)."""
    for outcome in report.outcomes:
        if outcome.alignment is None:
            print(f"dea: failed: {outcome.error}", file=sys.stderr)
            continue
        q = outcome.alignment.quality
        print(f"{outcome.name}: aligned, SSIM {q.ssim_before:.2f} -> {q.ssim_after:.2f}, "
              f"{q.matchable_share:.0%} matchable, {q.homographies} homograph{'y' if q.homographies == 1 else 'ies'}, "
              f"{outcome.alignment.seconds:.1f} s")
    print(f"wrote {len(report.written)} files in {report.written[-1].parent}" if report.written else "wrote nothing")
    sys.stdout.flush()
    sys.stderr.flush()
