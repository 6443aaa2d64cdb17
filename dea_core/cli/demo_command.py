"""`dea demo`: match the bundled sample page and write what an archivist would look at."""

from __future__ import annotations

import argparse
from pathlib import Path

from dea_core.cli.commands import command_help
from dea_core.cli.match_command import print_report
from dea_core.cli.progress import ProgressBar
from dea_core.errors import DeaError
from dea_core.matching.job import MatchOutputs, run_match_job
from dea_core.matching.presets import WHOLE_ORNAMENT
from dea_core.paths import SAMPLE_PAGE_JSON

# The sample's headpiece has an upright row and an upside-down row of one fleuron: the search
# AutoLabelme starts with (upright and turned 180, flips, three sizes, the whole page), so the
# demo and the window name and colour each fleuron alike.
DEMO_OPTIONS = WHOLE_ORNAMENT


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "demo", help=command_help("demo"),
        description="Match the bundled sample page (Regnard, La Foire S.-Germain, 1696: a headpiece of "
                    "22 fleurons, half of them upside down) and write the matched LabelMe JSON, a PNG "
                    "overview with the boxes drawn, and the crops.")
    parser.add_argument("-o", "--output-dir", type=Path, default=Path("demo-output"),
                        help="folder for the results (default ./demo-output)")
    parser.add_argument("--overwrite", action="store_true",
                        help="replace the results of an earlier demo in that folder (default: refuse)")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    out = args.output_dir
    if out.exists() and not out.is_dir():
        raise DeaError(f"{out}: is a file; give a folder for the results")
    stem = SAMPLE_PAGE_JSON.stem
    outputs = MatchOutputs(json_path=out / f"{stem}.matched.json", overwrite=args.overwrite,
                           overview_path=out / f"{stem}.overview.png", crops_dir=out / "crops", out_dir=out)
    with ProgressBar("matching the sample page") as bar:
        report = run_match_job(SAMPLE_PAGE_JSON, outputs, DEMO_OPTIONS, progress=bar.update)
    print_report(report)
    print(f"open {outputs.json_path} in LabelMe or AutoLabelme to check the boxes")
    return 0
