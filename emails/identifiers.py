"""Reading our own ids out of text that may or may not hold one."""

from __future__ import annotations

import uuid


def uuid_parse(value: str) -> uuid.UUID | None:
    """The UUID `value` spells, or None when it is not one."""
    try:
        return uuid.UUID(value)
    except ValueError:
        return None
