"""Our own Qt-free codec for LabelMe JSON: reads files written by LabelMe 3.x to 7.x.

Shape types, with points as [x, y] in image pixels (origin at the top-left corner):

- rectangle: 2 points, two opposite corners.
- polygon: 3 or more vertices, closed. The oldest files have no `shape_type`: they are polygons.
- oriented_rectangle: 4 corners in drawing order (LabelMe 6.2+).
- circle: 2 points, the centre and a point on the circle.
- line: 2 points. linestrip: 2 or more points, an open polyline.
- point: 1 point. points: 1 or more (LabelMe's prompt points for its AI tools).
- mask: 2 points, the corners of the box that the base64 PNG in `mask` covers.

LabelMe's AI tools (create modes ai_polygon, ai_mask, ai_points_to_shape, ai_box_to_shape) save
their result as polygon or mask shapes; those mode names never appear in a file.

Loading validates the JSON but never decodes the picture; `load_label_image` does that on demand.
Saving keeps every key the file had, unknown ones included, and adds only what LabelMe needs to
open the file (docs/adr/0001-labelme-json-round-trip.md).
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import copy
import dataclasses
import gc
import json
import math
import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path, PureWindowsPath
from types import MappingProxyType
from typing import Any, Final

import numpy as np
from PIL import Image

from dea_core.errors import ImageLoadError, LabelFileError
from dea_core.io.atomic import atomic_write_text
from dea_core.io.images import decode_image_bytes, image_size_from_bytes, read_image
from dea_core.io.reading import check_regular_file, read_json

# The `version` we write in new files. Not the installed labelme's: dea_core never imports labelme
# (slow, pulls Qt). LabelMe 5.x warns on a file of another major version and LabelMe 6 does not
# check, so a 5.x string opens quietly in both; 5.5 already has every key we write.
LABELME_FORMAT_VERSION: Final = "5.5.0"

MIN_POINTS: Final[Mapping[str, int]] = MappingProxyType(
    {
        "rectangle": 2,
        "polygon": 3,
        "oriented_rectangle": 4,
        "circle": 2,
        "line": 2,
        "linestrip": 2,
        "point": 1,
        "points": 1,
        "mask": 2,
    }
)
LEGACY_SHAPE_TYPE: Final = "polygon"
IMAGE_SUFFIXES: Final = (".jpg", ".jpeg", ".png", ".tif", ".tiff", ".bmp", ".webp")
# A page holds tens of boxes, a crowded one a few thousand; loading is linear (about 30 µs a shape),
# and a file claiming more is refused rather than left to fill the memory.
MAX_SHAPES: Final = 100_000
# Points lie on the picture, give or take LabelMe's dragging past its edge; no scan is 10^7 px wide.
MAX_COORDINATE: Final = 10_000_000.0

# Known keys in LabelMe's own order, what is written even when the input lacked it (LabelMe 6's
# loader requires these), and the value that stands for "absent" for the others.
_SHAPE_KEYS: Final = ("label", "points", "group_id", "description", "shape_type", "flags", "mask")
_SHAPE_REQUIRED: Final = frozenset({"label", "points", "shape_type"})
_SHAPE_ABSENT: Final = MappingProxyType({"group_id": None, "description": None, "flags": {}, "mask": None})
_FILE_KEYS: Final = ("version", "flags", "shapes", "imagePath", "imageData", "imageHeight", "imageWidth")
_FILE_REQUIRED: Final = frozenset({"shapes", "imagePath", "imageData"})
_FILE_ABSENT: Final = MappingProxyType(
    {"version": None, "flags": {}, "imageHeight": None, "imageWidth": None}
)


@dataclass
class _Origin:
    """What the file said: unchanged fields are written back exactly as read, in the same order."""

    key_order: tuple[str, ...]
    values: dict[str, tuple[Any, Any]]  # key -> (value as stored, value as parsed)


@dataclass
class Shape:
    """One LabelMe shape. `extra` holds every key we do not interpret (old colours, our `match`)."""

    label: str
    points: list[list[float]]
    shape_type: str = "rectangle"
    group_id: int | None = None
    flags: dict[str, bool] = field(default_factory=dict)
    description: str | None = None
    mask: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    _origin: _Origin | None = field(default=None, repr=False, compare=False)


@dataclass
class LabelFile:
    """One LabelMe JSON file. `image_path` is as stored (relative to the JSON's folder, may use
    backslashes); `image_data` is the base64 text as stored; `path` is where it was loaded from.

    A file built in memory (`path` None) takes `image_path` as a path on disk, absolute or relative
    to the current folder; `save_label_file` writes it relative to the JSON.
    """

    shapes: list[Shape]
    image_path: str
    image_data: str | None = None
    image_height: int | None = None
    image_width: int | None = None
    version: str | None = None
    flags: dict[str, Any] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)
    path: Path | None = field(default=None, compare=False)
    _origin: _Origin | None = field(default=None, repr=False, compare=False)

    def image_file(self) -> Path:
        """The picture `imagePath` names, next to the JSON.

        Some LabelMe files (its own tutorial) store the JSON's own name as imagePath and embed the
        picture; for those we return an image file with the same stem beside it, if there is one.
        """
        stored = self._stored_image_file()
        if stored.suffix.lower() != ".json":
            return stored
        for suffix in IMAGE_SUFFIXES:
            for candidate in (stored.with_suffix(suffix), stored.with_suffix(suffix.upper())):
                if candidate.is_file():
                    return candidate
        return stored

    def _stored_image_file(self) -> Path:
        folder = self.path.parent if self.path is not None else Path()
        return folder / PureWindowsPath(self.image_path).as_posix()


def new_label_file(
    image_path: str | os.PathLike[str], width: int, height: int, shapes: list[Shape] | None = None
) -> LabelFile:
    """A new LabelMe file for the picture at `image_path` (a path on disk), not yet saved."""
    return LabelFile(
        shapes=list(shapes or []),
        image_path=os.fspath(image_path),
        image_height=height,
        image_width=width,
        version=LABELME_FORMAT_VERSION,
    )


def load_label_file(path: str | os.PathLike[str]) -> LabelFile:
    """Read and validate a LabelMe JSON file; the picture is not decoded (see load_label_image).

    Raises LabelFileError("<path>: <problem>") for anything LabelMe could not open either.
    """
    path = Path(path)
    label_file = label_file_from_dict(_read_json(path), str(path))
    label_file.path = path
    _check_embedded_size(label_file, str(path))
    return label_file


def load_label_image(label_file: LabelFile) -> np.ndarray:
    """The picture of `label_file` as BGR uint8 (H, W, 3): embedded imageData if any, else the file.

    Raises LabelFileError when the picture is missing or disagrees with imageWidth/imageHeight,
    ImageLoadError when it cannot be decoded.
    """
    source = _describe(label_file)
    if label_file.image_data is not None:
        data = _decode_base64(label_file.image_data, "imageData", source)
        image = decode_image_bytes(data, f"{source} (imageData)", apply_exif=False)
        _check_declared_size(label_file, image.shape[1], image.shape[0], "in imageData", source)
        return image
    image_file = label_file.image_file()
    if not image_file.exists():
        raise LabelFileError(f"{source}: imagePath '{label_file.image_path}' not found next to the JSON")
    check_regular_file(image_file, "image file", ImageLoadError)  # a FIFO or /dev/zero is never opened
    if image_file.suffix.lower() not in Image.registered_extensions():
        raise LabelFileError(f"{source}: imagePath '{label_file.image_path}' does not name a picture "
                             "(no picture file extension such as .jpg, .png or .tif)")
    image = read_image(image_file)
    _check_declared_size(label_file, image.shape[1], image.shape[0], f"'{label_file.image_path}'", source)
    return image


def save_label_file(label_file: LabelFile, path: str | os.PathLike[str], *, overwrite: bool = False) -> Path:
    """Write `label_file` to `path` atomically (UTF-8, indent 2) and return the path.

    An existing file, in particular the one `label_file` was loaded from, is replaced only with
    `overwrite=True`. Saved to another folder, imagePath is rewritten relative to the new JSON
    (unless the picture is embedded) so LabelMe still finds the picture.
    """
    path = Path(path)
    _refuse_to_overwrite(label_file, path, overwrite)
    atomic_write_text(path, label_file_text(label_file, path), overwrite=overwrite)
    return path


def label_file_text(label_file: LabelFile, path: str | os.PathLike[str]) -> str:
    """The JSON text `save_label_file` would write at `path` (imagePath relative to it), checked."""
    path = Path(path)
    rebased = _rebased(label_file, path)
    data = label_file_to_dict(rebased)
    label_file_from_dict(data, str(path))  # never write a file we could not read back
    _check_embedded_size(rebased, str(path))
    return _json_text(data, path)


def label_file_to_dict(label_file: LabelFile) -> dict[str, Any]:
    """The JSON object for `label_file`: keys as read are kept, unknown ones included."""
    source = _describe(label_file)
    fields = {
        "version": label_file.version,
        "flags": label_file.flags,
        "shapes": [
            _shape_to_dict(shape, f"{source}: shape {index}") for index, shape in enumerate(label_file.shapes)
        ],
        "imagePath": label_file.image_path,
        "imageData": label_file.image_data,
        "imageHeight": label_file.image_height,
        "imageWidth": label_file.image_width,
    }
    return _layout(fields, label_file.extra, label_file._origin, _FILE_REQUIRED, _FILE_ABSENT, source)


def label_file_from_dict(data: Any, source: str) -> LabelFile:
    """Validate a parsed LabelMe JSON object; `source` names the file in error messages."""
    _check_looks_like_labelme(data, source)
    fields: dict[str, Any] = {
        "version": _optional_str(data.get("version"), "version", source),
        "flags": _file_flags(data.get("flags"), source),
        "imagePath": _image_path(data.get("imagePath"), source),
        "imageData": _image_data(data.get("imageData"), source),
        "imageHeight": _optional_size(data.get("imageHeight"), "imageHeight", source),
        "imageWidth": _optional_size(data.get("imageWidth"), "imageWidth", source),
    }
    if len(data["shapes"]) > MAX_SHAPES:
        raise LabelFileError(f"{source}: {len(data['shapes'])} shapes, more than the {MAX_SHAPES} a page may hold; "
                             "split it, or it is not a real annotation")
    with _collector_paused():
        shapes = [_shape_from_dict(raw, f"{source}: shape {index}") for index, raw in enumerate(data["shapes"])]
    return LabelFile(
        shapes=shapes,
        image_path=fields["imagePath"],
        image_data=fields["imageData"],
        image_height=fields["imageHeight"],
        image_width=fields["imageWidth"],
        version=fields["version"],
        flags=fields["flags"],
        extra=_extra(data, _FILE_KEYS),
        _origin=_origin_of(data, fields),
    )


@contextlib.contextmanager
def _collector_paused() -> Iterator[None]:
    """Pause Python's cycle collector while many shapes are built: they hold no cycles, and its
    passes over a growing heap would make loading a crowded page slower than linear."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _shape_from_dict(raw: Any, where: str) -> Shape:
    if not isinstance(raw, dict):
        raise LabelFileError(f"{where}: is a {type(raw).__name__}, not an object")
    label = raw.get("label")
    if not isinstance(label, str):
        raise LabelFileError(f"{where}: 'label' must be text, got {label!r}")
    where = f"{where} ('{label}')"
    shape_type = _shape_type(raw.get("shape_type", LEGACY_SHAPE_TYPE), where)
    fields: dict[str, Any] = {
        "label": label,
        "shape_type": shape_type,
        "points": _points(raw.get("points"), shape_type, where),
        "group_id": _group_id(raw.get("group_id"), where),
        "description": _optional_str(raw.get("description"), "description", where),
        "flags": _shape_flags(raw.get("flags"), where),
        "mask": _mask(raw.get("mask"), shape_type, where),
    }
    return Shape(**fields, extra=_extra(raw, _SHAPE_KEYS), _origin=_origin_of(raw, fields))


