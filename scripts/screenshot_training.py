"""Train a tiny detector from AutoLabelme's Training menu and grab the training panel mid-run.

    xvfb-run -a .venv/bin/python scripts/screenshot_training.py [-o OUT_DIR]

Writes, in OUT_DIR: training-dialog.png (Training > Train Detector, filled in) and
training-panel.png (the window while the training runs in its own process: epoch, loss curve,
time left, validation). Generated pages, the dataset and the model go to a temporary folder and
the window gets its own settings, so nothing of the user's changes; the training is stopped at the end.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from PyQt5.QtCore import QSettings
from PyQt5.QtWidgets import QApplication
from screenshot_support import output_folder, pause, wait_until

from autolabelme.main_window import MainWindow
from autolabelme.training_dialogs import TrainDetectorDialog
from dea_core.detection.dataset import PrepareOptions, prepare_dataset
from dea_core.detection.synthetic import write_detection_pages

EPOCHS = 8
EPOCHS_SHOWN = 3  # grab once this many epochs are done


def main(argv: list[str] | None = None) -> int:
    output_dir = output_folder(__doc__.splitlines()[0], argv)
    app = QApplication.instance() or QApplication(sys.argv[:1])
    with tempfile.TemporaryDirectory() as temp:
        temp = Path(temp)
        pages = write_detection_pages(temp / "pages", 3, seed=7)
        prepare_dataset(pages, temp / "dataset", PrepareOptions(crops_per_page=6, val_fraction=0.34))
        window = MainWindow(QSettings(str(temp / "settings.ini"), QSettings.IniFormat), temp / "autosave")
        window.resize(1400, 900)
        window.show()
        window.open_folder(temp / "pages")
        dialog = TrainDetectorDialog(window.settings.qsettings, window)
        dialog.dataset.edit.setText(str(temp / "dataset"))
        dialog.model.edit.setText(str(temp / "detector.pt"))
        dialog.backbone.setCurrentIndex(dialog.backbone.findData("light"))
        dialog.priors.setCurrentIndex(dialog.priors.findData("fast"))
        dialog.epochs.setValue(EPOCHS)
        dialog.batch.setValue(2)
        dialog.show()
        pause(app, 0.3)
        dialog_png = output_dir / "training-dialog.png"
        dialog.grab().save(str(dialog_png))
        dialog.close()
        window.start_training(dialog.spec())
        panel = window.training_panel
        wait_until(app, lambda: len(panel.curve.epochs) >= EPOCHS_SHOWN and len(panel.curve.steps) > EPOCHS_SHOWN * 4,
                   seconds=600)
        pause(app, 0.3)
        panel_png = output_dir / "training-panel.png"
        window.grab().save(str(panel_png))
        window.stop_training()
        wait_until(app, lambda: not window.training.is_running(), seconds=120)
        print(panel.message.text())
        window.close()
    print(f"wrote {dialog_png} and {panel_png}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
