"""The `autolabelme` command: start the window, on a page or a folder if one is given."""

from __future__ import annotations

import sys
from pathlib import Path

from PyQt5.QtWidgets import QApplication

from autolabelme.main_window import MainWindow
from autolabelme.settings import APPLICATION, ORGANISATION

__all__ = ["MainWindow", "main"]


def main(argv: list[str] | None = None) -> int:
    """Start the window. argv as sys.argv: argv[1], if given, is a page (LabelMe JSON or picture)
    or a folder of pages to open; without one, unsaved work from a crash is offered back."""
    args = list(sys.argv if argv is None else argv)
    app = QApplication.instance() or QApplication(args)
    app.setOrganizationName(ORGANISATION)
    app.setApplicationName(APPLICATION)
    window = MainWindow()
    window.show()
    if len(args) > 1:
        window.open_path(Path(args[1]))
    else:
        window.offer_recovery()
    return app.exec_()


if __name__ == "__main__":
    sys.exit(main())
