"""Seconds from launching a process to a shown window: AutoLabelme, the RANSAC GUI, `dea --help`,
beside LabelMe's own window (the peer an archivist already knows).

    .venv/bin/python benchmarks/startup.py [--runs 3]

Each measurement is a fresh Python process (nothing cached in memory but what the operating system
keeps), timed from just before it is started to the moment its window is shown and painted (for
`dea --help`, to the end of the process). Windows are made on Qt's offscreen platform unless
DISPLAY is set; settings and LabelMe's config go to a temporary home folder, so nothing of the
person's changes. Prints a table with the median and the slowest of the runs, and the load.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TARGETS = ("autolabelme", "ransac-gui", "labelme (peer)", "dea --help")


def _show(window) -> None:
    from PyQt5.QtWidgets import QApplication

    window.show()
    app = QApplication.instance()
    while window.windowHandle() is None or not window.windowHandle().isExposed():
        app.processEvents()
    app.processEvents()
    window.repaint()
    print(f"shown {time.time():.6f}", flush=True)


def child(target: str) -> None:
    """Make and show one window, print when it is shown (run in its own process)."""
    from PyQt5.QtCore import QSettings
    from PyQt5.QtWidgets import QApplication

    app = QApplication(sys.argv[:1])
    home = Path(os.environ["HOME"])
    if target == "autolabelme":
        from autolabelme.main_window import MainWindow

        window = MainWindow(QSettings(str(home / "al.ini"), QSettings.IniFormat), home / "autosave")
    elif target == "ransac-gui":
        from ransac_gui.main_window import MainWindow

        window = MainWindow(QSettings(str(home / "ransac.ini"), QSettings.IniFormat))
    else:
        from labelme.app import MainWindow

        window = MainWindow(config_file=None)
    _show(window)
    del app


def measure(target: str, home: Path) -> float:
    env = {**os.environ, "HOME": str(home), "PYTHONPATH": str(ROOT)}
    env.setdefault("QT_QPA_PLATFORM", "offscreen" if not os.environ.get("DISPLAY") else "xcb")
    if target == "dea --help":
        command = [sys.executable, "-m", "dea_core.cli.main", "--help"]
    else:
        command = [sys.executable, __file__, "--child", target.split()[0]]
    started = time.time()
    done = subprocess.run(command, env=env, cwd=ROOT, capture_output=True, text=True, check=True, timeout=300)
    if target == "dea --help":
        return time.time() - started
    shown = next(line for line in done.stdout.splitlines() if line.startswith("shown "))
    return float(shown.split()[1]) - started


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--child", choices=("autolabelme", "ransac-gui", "labelme"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        child(args.child)
        return 0
    with tempfile.TemporaryDirectory() as home:
        times = {target: [measure(target, Path(home)) for _ in range(args.runs)] for target in TARGETS}
    load = os.getloadavg()
    print(f"{time.strftime('%Y-%m-%d %H:%M')} · {os.cpu_count()} CPUs · load {load[0]:.1f} {load[1]:.1f} "
          f"{load[2]:.1f} · {args.runs} runs each")
    print("| program | median s to shown | slowest s |")
    print("|---|---|---|")
    for target, seconds in times.items():
        print(f"| {target} | {statistics.median(seconds):.2f} | {max(seconds):.2f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
