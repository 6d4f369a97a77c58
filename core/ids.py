"""Time-ordered ids (RFC 9562 version 7), for rows written in bulk.

A bulk writes its messages in order; random (version 4) keys land all over the
primary key's B-tree, so each insert touches a different page and the index
outgrows the cache. A version 7 id starts with the Unix time in milliseconds,
so a chunk's keys are adjacent and are appended at the index's right edge.
Python 3.14's uuid.uuid7 also orders the ids of one millisecond (with a
counter); here they need not be, as a bulk's rows are ordered by their time.
"""

from __future__ import annotations

import os
import time
import uuid

_VERSION = 7 << 76
_VARIANT = 0b10 << 62
_CLEAR = ~((0xF << 76) | (0b11 << 62))
_UNKNOWN = uuid.SafeUUID.unknown  # read once: an enum member is looked up through a descriptor each time


def uuid7(now_ns: int | None = None) -> uuid.UUID:
    """48 bits of milliseconds, then 74 random bits around the version and variant.

    Ids made in the same millisecond are unique (74 random bits) but in no
    particular order among themselves.
    """
    return uuid7_many(1, now_ns=now_ns)[0]


def uuid7_many(count: int, *, now_ns: int | None = None) -> list[uuid.UUID]:
    """`count` ids of this millisecond (or of `now_ns`), from one read of the system's random source."""
    millis = ((time.time_ns() if now_ns is None else now_ns) // 1_000_000 & 0xFFFF_FFFF_FFFF) << 80
    random = os.urandom(10 * count)
    return [
        _from_int((millis | int.from_bytes(random[i : i + 10], "big")) & _CLEAR | _VERSION | _VARIANT)
        for i in range(0, 10 * count, 10)
    ]


def _from_int(value: int) -> uuid.UUID:
    """A UUID of a 128-bit int known to be one, without `UUID(int=...)`'s checks (under cProfile, most of the time
    making a bulk's ids took). As Python 3.14's own `UUID._from_int` does; UUID objects refuse plain assignment."""
    made = object.__new__(uuid.UUID)
    object.__setattr__(made, "int", value)
    object.__setattr__(made, "is_safe", _UNKNOWN)
    return made
