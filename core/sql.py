"""SQL the ORM can only do row by row (the send path, applying events): quoted names, IN lists, pipelining,
rows to instances.

It runs on PostgreSQL and on SQLite (3.35+, see emails.checks); SQLite names
a VALUES list's columns column1, column2, and PostgreSQL's unnest is given
the same names. Nothing in it comes from user input but bound parameters.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from itertools import chain
from typing import Any, Protocol, TypeVar

from django.db import connection
from django.db.models import (
    AutoField,
    CharField,
    DateTimeField,
    Field,
    ForeignKey,
    IntegerField,
    JSONField,
    Model,
    TextField,
    UUIDField,
)

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
    # Model.from_db takes a subset of the fields in the model's order.
    position = {f.attname: i for i, f in enumerate(model._meta.concrete_fields)}
    order = sorted(range(len(names)), key=lambda index: position[names[index]])
    ordered = tuple(names[index] for index in order)
    width, alias, instances = len(names), connection.alias, []
    for row in rows:
        values = list(row[:width])
        for index, functions, col in converters:
            for convert in functions:
                values[index] = convert(values[index], col, connection)
        instances.append(model.from_db(alias, ordered, [values[index] for index in order]))
    return instances


_SQLITE_VARIABLES = 32_766  # SQLite's default limit of bound parameters since 3.32


class RowsWriter:
    """Many new rows of one model that differ only in a few fields: written without the ORM's INSERT.

    `QuerySet.bulk_create` prepares every field of every row through the
    field's own methods and compiles one INSERT per batch: for a bulk send's
    100,000 messages that is millions of calls before the database sees a
    row (docs/benchmarks.md, issue 12). Here the fields that are the same for
    every row are prepared once, from `base`, and each row gives only its
    `varying` values, prepared by cheap converters. PostgreSQL gets the rows by
    COPY; SQLite by INSERTs of many rows each, whose shared values are bound
    once a statement, not once a row (a message has 40 columns, 11 its own).

    An auto-incremented primary key is left to the database; auto_now and
    auto_now_add fields are given by the caller, as varying values (a per-row
    time keeps the rows' order). Nothing here is user input but values.
    """

    def __init__(self, model: type[Model], base: Model, varying: Sequence[str]) -> None:
        fields = {f.attname: f for f in model._meta.concrete_fields if not isinstance(f, AutoField)}
        unknown = set(varying) - set(fields)
        if unknown or not varying:
            raise ValueError(f"varying must name columns of {model.__name__}, not {sorted(unknown) or 'none'}")
        shared = [name for name in fields if name not in varying]
        # The columns in this order: the varying ones, then the shared ones (COPY and INSERT take any order).
        self.columns = [*varying, *shared]
        self._width = len(varying)
        # Only the values that need converting are given to a converter: str and int go as they are.
        # One converter for every time column, so a time a row gives twice (created_at, updated_at) is written once.
        times = _times()
        converters = [(index, _converter(fields[name], times)) for index, name in enumerate(varying)]
        self._convert = [(index, convert) for index, convert in converters if convert is not _same]
        self._shared = [_prepared(fields[name], getattr(base, name)) for name in shared]
        self._model = model

    def row(self, values: Sequence[Any]) -> list[Any]:
        """A row's varying values, in `varying`'s order, prepared for the database."""
        if len(values) != self._width:  # (not an assert: under -O a short row would shift values into other columns)
            raise ValueError(f"{len(values)} values for {self._width} varying columns")
        row = list(values)
        for index, convert in self._convert:
            row[index] = convert(row[index])
        return row

    def write(self, rows: list[list[Any]]) -> None:
        if not rows:
            return
        names = ", ".join(column(self._model, name) for name in self.columns)
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                shared = self._shared
                with cursor.copy(f"COPY {table(self._model)} ({names}) FROM STDIN") as copy:
                    for row in rows:
                        copy.write_row(row + shared)
                return
            # Many rows a statement, not one statement run per row (executemany): 15% less time in SQLite. The
            # shared values are bound once, in the SELECT list over the rows' VALUES (named column1, column2...).
            # "%s", as Django's cursor takes them: sqlite3's own "?" would skip its conversion, but a debug cursor
            # (DEBUG, or a test counting queries) formats the statement with "%" and fails on them.
            width = self._width
            select = ", ".join([f"column{i}" for i in range(1, width + 1)] + ["%s"] * len(self._shared))
            marks = "(" + ", ".join(["%s"] * width) + ")"
            per = max(1, (_SQLITE_VARIABLES - len(self._shared)) // width)
            for start in range(0, len(rows), per):
                part = rows[start : start + per]
                values = ", ".join([marks] * len(part))
                sql = f"INSERT INTO {table(self._model)} ({names}) SELECT {select} FROM (VALUES {values})"  # noqa: S608
                cursor.execute(sql, [*self._shared, *chain.from_iterable(part)])


def _same(value: Any) -> Any:
    return value


def _prepared(field: Field[Any, Any], value: Any) -> Any:
    prepared = field.get_db_prep_save(value, connection)
    if connection.vendor == "postgresql" and isinstance(field, JSONField):
        return json.dumps(value, cls=field.encoder)  # COPY takes jsonb as its text
    return prepared


def _times() -> Callable[[Any], Any]:
    """What turns an aware datetime into what the database takes."""
    if connection.vendor == "postgresql":
        return _same
    zone = connection.timezone  # SQLite keeps the text of the naive time in the connection's zone, as Django does

    def naive_text(value: Any) -> str:  # timezone.now() is in UTC, as the connection usually is: no conversion
        return str((value if value.tzinfo is zone else value.astimezone(zone)).replace(tzinfo=None))

    return _Last(naive_text)


def _converter(field: Field[Any, Any], times: Callable[[Any], Any]) -> Any:
    """What turns a Python value of `field` into what the database takes, as cheaply as that can be done."""
    target = field.target_field if isinstance(field, ForeignKey) else field
    if isinstance(target, UUIDField):
        return _same if connection.vendor == "postgresql" else (lambda value: value.hex)
    if isinstance(target, CharField | TextField | IntegerField) and not isinstance(field, ForeignKey | AutoField):
        return _same  # str and int go to the driver as they are
    if isinstance(field, JSONField):
        encoder = field.encoder
        # The same dict given row after row (a bulk's shared tags) is encoded once: a value is taken as it is when
        # given, so a caller changes none it has given.
        return _Last(lambda value: json.dumps(value, cls=encoder))
    if isinstance(field, DateTimeField):
        return times
    return lambda value: field.get_db_prep_save(value, connection)


class _Last:
    """A converter that reuses its last answer when given the same object again: a row's created_at is also its
    updated_at; a bulk's messages share one dict of tags. For values not changed between the rows that give them."""

    def __init__(self, convert: Callable[[Any], Any]) -> None:
        self._convert = convert
        self._value: Any = _NOTHING
        self._answer: Any = None

    def __call__(self, value: Any) -> Any:
        if value is not self._value:
            self._value, self._answer = value, self._convert(value)
        return self._answer


_NOTHING = object()
