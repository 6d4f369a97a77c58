"""A bulk's recipients read from one of our stored CSV files, as a stream: the rows are never all in memory.

The header row names the columns: `email` (required), optionally `name` and
`clientId`; every other column, and `name` too, becomes that row's
`templateData`. Reading it
twice (once to count, once to write) costs a second pass over storage, not
memory.
"""

from __future__ import annotations

import codecs
import csv
import io
import uuid
from collections.abc import Iterator, Mapping
from typing import IO

from django.contrib.auth.models import User

from core.errors import FieldErrors
from emails.accepting.draft import BulkRow
from files import storage
from files.exceptions import StoredObjectChanged, StoredObjectMissing
from files.models import File
from files.selectors import files_attachable

CSV_TYPES = ("text/csv", "application/csv", "text/plain")
ADDRESS_COLUMNS = ("email", "to", "address")
FIELD = ("recipientsFileId",)
csv.field_size_limit(64 * 1024)


def _lines(stream: IO[bytes]) -> Iterator[str]:
    """The stream's text, line by line as it is read (UTF-8, a leading byte-order mark dropped)."""
    return iter(codecs.getreader("utf-8-sig")(stream, "replace"))


def rows_of(lines: Iterator[str], header: list[str], columns: Mapping[str, str] | None = None) -> Iterator[BulkRow]:
    """The rows of CSV lines whose first line is `header` (checked by `csv_header_problem`).

    `columns` maps `email`, `name` and `clientId` to the file's own column names when they differ (the bulk
    page's column mapping); by default they are found by name.
    """
    columns = columns or {}
    address_column = columns.get("email") or next(c for c in header if c.strip().lower() in ADDRESS_COLUMNS)
    name_column, client_column = columns.get("name") or "name", columns.get("clientId") or "clientId"
    for line in csv.DictReader(lines, strict=False):
        data = {key: value for key, value in line.items() if key is not None and value is not None}
        address = data.pop(address_column, "") or ""
        name = data.get(name_column, "") or ""  # kept in templateData too: templates say {{ name }}
        if name_column != "name" and name_column in data:
            data["name"] = data.pop(name_column)
        client_id = data.pop(client_column, "") or ""
        problem = "The line has more values than the header has columns." if None in line else ""
        yield BulkRow(to=address, name=name, client_id=client_id, template_data=data, problem=problem)


def csv_header_problem(header: list[str], columns: Mapping[str, str] | None = None) -> str | None:
    columns = columns or {}
    for role, column in columns.items():
        if column and column not in header:
            return f"The file has no column {column!r} for {role}."
    if not columns.get("email") and not any(column.strip().lower() in ADDRESS_COLUMNS for column in header):
        return "The file's first line must name its columns, one of them `email`."
    return None


class CsvRows:
    """The rows of a stored CSV file, re-iterable: each pass opens the object again."""

    def __init__(self, file: File, header: list[str], columns: Mapping[str, str] | None = None) -> None:
        self.file = file
        self.header = header
        self.columns = columns

    def __iter__(self) -> Iterator[BulkRow]:
        with storage.open_stream(key=self.file.key, etag=self.file.etag, version_id=self.file.version_id) as stream:
            yield from rows_of(_lines(stream), self.header, self.columns)


class LocalCsvRows:
    """The rows of a CSV file on this machine's disk (the email_bulk command), re-iterable."""

    def __init__(self, path: str) -> None:
        self.path = path
        with open(path, encoding="utf-8-sig", errors="replace", newline="") as handle:
            self.header = next(csv.reader(handle), [])

    def __iter__(self) -> Iterator[BulkRow]:
        with open(self.path, encoding="utf-8-sig", errors="replace", newline="") as handle:
            yield from rows_of(iter(handle), self.header)


class TextCsvRows:
    """The rows of CSV text pasted into the bulk page, re-iterable."""

    def __init__(self, text: str, columns: Mapping[str, str] | None = None) -> None:
        self.text = text
        self.header = next(csv.reader(io.StringIO(text)), [])
        self.columns = columns

    def __iter__(self) -> Iterator[BulkRow]:
        yield from rows_of(iter(io.StringIO(self.text)), self.header, self.columns)


def csv_rows(
    errors: FieldErrors, *, owner: User, file_id: uuid.UUID | None, columns: Mapping[str, str] | None = None
) -> CsvRows | None:
    """The file's rows, once its header is read; the problems at `recipientsFileId` otherwise."""
    file = files_attachable(user=owner).filter(pk=file_id).first() if file_id is not None else None
    if file is None:
        errors.add(FIELD, "No such completed file among yours or the public ones.", "file_unknown")
        return None
    if file.content_type not in CSV_TYPES:
        errors.add(FIELD, f"A CSV file is needed; this one is {file.content_type}.", "file_type")
        return None
    try:
        with storage.open_stream(key=file.key, etag=file.etag, version_id=file.version_id) as stream:
            header = next(csv.reader(_lines(stream)), [])
    except (StoredObjectMissing, StoredObjectChanged):
        errors.add(FIELD, "The file is no longer in storage.", "file_missing")
        return None
    except csv.Error as exc:
        errors.add(FIELD, f"This is not a CSV file this service can read: {exc}.", "file_unreadable")
        return None
    if problem := csv_header_problem(header, columns):
        errors.add(FIELD, problem, "csv_header")
        return None
    return CsvRows(file, header, columns)
