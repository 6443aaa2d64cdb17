"""What the window remembers (QSettings): folders, the alignment options, the compare view."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from PyQt5.QtCore import QByteArray, QSettings

from dea_core.alignment.pipeline import DEFAULT_WORK_SIDE, AlignOptions

ORGANISATION = "dea-ornaments"
APPLICATION = "RANSAC GUI"


@dataclass(frozen=True)
class WindowOptions:
    """The options a person sets in the window; `align_options` turns them into the engine's."""

    fine: bool = True
    work_side: int = DEFAULT_WORK_SIDE
    save_mapping: bool = True

    def align_options(self) -> AlignOptions:
        defaults = AlignOptions()
        return AlignOptions(coarse=defaults.coarse, fine=defaults.fine if self.fine else None,
                            work_side=self.work_side)


class RansacSettings:
    """Typed access to QSettings (tests pass their own to keep the user's untouched)."""

    def __init__(self, settings: QSettings | None = None) -> None:
        self.qsettings = settings if settings is not None else QSettings(ORGANISATION, APPLICATION)

    def path(self, key: str) -> Path | None:
        value = self.qsettings.value(key, "")
        return Path(value) if value else None

    def set_path(self, key: str, path: Path) -> None:
        self.qsettings.setValue(key, str(path))

    def options(self) -> WindowOptions:
        defaults = WindowOptions()
        return WindowOptions(
            fine=_bool(self.qsettings.value("options/fine"), defaults.fine),
            work_side=_int(self.qsettings.value("options/work_side"), defaults.work_side),
            save_mapping=_bool(self.qsettings.value("options/save_mapping"), defaults.save_mapping),
        )

    def set_options(self, options: WindowOptions) -> None:
        self.qsettings.setValue("options/fine", options.fine)
        self.qsettings.setValue("options/work_side", options.work_side)
        self.qsettings.setValue("options/save_mapping", options.save_mapping)

    def compare(self) -> tuple[str, int]:
        """The compare mode's name and the overlay opacity (percent)."""
        return (str(self.qsettings.value("compare/mode", "overlay")),
                _int(self.qsettings.value("compare/opacity"), 50))

    def set_compare(self, mode: str, opacity: int) -> None:
        self.qsettings.setValue("compare/mode", mode)
        self.qsettings.setValue("compare/opacity", opacity)

    def geometry(self) -> QByteArray | None:
        return self.qsettings.value("window/geometry")

    def set_geometry(self, geometry: QByteArray) -> None:
        self.qsettings.setValue("window/geometry", geometry)

    def sync(self) -> None:
        self.qsettings.sync()


def _bool(value: object, default: bool) -> bool:
    if value is None:
        return default
    return str(value).lower() in ("true", "1", "yes")


def _int(value: object, default: int) -> int:
    try:
        return int(float(str(value)))
    except ValueError:
        return default
