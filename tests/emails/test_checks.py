"""System checks: what the worker's SQL needs of the database."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection

from emails import checks


@pytest.mark.skipif(connection.vendor != "sqlite", reason="the check is about SQLite")
def test_an_sqlite_too_old_for_update_returning_is_an_error(monkeypatch: Any) -> None:
    assert checks.sqlite_version_check(databases=["default"]) == []

    monkeypatch.setattr(checks.sqlite3, "sqlite_version_info", (3, 34, 1))
    monkeypatch.setattr(checks.sqlite3, "sqlite_version", "3.34.1")

    (error,) = checks.sqlite_version_check(databases=["default"])
    assert error.id == "emails.E001" and "3.34.1" in error.msg and "3.35.0" in error.msg


def test_the_check_says_nothing_of_postgresql_or_when_no_database_is_checked() -> None:
    assert checks.sqlite_version_check(databases=None) == []
    if connection.vendor == "postgresql":
        assert checks.sqlite_version_check(databases=["default"]) == []
