"""`dea match`: find every occurrence of each template box of a LabelMe page."""

from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path

from dea_core.batch import Processed, check_distinct_stems, expand_inputs, prepare_folder, run_batch
from dea_core.cli.batch_options import add_batch_arguments, batch_job, finish, print_row
from dea_core.cli.commands import command_help
from dea_core.cli.option_types import finite_float
from dea_core.cli.progress import ProgressBar
from dea_core.matching.job import MatchOutputs, MatchReport, run_match_job
from dea_core.matching.matcher import AUTO_RANGE, MatchOptions
from dea_core.matching.poses import rotation_range, scale_steps
from dea_core.matching.search_region import DEFAULT_NEIGHBOURHOOD

# Bounds on the search a command line may ask for: one angle per degree, and sizes finer than any
# scan's ornaments differ by; more would run for days without finding more.
MAX_ROTATIONS = 360
MAX_SCALES = 100

# Files the suite writes beside pages; a folder of pages may hold them, and they are not pages.
DERIVED_JSON = (".matched.json", ".label_notes.json", ".detected.json", ".aligned.json", ".truth.json")

DESCRIPTION = """\
Find every occurrence of each ornament whose template box is drawn in PAGE.json (one box per
label, as in LabelMe), including rotated, mirrored, flipped and rescaled ones, and write a
LabelMe JSON with one shape per match. A label such as "0 This is a Sun" is label "0" with the
note "This is a Sun": the note goes into each shape's description and into OUT.label_notes.json.

With several pages, a folder of pages or --shard, OUT is a folder: each PAGE.json gives
OUT/PAGE.matched.json (and, with --overview DIR, DIR/PAGE.overview.png); pages whose results exist
are skipped unless --overwrite, a page that fails is reported and the others go on, and
OUT/summary-shard-K-of-N.csv lists every page with its status and matches per label.
"""

