"""System checks for what the worker's SQL needs of the database."""

from __future__ import annotations

import sqlite3
from typing import Any

from django.core.checks import Error, register
from django.db import connections

# UPDATE ... RETURNING (the claim) and UPDATE ... FROM (recording outcomes).
SQLITE_MIN = (3, 35, 0)


@register("database")
def sqlite_version_check(app_configs: Any = None, databases: Any = None, **kwargs: Any) -> list[Error]:
    """The worker's claim needs SQLite 3.35 or newer; Django itself runs on older ones."""
    errors: list[Error] = []
    for alias in databases or []:
        if connections[alias].vendor == "sqlite" and sqlite3.sqlite_version_info < SQLITE_MIN:
            errors.append(
                Error(
                    f"SQLite {sqlite3.sqlite_version} is too old for the sending worker "
                    f"(UPDATE ... RETURNING needs {'.'.join(map(str, SQLITE_MIN))} or newer).",
                    hint="Use a Python built against a newer SQLite, or set DATABASE_URL to PostgreSQL.",
                    id="emails.E001",
                )
            )
    return errors
