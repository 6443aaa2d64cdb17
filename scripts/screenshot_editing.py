"""Screenshots of what a new user meets: the default match on the sample and on Cinna's four-row
headpiece, edit mode with its handles, the Files and Boxes lists, and the RANSAC side-by-side view.

    xvfb-run -a .venv/bin/python scripts/screenshot_editing.py [-o OUT_DIR]

Writes, in OUT_DIR: autolabelme-default-sample.png, autolabelme-default-cinna.png (needs
../shared/data/pages/1643_corneille_cinna_btv1b8610802d_f11.jpg; skipped without it),
autolabelme-edit-mode.png, autolabelme-lists.png and ransac-gui-side-by-side.png. Pages are copied
to a temporary folder and each window gets its own settings, so nothing of the user's changes.
"""

from __future__ import annotations

import shutil
import sys
import tempfile
from pathlib import Path

from PyQt5.QtCore import QRectF, QSettings, Qt
from PyQt5.QtWidgets import QApplication
from screenshot_support import output_folder, pause, wait_until

from autolabelme import commands
from autolabelme.main_window import MainWindow
from autolabelme.testing import copy_sample
from ransac_gui.main_window import SAMPLE_PAIR
from ransac_gui.main_window import MainWindow as RansacWindow

CINNA = Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "pages" / \
    "1643_corneille_cinna_btv1b8610802d_f11.jpg"
# One upright fleur of Cinna's top row, as a person would box it.
CINNA_TEMPLATE = (263.0, 285.0, 318.0, 336.0)


def _window(app: QApplication, temp: Path, name: str) -> MainWindow:
    window = MainWindow(QSettings(str(temp / f"{name}.ini"), QSettings.IniFormat), temp / f"{name}-autosave")
    window.resize(1500, 940)
    window.show()
    pause(app, 0.3)
    return window


def _match(app: QApplication, window: MainWindow) -> None:
    window.act.rematch.trigger()
    wait_until(app, lambda: not window.is_busy())
    pause(app, 0.3)


def _zoom_on(window: MainWindow, boxes: list[tuple[float, float, float, float]], margin: float = 20) -> None:
    x0 = min(b[0] for b in boxes) - margin
    y0 = min(b[1] for b in boxes) - margin
    x1 = max(b[2] for b in boxes) + margin
    y1 = max(b[3] for b in boxes) + margin
    window.page_view.fitInView(QRectF(x0, y0, x1 - x0, y1 - y0), Qt.KeepAspectRatio)
    window.page_view._fit_mode = False
    window.page_view._zoomed()


def main(argv: list[str] | None = None) -> int:
    output_dir = output_folder(__doc__.splitlines()[0], argv)
    app = QApplication.instance() or QApplication(sys.argv[:1])
    with tempfile.TemporaryDirectory() as temp:
        temp = Path(temp)
        book = temp / "book"
        page = copy_sample(book, "p1_regnard1696_f11")
        copy_sample(temp / "spare", "p2_regnard1696_f11")
        shutil.copy(temp / "spare" / "p2_regnard1696_f11.jpg", book / "p2_regnard1696_f11.jpg")

        window = _window(app, temp, "sample")
        window.open_path(page)
        _match(app, window)
        print("sample:", window.statusBar().currentMessage())
        window.grab().save(str(output_dir / "autolabelme-default-sample.png"))

        entry = window.current_entry()
        window.act.edit_mode.trigger()
        lower = next(item for item in entry.shown() if item.match.pose.rotation == 180)
        key = ("match", entry.label, lower.key)
        window.page_view.select(key)
        window._update_actions()
        _zoom_on(window, [*(item.match.box for item in entry.shown()[:6]), lower.match.box], 30)
        pause(app, 0.3)
        window.grab().save(str(output_dir / "autolabelme-edit-mode.png"))
        window.undo_stack.setClean()
        window.close()

        window = _window(app, temp, "lists")
        window.open_folder(book)
        _match(app, window)
        window.shape_list.label_item("1").child(3).setSelected(True)
        pause(app, 0.3)
        window.grab().save(str(output_dir / "autolabelme-lists.png"))
        window.undo_stack.setClean()
        window.document.recovered = False
        window.close()

        if CINNA.is_file():
            window = _window(app, temp, "cinna")
            shutil.copy(CINNA, temp / CINNA.name)
            window.open_path(temp / CINNA.name)
            window._push(commands.add_template(window._review(), "1", "fleur of the top row", CINNA_TEMPLATE,
                                               window.apply_review))
            _match(app, window)
            print("cinna:", window.statusBar().currentMessage())
            window.grab().save(str(output_dir / "autolabelme-default-cinna.png"))
            window.undo_stack.setClean()
            window.document.recovered = False
            window.close()

        ransac = RansacWindow(QSettings(str(temp / "ransac.ini"), QSettings.IniFormat))
        ransac.resize(1400, 860)
        ransac.show()
        pause(app, 0.3)
        ransac.open_folder(SAMPLE_PAIR)
        ransac.start_alignment()
        wait_until(app, lambda: not ransac.is_busy())
        ransac.compare.set_mode("side")
        pause(app, 0.4)
        ransac.grab().save(str(output_dir / "ransac-gui-side-by-side.png"))
        ransac.compare.set_mode("overlay")
        pause(app, 0.4)
        ransac.grab().save(str(output_dir / "ransac-gui-overlay.png"))
        ransac.unsaved = False
        ransac.close()
    print(f"wrote the screenshots in {output_dir}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