def _shape_to_dict(shape: Shape, where: str) -> dict[str, Any]:
    fields = {
        "label": shape.label,
        "points": shape.points,
        "group_id": shape.group_id,
        "description": shape.description,
        "shape_type": shape.shape_type,
        "flags": shape.flags,
        "mask": shape.mask,
    }
    return _layout(fields, shape.extra, shape._origin, _SHAPE_REQUIRED, _SHAPE_ABSENT, where)


def _layout(
    fields: dict[str, Any],
    extra: dict[str, Any],
    origin: _Origin | None,
    required: frozenset[str],
    absent: Mapping[str, Any],
    where: str,
) -> dict[str, Any]:
    """Known fields then extras, in the order the file had, without inventing optional keys.

    A field unchanged since loading is written as stored (ints stay ints, null stays null); a new
    object (no origin) gets LabelMe's full layout.
    """
    clashing = extra.keys() & fields.keys()
    if clashing:
        raise LabelFileError(f"{where}: extra keys {sorted(clashing)} clash with LabelMe's own keys")
    out: dict[str, Any] = {}
    for key, value in fields.items():
        if origin is not None and key in origin.values:
            stored, parsed = origin.values[key]
            out[key] = copy.deepcopy(stored if value == parsed else value)
        elif origin is None or key in required or value != absent[key]:
            out[key] = copy.deepcopy(value)
    out.update(copy.deepcopy(extra))
    if origin is None:
        return out
    first = [key for key in origin.key_order if key in out]
    return {key: out[key] for key in first + [key for key in out if key not in origin.key_order]}


