"""Reading email addresses as people and services type them, strictly: one entry is one address or an error.

"Jane Doe <jane@example.com>", "jane@example.com" and '"Doe, Jane"
<jane@example.com>' are each one address. Anything else in an entry, such as a
second <...> after the first, makes that entry malformed; it is never read as
two recipients (the standard library's getaddresses would).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.core.validators import EmailValidator

from core.text import CONTROL_CHARACTERS, text_problem

MAX_ADDRESS = 254
MAX_NAME = 200
LINE_BREAKS = "Must not contain line breaks or control characters."


class _Validator(EmailValidator):
    """Django's email validator with its patterns compiled now: its lazy ones cost a proxy lookup per use, 4% of
    accepting a bulk of 100,000 (docs/benchmarks.md, issue 12). The same patterns, so the same answers."""

    user_regex = re.compile(EmailValidator.user_regex.pattern, EmailValidator.user_regex.flags)
    domain_regex = re.compile(EmailValidator.domain_regex.pattern, EmailValidator.domain_regex.flags)
    literal_regex = re.compile(EmailValidator.literal_regex.pattern, EmailValidator.literal_regex.flags)


_validate_email = _Validator()

_ANGLE = re.compile(r'^(?P<name>"(?:[^"\\]|\\.)*"|[^<>"]*?)\s*<(?P<address>[^<>\s]+)>$')
_BARE = re.compile(r'^[^<>\s",;]+$')


@dataclass(frozen=True)
class Address:
    address: str  # lower-cased, for matching
    name: str = ""


def address_entries(text: str) -> Iterator[str]:
    """The entries of a typed list: split at commas and semicolons outside quotes and angle brackets."""
    entry: list[str] = []
    quoted = escaped = False
    angle = 0
    for ch in text:
        if escaped:
            escaped = False
        elif quoted and ch == "\\":
            escaped = True
        elif ch == '"':
            quoted = not quoted
        elif not quoted and ch == "<":
            angle += 1
        elif not quoted and ch == ">":
            angle = max(angle - 1, 0)
        elif not quoted and not angle and ch in ",;":
            if "".join(entry).strip():
                yield "".join(entry).strip()
            entry = []
            continue
        entry.append(ch)
    if "".join(entry).strip():
        yield "".join(entry).strip()


def address_parse(entry: str) -> Address:
    """One address from one entry; ValueError with a message for people when it is not exactly one valid address."""
    entry = entry.strip()
    if problem := text_problem(entry, single_line=True):
        raise ValueError(LINE_BREAKS if problem == CONTROL_CHARACTERS else problem)
    if match := _ANGLE.match(entry):
        name, address = match["name"].strip(), match["address"]
        if name.startswith('"'):
            name = re.sub(r"\\(.)", r"\1", name[1:-1])
    elif _BARE.match(entry):
        name, address = "", entry
    else:
        raise _invalid(entry)
    if len(address) > MAX_ADDRESS or len(name) > MAX_NAME:
        raise _invalid(entry)
    try:
        _validate_email(address)
    except ValidationError:
        raise _invalid(entry) from None
    return Address(address=address.lower(), name=name)


def _invalid(entry: str) -> ValueError:
    return ValueError(f"Enter a valid email address: {entry[:100]!r}.")


def reply_to_problem(value: str) -> str | None:
    """What is wrong with a Reply-To address (one plain address on one line), or None."""
    try:
        if text_problem(value, single_line=True) or len(value) > MAX_ADDRESS:
            raise ValidationError("invalid")
        _validate_email(value)
    except ValidationError:
        return "Enter a valid email address."
    return None
