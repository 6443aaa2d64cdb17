"""What the window remembers between sessions (QSettings): recent files, last folder, search options."""

from __future__ import annotations

from dataclasses import asdict, fields
from pathlib import Path

from PyQt5.QtCore import QByteArray, QSettings

from autolabelme.search_settings import SearchSettings

ORGANISATION = "dea-ornaments"
APPLICATION = "AutoLabelme"
MAX_RECENT = 10


class AppSettings:
    """Typed access to the window's QSettings (pass one in tests to keep the user's untouched)."""

    def __init__(self, settings: QSettings | None = None) -> None:
        self.qsettings = settings if settings is not None else QSettings(ORGANISATION, APPLICATION)

    def recent_files(self) -> list[Path]:
        value = self.qsettings.value("recent_files", [])
        items = [value] if isinstance(value, str) else list(value or [])
        return [Path(item) for item in items if item]

    def add_recent(self, path: Path) -> None:
        path = Path(path).absolute()
        recent = [path] + [p for p in self.recent_files() if p != path]
        self.qsettings.setValue("recent_files", [str(p) for p in recent[:MAX_RECENT]])

    def forget_recent(self, path: Path) -> None:
        recent = [p for p in self.recent_files() if p != Path(path).absolute()]
        self.qsettings.setValue("recent_files", [str(p) for p in recent])

    def last_folder(self) -> Path | None:
        value = self.qsettings.value("last_folder", "")
        return Path(value) if value else None

    def set_last_folder(self, folder: Path) -> None:
        self.qsettings.setValue("last_folder", str(folder))

    def search_settings(self) -> SearchSettings:
        """The options last used; a value that does not read back keeps its default."""
        defaults = SearchSettings()
        values = {}
        for field in fields(SearchSettings):
            stored = self.qsettings.value(f"search/{field.name}")
            default = getattr(defaults, field.name)
            values[field.name] = _parse(stored, default, optional=field.name == "rotation_max")
        return SearchSettings(**values)

    def set_search_settings(self, settings: SearchSettings) -> None:
        for name, value in asdict(settings).items():
            self.qsettings.setValue(f"search/{name}", "" if value is None else str(value))

    def geometry(self) -> tuple[QByteArray | None, QByteArray | None]:
        return self.qsettings.value("window/geometry"), self.qsettings.value("window/state")

    def set_geometry(self, geometry: QByteArray, state: QByteArray) -> None:
        self.qsettings.setValue("window/geometry", geometry)
        self.qsettings.setValue("window/state", state)

    def sync(self) -> None:
        self.qsettings.sync()


def _parse(stored: object, default: object, *, optional: bool = False) -> object:
    if stored is None:
        return default
    text = str(stored).strip()
    if optional and text in ("", "None"):
        return None
    try:
        if isinstance(default, bool):
            return text.lower() in ("true", "1", "yes")
        if isinstance(default, int):
            return int(float(text))
        return float(text)
    except ValueError:
        return default