def _origin_of(raw: dict[str, Any], fields: dict[str, Any]) -> _Origin:
    # Copies: an edit in place of a shape's points must be seen as a change.
    values = {key: (_json_copy(raw[key]), _json_copy(value)) for key, value in fields.items() if key in raw}
    return _Origin(tuple(raw), values)


def _json_copy(value: Any) -> Any:
    """A deep copy of JSON-like data (dicts, lists, numbers, text), much faster than copy.deepcopy."""
    kind = type(value)
    if kind is list:
        return [_json_copy(item) for item in value]
    if kind is dict:
        return {key: _json_copy(item) for key, item in value.items()}
    return copy.deepcopy(value) if kind not in _JSON_ATOMS else value


_JSON_ATOMS: Final = frozenset({str, int, float, bool, type(None)})


def _extra(raw: dict[str, Any], known: tuple[str, ...]) -> dict[str, Any]:
    return {key: _json_copy(value) for key, value in raw.items() if key not in known}


def _read_json(path: Path) -> Any:
    return read_json(path, "LabelMe JSON file", LabelFileError)


def _check_looks_like_labelme(data: Any, source: str) -> None:
    if not isinstance(data, dict):
        raise LabelFileError(
            f"{source}: looks like it is not a LabelMe file (the JSON holds a {type(data).__name__}, "
            "not an object with 'shapes' and 'imagePath')"
        )
    if "shapes" not in data:
        if {"images", "annotations"} <= data.keys():
            raise LabelFileError(f"{source}: looks like a COCO annotation file, not a LabelMe file")
        raise LabelFileError(f"{source}: looks like it is not a LabelMe file (no 'shapes' list)")
    if not isinstance(data["shapes"], list):
        raise LabelFileError(f"{source}: 'shapes' must be a list, got {type(data['shapes']).__name__}")


