"""SQL the ORM can only do row by row (the send path, applying events): quoted names, IN lists, pipelining,
rows to instances.

It runs on PostgreSQL and on SQLite (3.35+, see emails.checks); SQLite names
a VALUES list's columns column1, column2, and PostgreSQL's unnest is given
the same names. Nothing in it comes from user input but bound parameters.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any, Protocol, TypeVar

from django.db import connection
from django.db.models import Field, Model

M = TypeVar("M", bound=Model)
CHUNK = 500


class Executes(Protocol):
    def execute(self, sql: str, params: Sequence[Any]) -> Any: ...


# Quoted once per process: names never change, and a worker writes to one database.
@functools.cache
def table(model: type[Any]) -> str:
    return connection.ops.quote_name(model._meta.db_table)


@functools.cache
def column(model: type[Any], name: str) -> str:
    return connection.ops.quote_name(model._meta.get_field(name).column)


@contextmanager
def pipelined() -> Iterator[None]:
    """On PostgreSQL, send the statements of a write together and read their answers once (psycopg's
    pipeline mode): one round trip instead of one per statement. Statements run as they would one by one.
    """
    if connection.vendor != "postgresql":
        yield
        return
    connection.ensure_connection()
    with connection.connection.pipeline():
        yield


def sql_in(column_sql: str, values: list[Any]) -> tuple[str, list[Any]]:
    """`column IN (values)` as SQL and its parameters. On PostgreSQL one array parameter (= ANY):
    parsing and planning a statement with hundreds of literals costs the server more than running it."""
    if connection.vendor == "postgresql":
        return f"{column_sql} = ANY(%s)", [values]
    return f"{column_sql} IN ({', '.join(['%s'] * len(values))})", values


def instances(model: type[M], names: tuple[str, ...], rows: list[tuple[Any, ...]]) -> list[M]:
    """Model instances from a cursor's rows of `names` (attnames; any further columns are ignored).

    The values go through the converters the ORM would apply (on SQLite, text
    to UUID); the fields left out are deferred, as with QuerySet.only().
    """
    converters = []
    for index, name in enumerate(names):
        field = model._meta.get_field(name)
        assert isinstance(field, Field)  # a concrete column: the names are the model's own attnames
        col = field.get_col(model._meta.db_table)
        functions = connection.ops.get_db_converters(col) + col.get_db_converters(connection)
        if functions:
            converters.append((index, functions, col))
    width, alias, instances = len(names), connection.alias, []
    for row in rows:
        values = list(row[:width])
        for index, functions, col in converters:
            for convert in functions:
                values[index] = convert(values[index], col, connection)
        instances.append(model.from_db(alias, names, values))
    return instances
