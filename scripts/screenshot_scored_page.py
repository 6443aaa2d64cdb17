"""Score a changed headpiece with a trained DEA in AutoLabelme and grab the window.

    xvfb-run -a .venv/bin/python scripts/screenshot_scored_page.py --model DEA.pt [-o OUT_DIR]
        [--kind replaced] [--seed 7]

A headpiece of dea_core.synth.composed (design 0, the design the change benchmark trains on) with
one change of --kind is written to a temporary folder as a picture and LabelMe file, opened in
AutoLabelme and checked with the DEA as Training > Score This Page does; OUT_DIR/scored-page.png
shows the window with the heatmap and the flagged vignettes.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import numpy as np
from PyQt5.QtCore import QSettings
from PyQt5.QtWidgets import QApplication
from screenshot_support import pause

from autolabelme.anomaly_review import PageScores
from autolabelme.main_window import MainWindow
from dea_core.dea.scoring import AnomalyScorer
from dea_core.synth.composed import CHANGE_KINDS, generate_sample, standard_designs, write_change_set


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, required=True, help="DEA.pt from `dea train-dea`")
    parser.add_argument("-o", "--output-dir", type=Path, default=Path("demo-output"))
    parser.add_argument("--kind", choices=CHANGE_KINDS, default="replaced")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)
    args.output_dir.mkdir(parents=True, exist_ok=True)
    app = QApplication.instance() or QApplication(sys.argv[:1])
    sample = generate_sample(np.random.default_rng(args.seed), standard_designs()[0], args.kind)
    with tempfile.TemporaryDirectory() as temp:
        temp = Path(temp)
        write_change_set(temp, [sample])
        window = MainWindow(QSettings(str(temp / "settings.ini"), QSettings.IniFormat), temp / "autosave")
        window.resize(1200, 560)
        window.show()
        if not window.open_path(next(temp.glob("0000_*.json"))):
            return 1
        scored = AnomalyScorer.from_checkpoint(args.model, "cpu").score_image(sample.image)
        window.apply_scores(PageScores.from_scored(scored, str(args.model)))
        pause(app, 0.3)
        out = args.output_dir / "scored-page.png"
        window.grab().save(str(out))
        window.undo_stack.setClean()
        window.close()
    flagged = [v.label for v in scored.verdicts if v.anomaly]
    print(f"{args.kind}: {len(scored.verdicts)} vignettes, flagged {flagged}; wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
