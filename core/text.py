"""What text and free-form JSON must not hold before we store or send it.

PostgreSQL refuses NUL in text and jsonb, and a lone UTF-16 surrogate
("\\ud800", which JSON can spell) cannot be encoded as UTF-8 at all: stored
on SQLite it makes every later read of the row fail. So both are refused at
the door, wherever a string comes from, with the field it came in.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Iterator
from typing import Any

from core.errors import Path

NUL_OR_SURROGATE = "Must not contain NUL characters or unpaired surrogates."
KEY_NUL_OR_SURROGATE = "A key must not contain NUL characters or unpaired surrogates."
CONTROL_CHARACTERS = "Must be a single line, without control characters."


# One scan in C, not a Python call per character: every field of every send goes through these.
_BAD = re.compile(r"[\x00\ud800-\udfff]")
_CONTROL = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")  # below 32 but tab, and DEL


def _bad_char(ch: str) -> bool:
    return _BAD.match(ch) is not None


def text_problem(value: str, *, single_line: bool = False) -> str | None:
    """Why `value` cannot be stored or put in a header, or None.

    Every string: no NUL, no lone surrogate. A single line (a header, a name)
    also has no control character at all: CR or LF would end a header and
    start another.
    """
    if single_line and _CONTROL.search(value):
        return CONTROL_CHARACTERS
    if _BAD.search(value):
        return NUL_OR_SURROGATE
    return None


def json_problems(value: Any, *, max_bytes: int, max_depth: int) -> Iterator[tuple[Path, str]]:
    """Problems of a free-form JSON value (templateData, customData, metadata), each with the path to it.

    Keys and strings must pass `text_problem`; nesting stops at `max_depth`
    levels and the whole at `max_bytes` of UTF-8 JSON. Walked without
    recursion, so a hostile depth costs no stack.
    """
    if max_depth >= 1 and type(value) is dict and _flat_and_clean(value, max_bytes):
        return  # a CSV row's data: checked in C
    stack: list[tuple[Path, Any, int]] = [((), value, 0)]
    found = False
    while stack:
        path, item, depth = stack.pop()
        if isinstance(item, dict | list) and depth >= max_depth:
            found = True
            yield path, f"Nested too deeply: at most {max_depth} levels."
            continue
        if isinstance(item, dict):
            for key, child in item.items():
                key_text = str(key)
                if text_problem(key_text):
                    found = True
                    yield (*path, _printable(key_text)), KEY_NUL_OR_SURROGATE
                    continue
                stack.append(((*path, key_text), child, depth + 1))
        elif isinstance(item, list):
            stack.extend(((*path, index), child, depth + 1) for index, child in enumerate(item))
        elif isinstance(item, str) and (problem := text_problem(item)):
            found = True
            yield path, problem
    if found:
        return
    size = len(json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode())
    if size > max_bytes:
        yield (), f"At most {max_bytes:,} bytes of JSON; this is {size:,}."


def _flat_and_clean(value: dict[Any, Any], max_bytes: int) -> bool:
    """Whether `value` is keys and values that are all str, none with a bad character, and surely within max_bytes.

    As JSON, a character takes at most 6 bytes (`\\u001f`; UTF-8 takes at most
    4), and each pair adds 6 (quotes, colon, comma), so that bound is checked
    instead of encoding. False means: walk it.
    """
    keys, values = list(value), list(value.values())
    if set(map(type, keys)) - {str} or set(map(type, values)) - {str}:
        return False
    joined = "".join(keys) + "".join(values)
    return _BAD.search(joined) is None and 2 + 6 * len(keys) + 6 * len(joined) <= max_bytes


def _printable(key: str) -> str:
    """A key fit to appear in an error's path: bad characters spelled as escapes."""
    return "".join(ch.encode("unicode_escape").decode() if _bad_char(ch) else ch for ch in key)


def uuid_parse(value: str) -> uuid.UUID | None:
    """The UUID `value` spells, or None when it is not one."""
    try:
        return uuid.UUID(value)
    except ValueError:
        return None
