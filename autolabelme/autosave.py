"""Autosave: a copy of the page's LabelMe JSON kept in the application's data folder, offered
back at the next start when the window closed without saving (a crash, a power cut)."""

from __future__ import annotations

import contextlib
import hashlib
import json
import time
from dataclasses import dataclass
from pathlib import Path

from dea_core.errors import DeaError
from dea_core.io.atomic import atomic_write_text
from dea_core.io.labelme_json import LabelFile, save_label_file

# How often the window autosaves unsaved changes (it also does after every match).
AUTOSAVE_INTERVAL_MS = 60_000


@dataclass(frozen=True)
class Autosave:
    """One autosaved page: the copy, the page it belongs to, where it would be saved, and when."""

    path: Path
    source: Path
    json_path: Path | None
    saved_at: float

    def describe(self) -> str:
        when = time.strftime("%Y-%m-%d %H:%M", time.localtime(self.saved_at))
        return f"{self.source.name} (autosaved {when})"


class AutosaveStore:
    """Autosaves in one folder, one per page: `<key>.json` and `<key>.meta.json`."""

    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)

    def write(self, source: Path, json_path: Path | None, label_file: LabelFile) -> Path:
        """Save the page's current state; DeaError if the folder cannot be written."""
        self.folder.mkdir(parents=True, exist_ok=True)
        path = self._path(source)
        save_label_file(label_file, path, overwrite=True)
        meta = {"source": str(source), "json_path": None if json_path is None else str(json_path),
                "saved_at": time.time()}
        atomic_write_text(self._meta(path), json.dumps(meta, ensure_ascii=False, indent=2) + "\n")
        return path

    def find(self, source: Path) -> Autosave | None:
        """The autosave of `source`, if one is waiting."""
        return self._read(self._path(source))

    def pending(self) -> list[Autosave]:
        """Every autosave waiting to be recovered, newest first."""
        if not self.folder.is_dir():
            return []
        found = [self._read(path) for path in self.folder.glob("*.json") if not path.name.endswith(".meta.json")]
        return sorted((a for a in found if a is not None), key=lambda a: -a.saved_at)

    def discard(self, source: Path) -> None:
        path = self._path(source)
        for file in (path, self._meta(path)):
            with contextlib.suppress(FileNotFoundError):
                file.unlink()

    def _path(self, source: Path) -> Path:
        key = hashlib.sha1(str(Path(source).absolute()).encode("utf-8")).hexdigest()[:16]
        return self.folder / f"{Path(source).stem[:40]}-{key}.json"

    @staticmethod
    def _meta(path: Path) -> Path:
        return path.with_name(path.stem + ".meta.json")

    def _read(self, path: Path) -> Autosave | None:
        try:
            meta = json.loads(self._meta(path).read_text(encoding="utf-8"))
            json_path = meta.get("json_path")
            autosave = Autosave(path, Path(meta["source"]), None if json_path is None else Path(json_path),
                                float(meta["saved_at"]))
        except (OSError, ValueError, KeyError, TypeError):
            return None
        return autosave if path.is_file() else None


def write_quietly(store: AutosaveStore, source: Path, json_path: Path | None,
                  label_file: LabelFile) -> str | None:
    """Autosave, returning the problem as text instead of raising (autosave must never interrupt)."""
    try:
        store.write(source, json_path, label_file)
    except DeaError as error:
        return str(error)
    return None
