import os
import subprocess
import sys
from pathlib import Path

from PyQt5.QtCore import QSettings

from autolabelme.app import MainWindow as AutoLabelmeWindow
from ransac_gui.app import MainWindow as RansacWindow


def test_autolabelme_window_opens_with_its_menus(qtbot, tmp_path):
    window = AutoLabelmeWindow(QSettings(str(tmp_path / "settings.ini"), QSettings.IniFormat), tmp_path / "autosave")
    qtbot.addWidget(window)
    window.show()
    qtbot.waitExposed(window)
    titles = [a.text() for a in window.menuBar().actions()]
    assert window.windowTitle() == "AutoLabelme"
    assert titles == ["&File", "&Edit", "&Match", "&View", "&Training", "&Help"]
    assert window.document is None and not window.act.save_json.isEnabled()


def test_ransac_window_opens_the_folder_it_was_given(qtbot, tmp_path):
    sample = Path(__file__).resolve().parents[2] / "resources" / "sample_pair"
    window = RansacWindow(QSettings(str(tmp_path / "ransac.ini"), QSettings.IniFormat), sample)
    qtbot.addWidget(window)
    assert window.windowTitle() == f"RANSAC GUI - {sample}"
    assert window.scans.reference.name == "tragiques1616_f85_headpiece.jpg"
    assert [s.path.name for s in window.scans.sources] == ["tragiques1616_f39_headpiece.jpg"]
    assert window.start_action.isEnabled()


def test_neither_window_loads_torch_to_open(tmp_path):
    """torch takes seconds to load: the windows load it only when a feature needs it."""
    script = (
        "import sys\n"
        "from PyQt5.QtCore import QSettings\n"
        "from PyQt5.QtWidgets import QApplication\n"
        "app = QApplication([])\n"
        "from autolabelme.app import MainWindow as A\n"
        "from ransac_gui.app import MainWindow as R\n"
        f"a = A(QSettings(r'{tmp_path}/a.ini', QSettings.IniFormat), __import__('pathlib').Path(r'{tmp_path}/auto'))\n"
        f"r = R(QSettings(r'{tmp_path}/r.ini', QSettings.IniFormat))\n"
        "print('torch' in sys.modules)\n"
    )
    done = subprocess.run([sys.executable, "-c", script], check=False, capture_output=True, text=True, timeout=120,
                          env={**os.environ, "QT_QPA_PLATFORM": "offscreen"}, cwd=Path(__file__).resolve().parents[2])
    assert done.stdout.strip().splitlines()[-1] == "False", done.stderr


def test_the_ransac_window_loads_no_torch_once_shown_either(tmp_path):
    """The fine stage runs in OpenCV: nothing in the window, once shown and idle, asks torch anything."""
    script = (
        "import sys, threading\n"
        "from PyQt5.QtCore import QSettings\n"
        "from PyQt5.QtWidgets import QApplication\n"
        "app = QApplication([])\n"
        "from ransac_gui.app import MainWindow\n"
        f"window = MainWindow(QSettings(r'{tmp_path}/r.ini', QSettings.IniFormat))\n"
        "window.show()\n"
        "app.processEvents()\n"
        "for thread in threading.enumerate():\n"
        "    if thread is not threading.main_thread():\n"
        "        thread.join(60)\n"
        "print('torch' in sys.modules)\n"
    )
    done = subprocess.run([sys.executable, "-c", script], check=False, capture_output=True, text=True, timeout=120,
                          env={**os.environ, "QT_QPA_PLATFORM": "offscreen"}, cwd=Path(__file__).resolve().parents[2])
    assert done.stdout.strip().splitlines()[-1] == "False", done.stderr
