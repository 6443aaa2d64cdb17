"""The `ransac-gui [FOLDER]` command, and the window opened from AutoLabelme's menu."""

from __future__ import annotations

import sys
from pathlib import Path

from PyQt5.QtWidgets import QApplication

from ransac_gui.main_window import APP_NAME, MainWindow
from ransac_gui.settings import APPLICATION, ORGANISATION

__all__ = ["APP_NAME", "MainWindow", "main", "open_window"]

# Windows opened inside another application (AutoLabelme) are kept here, or Python would close them.
_open_windows: list[MainWindow] = []


def open_window(folder: Path | None = None) -> MainWindow:
    """Show a RANSAC window in the running application (for AutoLabelme's menu)."""
    window = MainWindow(folder=folder)
    _open_windows[:] = [w for w in _open_windows if w.isVisible()] + [window]
    window.show()
    return window


def main(argv: list[str] | None = None) -> int:
    """Start the window; argv as sys.argv: argv[1], if given, is a folder of scans to open."""
    args = list(sys.argv if argv is None else argv)
    app = QApplication.instance() or QApplication(args)
    app.setOrganizationName(ORGANISATION)
    app.setApplicationName(APPLICATION)
    window = MainWindow()
    window.show()
    if len(args) > 1:
        window.open_folder(Path(args[1]))
    return app.exec_()


if __name__ == "__main__":
    sys.exit(main())
