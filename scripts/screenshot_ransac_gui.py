"""Open the RANSAC window on the bundled sample pair, align it, save screenshots of the compare views.

    xvfb-run -a .venv/bin/python scripts/screenshot_ransac_gui.py [-o OUT_DIR]

Writes, in OUT_DIR: ransac-gui-empty.png (the window as it starts), ransac-gui-overlay.png (the
overlay view after aligning the pair), ransac-gui-overlay-zoomed.png (the same, zoomed on the left
end piece) and ransac-gui-difference.png. The window gets its own settings, so nothing of the
user's changes; the pair is read where it is (resources/sample_pair) and nothing is saved.
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

from PyQt5.QtCore import QRectF, QSettings, Qt
from PyQt5.QtWidgets import QApplication
from screenshot_support import output_folder, pause, wait_until

from ransac_gui.main_window import SAMPLE_PAIR, MainWindow


def main(argv: list[str] | None = None) -> int:
    output_dir = output_folder(__doc__.splitlines()[0], argv)
    app = QApplication.instance() or QApplication(sys.argv[:1])
    with tempfile.TemporaryDirectory() as temp:
        window = MainWindow(QSettings(str(Path(temp) / "settings.ini"), QSettings.IniFormat))
        window.resize(1400, 860)
        window.show()
        pause(app, 0.2)
        window.grab().save(str(output_dir / "ransac-gui-empty.png"))
        if not window.open_folder(SAMPLE_PAIR):
            return 1
        started = time.perf_counter()
        window.start_alignment()
        wait_until(app, lambda: not window.is_busy())
        print(f"aligned in {time.perf_counter() - started:.2f} s: "
              + "; ".join(f"{s.path.name}: {s.describe()}" for s in window.scans.sources))
        window.compare.set_mode("overlay")
        pause(app, 0.3)
        overlay = output_dir / "ransac-gui-overlay.png"
        window.grab().save(str(overlay))
        view = window.compare.right_view
        view.fitInView(QRectF(0, 0, 220, 157), Qt.KeepAspectRatio)
        view.auto_fit = False
        view.view_changed.emit()
        pause(app, 0.2)
        window.grab().save(str(output_dir / "ransac-gui-overlay-zoomed.png"))
        window.compare.set_mode("difference")
        window.compare.right_view.fit()
        pause(app, 0.2)
        window.grab().save(str(output_dir / "ransac-gui-difference.png"))
        window.unsaved = False
        window.close()
        print(f"wrote {overlay} and its neighbours")
    return 0


if __name__ == "__main__":
    sys.exit(main())
