"""Who else holds on to a stored file: a hook the apps built on files fill in, so files can ask without importing them.

`files` is a leaf app (import-linter): it must not know that emails attach
its files. Yet deleting a file that went out with mail deserves a warning.
So an app that keeps files registers a counter here, once, in its
`AppConfig.ready()` (emails: `EmailsConfig.ready`), and the files pages ask
`file_usage` for the files they show. With nothing registered, every file
is unused.

A counter takes file ids and answers, in one query, how many messages carry
each (files it does not name are unused).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class FileUsage:
    """How many emails carry a file: those that went out, and those still waiting to be sent."""

    sent: int = 0
    waiting: int = 0

    def __add__(self, other: FileUsage) -> FileUsage:
        return FileUsage(sent=self.sent + other.sent, waiting=self.waiting + other.waiting)

    @property
    def any(self) -> bool:
        return bool(self.sent or self.waiting)


UNUSED = FileUsage()

UsageCounter = Callable[[Collection[uuid.UUID]], Mapping[uuid.UUID, FileUsage]]

# By name, so registering again (a second ready(), a test) replaces rather than counts twice.
_counters: dict[str, UsageCounter] = {}


def file_usage_register(*, name: str, counter: UsageCounter) -> None:
    """Let `counter` (one app's, under its name) say which files its records hold on to."""
    _counters[name] = counter


def file_usage(*, file_ids: Collection[uuid.UUID]) -> dict[uuid.UUID, FileUsage]:
    """Each file's usage, summed over every registered counter; unused files are left out."""
    totals: dict[uuid.UUID, FileUsage] = {}
    if not file_ids:
        return totals
    for counter in _counters.values():
        for file_id, usage in counter(file_ids).items():
            totals[file_id] = totals.get(file_id, UNUSED) + usage
    return totals
