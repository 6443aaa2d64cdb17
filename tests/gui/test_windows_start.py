from autolabelme.app import MainWindow as AutoLabelmeWindow
from ransac_gui.app import MainWindow as RansacWindow


def test_autolabelme_window_opens_with_its_menus(qtbot):
    window = AutoLabelmeWindow()
    qtbot.addWidget(window)
    window.show()
    qtbot.waitExposed(window)
    titles = [a.text() for a in window.menuBar().actions()]
    assert window.windowTitle() == "AutoLabelme"
    assert titles == ["&File", "&Training"]


def test_ransac_window_names_the_folder_it_was_given(qtbot):
    window = RansacWindow("scans/")
    qtbot.addWidget(window)
    assert window.windowTitle() == "RANSAC GUI - scans/"
