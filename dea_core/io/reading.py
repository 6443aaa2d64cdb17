"""Reading what a user hands us: regular files only, and JSON with bounded depth and numbers.

A FIFO, a device (`/dev/zero`), a socket or a folder given where a file is expected would hang a
read or feed it without end; they are refused before anything is opened. JSON is parsed with the
standard library, whose parser gives up on very deep nesting with a RecursionError and on integers
of more than 4300 digits with a ValueError: both become one line naming the file, and nesting
deeper than MAX_JSON_DEPTH (which our own code would later walk recursively) is refused as well.
"""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path
from typing import Any, Final

from dea_core.errors import DeaError

# LabelMe files nest 5 deep, our datasets and summaries 4; 64 leaves room for anyone's extra keys.
MAX_JSON_DEPTH: Final = 64


def check_regular_file(path: str | os.PathLike[str], what: str = "file",
                       error: type[DeaError] = DeaError) -> Path:
    """`path` if it is a regular file (symbolic links followed); else `error` saying what it is."""
    path = Path(path)
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        raise error(f"{path}: file not found") from None
    except OSError as problem:
        raise error(f"{path}: cannot be read ({problem.strerror or problem})") from None
    if stat.S_ISDIR(mode):
        raise error(f"{path}: is a folder, not a {what}")
    if not stat.S_ISREG(mode):
        raise error(f"{path}: is not a regular file (a pipe, device or socket); give a {what}")
    return path


def read_json(path: str | os.PathLike[str], what: str = "JSON file", error: type[DeaError] = DeaError) -> Any:
    """The parsed JSON of a regular UTF-8 file (a byte-order mark allowed); `error` for any problem."""
    path = check_regular_file(path, what, error)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        raise error(f"{path}: is not UTF-8 text, so not a {what}") from None
    except OSError as problem:
        raise error(f"{path}: cannot be read ({problem.strerror or problem})") from None
    return parse_json(text, str(path), error)


def parse_json(text: str, source: str, error: type[DeaError] = DeaError) -> Any:
    """json.loads with its failures (bad syntax, deep nesting, huge integers) as one-line `error`s."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as problem:
        raise error(f"{source}: is not valid JSON ({problem.msg} at line {problem.lineno} "
                    f"column {problem.colno})") from None
    except RecursionError:
        raise error(f"{source}: JSON nested more than {MAX_JSON_DEPTH} levels deep; not a file of ours") from None
    except ValueError as problem:  # an integer of thousands of digits
        raise error(f"{source}: is not usable JSON ({str(problem).splitlines()[0]})") from None
    if json_depth(data) > MAX_JSON_DEPTH:
        raise error(f"{source}: JSON nested more than {MAX_JSON_DEPTH} levels deep; not a file of ours")
    return data


def json_depth(data: Any) -> int:
    """How deeply lists and objects nest in parsed JSON (a number: 0), walked without recursion."""
    deepest = 0
    level = [data] if type(data) in (dict, list) else []
    while level and deepest <= MAX_JSON_DEPTH:
        deepest += 1
        below = []
        for value in level:
            for item in value.values() if type(value) is dict else value:
                if type(item) in (dict, list):
                    below.append(item)
        level = below
    return deepest