EPILOG = """\
exit status: 0 done; 1 bad input or options (the message says which file and why; nothing is
written), or with several pages one of them failed; 2 wrong command line; 130 interrupted.

examples:
  dea match page.json -o page.matched.json --rotations 0,90,180,270 --flip --scales 0.8:1.25:5 \\
      --neighbourhood page --save-crops crops/
  dea match pages/ -o matched/ --flip --shard 3/10
"""


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("match", help=command_help("match"), description=DESCRIPTION,
                                   epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("pages", type=Path, nargs="+", metavar="PAGE.json|FOLDER",
                        help="LabelMe file with one box per ornament type; or several, or folders of them")
    parser.add_argument("-o", "--output", type=Path, required=True, metavar="OUT.json|OUT",
                        help="matched LabelMe file; with several pages, the folder for the results")
    parser.add_argument("--labels", nargs="+", metavar="LABEL", help="match only these labels (default: all)")
    parser.add_argument("--threshold", type=_unit_interval,
                        help="lowest NCC score kept, 0 to 1 (default: automatic for each template's size, "
                             f"from {AUTO_RANGE[0]} for large ornaments to {AUTO_RANGE[1]} for tiny ones)")
    turn = parser.add_mutually_exclusive_group()
    turn.add_argument("--rotations", type=_angle_list, metavar="A,B,...",
                      help="angles to try, degrees counter-clockwise, e.g. 0,90,180,270 (default 0)")
    turn.add_argument("--rotation-range", type=finite_float, nargs="+", metavar=("MIN", "MAX"),
                      help="the original tool's rule: MIN alone is that one angle; MIN MAX every 5 degrees")
    parser.add_argument("--flip", action="store_true", help="also search mirrored and upside-down occurrences")
    parser.add_argument("--scales", type=_scale_spec, default=(1.0,), metavar="MIN:MAX:N",
                        help="N scales from MIN to MAX, e.g. 0.8:1.25:5 (default 1)")
    parser.add_argument("--neighbourhood", type=_neighbourhood, default=DEFAULT_NEIGHBOURHOOD, metavar="S|page",
                        help="where to look: S template heights above and below the box (S <= 15), "
                             f"S pixels (S > 15), or 'page' for the whole page (default {DEFAULT_NEIGHBOURHOOD:g})")
    parser.add_argument("--save-crops", type=Path, metavar="DIR",
                        help="also save each match, turned back into its template's pose, in DIR/<label>/")
    parser.add_argument("--overview", type=Path, metavar="PNG|DIR",
                        help="also save the page with the matches drawn (with several pages: a folder)")
    parser.add_argument("--polygon", action="store_true",
                        help="write oblique matches as polygons (for LabelMe older than 6.2)")
    add_batch_arguments(parser)
    parser.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    parser.set_defaults(run=run)


def options_from_args(args: argparse.Namespace) -> MatchOptions:
    """Search options from parsed arguments."""
    if args.rotation_range:
        if len(args.rotation_range) > 2:
            raise argparse.ArgumentTypeError("--rotation-range takes MIN or MIN MAX")
        if len(args.rotation_range) == 2 and abs(args.rotation_range[1] - args.rotation_range[0]) / 5 >= MAX_ROTATIONS:
            raise argparse.ArgumentTypeError(f"--rotation-range {args.rotation_range[0]:g} {args.rotation_range[1]:g}: "
                                             f"more than {MAX_ROTATIONS} angles; a range of at most 360 degrees")
        rotations = rotation_range(args.rotation_range[0], (args.rotation_range[1:] or [None])[0])
    else:
        rotations = args.rotations or (0.0,)
    return MatchOptions(threshold=args.threshold, rotations=rotations, flip=args.flip, scales=args.scales,
                        neighbourhood=args.neighbourhood)


def run(args: argparse.Namespace) -> int:
    options = options_from_args(args)
    if len(args.pages) > 1 or args.pages[0].is_dir() or args.shard is not None:
        return run_pages(args, options)
    outputs = MatchOutputs(json_path=args.output, overwrite=args.overwrite, polygon=args.polygon,
                           crops_dir=args.save_crops, overview_path=args.overview)
    with ProgressBar("matching", enabled=not args.quiet) as bar:
        report = run_match_job(args.pages[0], outputs, options, args.labels, progress=bar.update)
    print_report(report)
    return 0


def run_pages(args: argparse.Namespace, options: MatchOptions) -> int:
    """Match many pages (a shard of them) into the folder OUT, skipping those already matched."""
    pages = expand_inputs(args.pages, (".json",), DERIVED_JSON)
    check_distinct_stems(pages)
    if args.overview is not None:
        prepare_folder(args.overview)

    def process(page: Path) -> Processed:
        json_path, overview = page_outputs(page, args.output, args.overview)
        outputs = MatchOutputs(json_path=json_path, overwrite=True, polygon=args.polygon,
                               crops_dir=args.save_crops, overview_path=overview)
        with ProgressBar(page.name, enabled=not args.quiet) as bar:
            report = run_match_job(page, outputs, options, args.labels, progress=bar.update)
        print(f"{page}:")
        print_report(report)
        return Processed(report.written, match_numbers(report))

    def expected(page: Path) -> list[Path]:
        return [path for path in page_outputs(page, args.output, args.overview) if path is not None]

    return finish(run_batch(batch_job("match", args.output, args), pages, expected, process, on_row=print_row))


def page_outputs(page: Path, out_dir: Path, overview_dir: Path | None) -> tuple[Path, Path | None]:
    """Where a page's matched JSON and overview (None: not asked) go in a run over many pages."""
    overview = overview_dir / f"{page.stem}.overview.png" if overview_dir is not None else None
    return out_dir / f"{page.stem}.matched.json", overview


def match_numbers(report: MatchReport) -> dict[str, int]:
    """The summary's numbers for a page: matches in all and per label, and crops saved."""
    counts = report.counts()
    numbers = {"matches": sum(counts.values()), **{f"matches {label}": n for label, n in counts.items()}}
    if report.crops:
        numbers["crops"] = len(report.crops)
    return numbers


def print_report(report: MatchReport) -> None:
    """One line per label, then the files written."""
    for label, count in report.counts().items():
        note = report.notes.get(label)
        threshold = report.results[label].threshold
        print(f"{label}: {count} match{'es' if count != 1 else ''} at threshold {threshold:.2f}"
              + (f"  ({note})" if note else ""))
    for path in report.written:
        print(f"wrote {path}")
    if report.crops:
        print(f"wrote {len(report.crops)} crops under {report.crops[0].parent.parent}")
    sys.stdout.flush()


def _unit_interval(text: str) -> float:
    try:
        value = float(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(f"'{text}' is not a number") from error
    if not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError(f"{text} is not between 0 and 1")
    return value


def _angle_list(text: str) -> tuple[float, ...]:
    parts = [part for part in text.split(",") if part.strip()]
    if not parts:
        raise argparse.ArgumentTypeError("give at least one angle, e.g. 0,90,180,270")
    if len(parts) > MAX_ROTATIONS:
        raise argparse.ArgumentTypeError(f"more than {MAX_ROTATIONS} angles in --rotations")
    return tuple(finite_float(part) % 360.0 for part in parts)


def _scale_spec(text: str) -> tuple[float, ...]:
    parts = text.split(":")
    try:
        if len(parts) == 1:
            values = (float(parts[0]),)
        elif len(parts) == 3:
            if not 1 <= int(parts[2]) <= MAX_SCALES:
                raise argparse.ArgumentTypeError(f"'{text}': N must be from 1 to {MAX_SCALES}")
            values = scale_steps(float(parts[0]), float(parts[1]), int(parts[2]))
        else:
            raise ValueError
    except ValueError as error:
        raise argparse.ArgumentTypeError(f"'{text[:40]}' is not SCALE or MIN:MAX:N (e.g. 0.8:1.25:5)") from error
    if not all(math.isfinite(value) for value in values) or min(values) <= 0.05 or max(values) > 20:
        raise argparse.ArgumentTypeError(f"scales in '{text}' must lie between 0.05 and 20")
    return values


def _neighbourhood(text: str) -> float | None:
    if text.strip().lower() == "page":
        return None
    try:
        value = float(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(f"'{text[:40]}' is not a number or 'page'") from error
    if not 0 < value < 1e7:
        raise argparse.ArgumentTypeError("the neighbourhood must be a positive number of template heights or "
                                         "pixels, or 'page'")
    return value
