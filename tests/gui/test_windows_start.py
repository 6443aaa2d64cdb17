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
