"""Open the AutoLabelme window on the bundled sample page, match its fleuron, save screenshots.

    xvfb-run -a .venv/bin/python scripts/screenshot_autolabelme.py [-o OUT_DIR]

Writes, in OUT_DIR: autolabelme-empty.png (the window as it starts), autolabelme-opened.png (the
page just opened), autolabelme.png (the whole page matched) and autolabelme-zoomed.png (zoomed on
the headpiece, one match selected). The sample is
copied to a temporary folder and the window gets its own settings, so nothing of the user's changes.
"""

from __future__ import annotations

import shutil
import sys
import tempfile
import time
from pathlib import Path

from PyQt5.QtCore import QRectF, QSettings, Qt
from PyQt5.QtWidgets import QApplication
from screenshot_support import output_folder, pause, wait_until

from autolabelme.main_window import MainWindow
from autolabelme.search_settings import SearchSettings
from dea_core.paths import SAMPLE_PAGE_JSON

# The demo's search: every right angle, both flips, five sizes, the whole page.
DEMO_SEARCH = SearchSettings(rotation_min=0, rotation_max=270, rotation_step=90, flip=True, whole_page=True,
                             scale_min=0.8, scale_max=1.25, scale_count=5)


def main(argv: list[str] | None = None) -> int:
    output_dir = output_folder(__doc__.splitlines()[0], argv)
    app = QApplication.instance() or QApplication(sys.argv[:1])
    with tempfile.TemporaryDirectory() as temp:
        temp = Path(temp)
        for name in (SAMPLE_PAGE_JSON.name, SAMPLE_PAGE_JSON.with_suffix(".jpg").name):
            shutil.copy(SAMPLE_PAGE_JSON.parent / name, temp / name)
        window = MainWindow(QSettings(str(temp / "settings.ini"), QSettings.IniFormat), temp / "autosave")
        window.resize(1400, 900)
        window.show()
        app.processEvents()
        empty = output_dir / "autolabelme-empty.png"
        window.grab().save(str(empty))
        window.controls.set_search_settings(DEMO_SEARCH)
        if not window.open_path(temp / SAMPLE_PAGE_JSON.name):
            return 1
        app.processEvents()
        opened = output_dir / "autolabelme-opened.png"
        window.grab().save(str(opened))
        started = time.perf_counter()
        window.rematch()
        wait_until(app, lambda: not window.is_busy())
        print(f"matched in {time.perf_counter() - started:.2f} s: {window.current_entry().count()} boxes")
        pause(app, 0.2)
        whole = output_dir / "autolabelme.png"
        window.grab().save(str(whole))

        entry = window.current_entry()
        boxes = [item.match.box for item in entry.shown()]
        x0 = min(b[0] for b in boxes)
        y0 = min(b[1] for b in boxes)
        x1 = max(b[2] for b in boxes)
        y1 = max(b[3] for b in boxes)
        window.page_view.fitInView(QRectF(x0 - 20, y0 - 20, x1 - x0 + 40, y1 - y0 + 40), Qt.KeepAspectRatio)
        window.page_view._fit_mode = False
        window.page_view._zoomed()
        flipped = next((item for item in entry.shown() if item.match.pose.flip != "none"
                        or item.match.pose.rotation), entry.shown()[0])
        key = ("match", entry.label, flipped.key)
        window.page_view.select(key)
        window._show_box(key)
        app.processEvents()
        zoomed = output_dir / "autolabelme-zoomed.png"
        window.grab().save(str(zoomed))
        window.undo_stack.setClean()
        window.close()
    print(f"wrote {empty}, {opened}, {whole} and {zoomed}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
