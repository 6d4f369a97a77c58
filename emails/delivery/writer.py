"""A second PostgreSQL connection on which a drain's outcome writes run while the worker goes on sending."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import psycopg
from django.db import connection


class Statements:
    """Collects statements with their parameters bound (as psycopg's client-side binding does) into one SQL text."""

    def __init__(self, pg: Any) -> None:
        self.cursor = psycopg.ClientCursor(pg)
        self.parts: list[str] = []

    def execute(self, sql: str, params: Sequence[Any]) -> None:
        self.parts.append(self.cursor.mogrify(sql, params))

    @property
    def sql(self) -> str:
        return ";\n".join(self.parts)


class BackgroundWriter:
    """A second PostgreSQL connection that runs a write while the worker goes on sending.

    The statements go as one simple query: PostgreSQL runs them as one
    transaction, and libpq's asynchronous API sends them without waiting
    for the answer, which wait() reads (raising the error, if any) before
    the next write is sent. One worker then overlaps its database's work
    with building the next messages.
    """

    def __init__(self) -> None:
        params = connection.get_connection_params()
        self.connection = psycopg.connect(**{**params, "autocommit": True})
        self.pending = False

    @staticmethod
    def usable() -> bool:
        # In a transaction (a test's, or a caller's) another connection would not see its rows.
        return connection.vendor == "postgresql" and not connection.in_atomic_block

    def send(self, sql: str) -> None:
        """Send the statements and return without waiting for them (after the previous write is done)."""
        self.wait()
        if sql:
            with connection.wrap_database_errors:
                self.connection.pgconn.send_query(sql.encode())
            self.pending = True

    def wait(self) -> None:
        """Read the answer of the write sent last; raise its error (as Django's DatabaseError) if it failed."""
        if not self.pending:
            return
        self.pending = False
        error = None
        pgconn = self.connection.pgconn
        with connection.wrap_database_errors:
            while (result := pgconn.get_result()) is not None:
                if result.status == psycopg.pq.ExecStatus.FATAL_ERROR and error is None:
                    error = psycopg.errors.error_from_result(result, encoding=self.connection.info.encoding)
            if error is not None:
                raise error

    def close(self) -> None:
        try:
            self.wait()
        finally:
            self.connection.close()