def _image_path(value: Any, source: str) -> str:
    if not isinstance(value, str) or not value:
        raise LabelFileError(f"{source}: 'imagePath' must name the picture, got {value!r}")
    return value


def _image_data(value: Any, source: str) -> str | None:
    if value is not None:
        if not isinstance(value, str):
            raise LabelFileError(f"{source}: 'imageData' must be base64 text or null")
        _decode_base64(value, "imageData", source)
    return value


def _decode_base64(text: str, key: str, source: str) -> bytes:
    """Strict base64 (line breaks of old writers allowed); corrupt or empty data is an error."""
    try:
        data = base64.b64decode("".join(text.split()), validate=True)
    except (binascii.Error, ValueError) as error:
        raise LabelFileError(f"{source}: '{key}' is not valid base64 ({error})") from error
    if not data:
        raise LabelFileError(f"{source}: '{key}' is empty")
    return data


def _optional_size(value: Any, key: str, source: str) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise LabelFileError(f"{source}: '{key}' must be a positive whole number, got {value!r}")
    return value


def _optional_str(value: Any, key: str, where: str) -> str | None:
    if value is not None and not isinstance(value, str):
        raise LabelFileError(f"{where}: '{key}' must be text or null, got {value!r}")
    return value


def _file_flags(value: Any, source: str) -> dict[str, Any]:
    if value is not None and not isinstance(value, dict):
        raise LabelFileError(f"{source}: 'flags' must be an object, got {value!r}")
    return _json_copy(value) if value else {}


def _shape_flags(value: Any, where: str) -> dict[str, bool]:
    if value is None:
        return {}
    if not isinstance(value, dict) or not all(isinstance(flag, bool) for flag in value.values()):
        raise LabelFileError(f"{where}: 'flags' must map names to true/false, got {value!r}")
    return dict(value)


def _shape_type(value: Any, where: str) -> str:
    if not isinstance(value, str) or value not in MIN_POINTS:
        known = ", ".join(MIN_POINTS)
        raise LabelFileError(f"{where}: unknown shape_type {value!r}; LabelMe knows {known}")
    return value


def _points(value: Any, shape_type: str, where: str) -> list[list[float]]:
    if not isinstance(value, list):
        raise LabelFileError(f"{where}: 'points' must be a list of [x, y], got {value!r}")
    points = [_point(point, where) for point in value]
    if len(points) < MIN_POINTS[shape_type]:
        raise LabelFileError(
            f"{where}: a {shape_type} needs at least {MIN_POINTS[shape_type]} points, has {len(points)}"
        )
    return points


def _point(value: Any, where: str) -> list[float]:
    if not isinstance(value, list) or len(value) != 2 or not all(_is_coordinate(xy) for xy in value):
        raise LabelFileError(f"{where}: point {_short(value)} is not [x, y] with two finite numbers within "
                             f"±{MAX_COORDINATE:.0e}")
    return [float(value[0]), float(value[1])]


def _is_coordinate(value: Any) -> bool:
    """A finite number within MAX_COORDINATE (an integer of 400 digits is not: float() overflows)."""
    kind = type(value)
    if kind is int:
        return -MAX_COORDINATE <= value <= MAX_COORDINATE
    return kind is float and math.isfinite(value) and -MAX_COORDINATE <= value <= MAX_COORDINATE


def _short(value: Any) -> str:
    """repr of a value, cut to one readable line (a point may hold a number of thousands of digits)."""
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _group_id(value: Any, where: str) -> int | None:
    if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
        raise LabelFileError(f"{where}: 'group_id' must be a whole number or null, got {value!r}")
    return value


def _mask(value: Any, shape_type: str, where: str) -> str | None:
    if value is None:
        if shape_type == "mask":
            raise LabelFileError(f"{where}: a mask shape needs its 'mask' (a base64 PNG)")
        return None
    if not isinstance(value, str):
        raise LabelFileError(f"{where}: 'mask' must be a base64 PNG, got {type(value).__name__}")
    _decode_base64(value, "mask", where)
    return value


def _describe(label_file: LabelFile) -> str:
    if label_file.path is not None:
        return str(label_file.path)
    return f"<unsaved LabelMe file for '{label_file.image_path}'>"


def _check_embedded_size(label_file: LabelFile, source: str) -> None:
    """Compare imageWidth/imageHeight with the embedded picture's header (nothing is decoded)."""
    if label_file.image_data is None or (label_file.image_width is None and label_file.image_height is None):
        return
    data = _decode_base64(label_file.image_data, "imageData", source)
    try:
        width, height = image_size_from_bytes(data, f"{source} (imageData)", apply_exif=False)
    except ImageLoadError as error:
        raise LabelFileError(str(error)) from error
    _check_declared_size(label_file, width, height, "in imageData", source)


def _check_declared_size(label_file: LabelFile, width: int, height: int, picture: str, source: str) -> None:
    declared = (label_file.image_width, label_file.image_height)
    if declared[0] not in (None, width) or declared[1] not in (None, height):
        raise LabelFileError(
            f"{source}: imageWidth x imageHeight say {declared[0]} x {declared[1]} but the picture {picture} "
            f"is {width} x {height}; the JSON belongs to another picture or the picture was resized"
        )


def _refuse_to_overwrite(label_file: LabelFile, path: Path, overwrite: bool) -> None:
    if overwrite or not path.exists():
        return
    if label_file.path is not None and label_file.path.exists() and os.path.samefile(label_file.path, path):
        raise LabelFileError(
            f"{path}: is the file this annotation was loaded from; choose another name or pass --overwrite"
        )
    raise LabelFileError(f"{path}: already exists; choose another name or pass --overwrite")


def _rebased(label_file: LabelFile, path: Path) -> LabelFile:
    """`label_file` with imagePath relative to the folder of `path` (embedded pictures stay as they are)."""
    new_folder = os.path.abspath(path.parent)
    if label_file.image_data is not None:
        return label_file
    if label_file.path is not None and os.path.abspath(label_file.path.parent) == new_folder:
        return label_file
    picture = os.path.abspath(label_file._stored_image_file())
    try:
        relative = os.path.relpath(picture, new_folder)
    except ValueError:  # another drive on Windows: no relative path exists
        relative = picture
    return dataclasses.replace(label_file, image_path=Path(relative).as_posix())


def _json_text(data: dict[str, Any], path: Path) -> str:
    try:
        return json.dumps(data, ensure_ascii=False, indent=2, allow_nan=False) + "\n"
    except (TypeError, ValueError) as error:
        raise LabelFileError(f"{path}: cannot be written as JSON ({error})") from error
