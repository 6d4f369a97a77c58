"""Writing what SES calls did: recipients' statuses and SES ids, their events, the messages' outcomes."""

from __future__ import annotations

import time
import uuid
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connection, connections, transaction
from django.utils import timezone

from core.sql import CHUNK, Executes, column, pipelined, sql_in, table
from emails.choices import EventType, MessageStatus, RecipientStatus
from emails.delivery.writer import BackgroundWriter, Statements
from emails.models import Event, Message, Recipient
from emails.outcomes import COUNT_FIELDS, message_counts_apply, statuses_below


@dataclass
class SendRecords:
    """Outcomes of SES calls not yet written."""

    sent: list[tuple[list[Recipient], str]] = field(default_factory=list)
    failed: list[tuple[list[Recipient], str]] = field(default_factory=list)
    suppressed: list[tuple[Recipient, str]] = field(default_factory=list)
    finished: list[Message] = field(default_factory=list)
    held: list[Message] = field(default_factory=list)
    # Messages still being sent, with their counts so far (a paced send waiting for its next call).
    progress: list[Message] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.sent or self.failed or self.suppressed or self.finished or self.held or self.progress)

    def write(self) -> None:
        """Write everything in one transaction, in a handful of statements however many calls.

        Rows that get the same values share one UPDATE, each recipient's own
        SES MessageId goes in with one UPDATE ... FROM (a VALUES list, or on
        PostgreSQL unnest of two arrays), and the events are copied from the
        recipient rows by INSERT ... SELECT, so no Event object is built in
        Python. (bulk_update would build a CASE per row and column: most of a
        fast worker's time, measured in docs/benchmarks.md.)
        """
        now = timezone.now()
        with transaction.atomic(), pipelined(), connection.cursor() as cursor:
            self._statements(cursor, now)
            self._held_write(now)

    def write_in_background(self, writer: BackgroundWriter) -> None:
        """Hand the statements of write() to `writer`, which runs them as one transaction on its own connection."""
        statements = Statements(writer.connection)
        self._statements(statements, timezone.now())
        writer.send(statements.sql)

    @property
    def background_ok(self) -> bool:
        """Held messages are written through the ORM: those writes stay on the main connection."""
        return not self.held

    def _statements(self, cursor: Executes, now: datetime) -> None:
        if self.sent:
            pairs = [(r.pk, ses_id) for group, ses_id in self.sent for r in group]
            _recipients_sent_write(cursor, pairs, now)
            _events_copy(cursor, [pk for pk, _ in pairs], EventType.SEND, now, ses_id_from_recipient=True)
        refused: dict[tuple[str, str], list[int]] = defaultdict(list)
        for group, reason in self.failed:
            refused[(RecipientStatus.FAILED, reason)].extend(r.pk for r in group)
        for r, reason in self.suppressed:
            refused[(RecipientStatus.SUPPRESSED, reason)].append(r.pk)
        for (status, reason), ids in refused.items():
            _recipients_refused_write(cursor, ids, status, reason, now)
            event_type = EventType.FAILURE if status == RecipientStatus.FAILED else EventType.SUPPRESSED
            _events_copy(cursor, ids, event_type, now, details={"reason": reason})
        self._progress_write(cursor, now)
        self._messages_write(cursor, now)

    def _progress_write(self, cursor: Executes, now: datetime) -> None:
        """Counts so far, and the time of the first SES call, of messages still being sent."""
        at = connection.ops.adapt_datetimefield_value(now)
        sent_at = column(Message, "sent_at")
        sets = ", ".join(f"{column(Message, name)} = %s" for name in (*COUNT_FIELDS, "updated_at"))
        sets += f", {sent_at} = COALESCE({sent_at}, %s)"
        db = connections[DEFAULT_DB_ALIAS]
        for m in self.progress:
            cursor.execute(
                f"UPDATE {table(Message)} SET {sets} WHERE {column(Message, 'id')} = %s",  # noqa: S608
                [*(getattr(m, f) for f in COUNT_FIELDS), at, at, Message._meta.pk.get_db_prep_value(m.pk, db)],
            )

    def _held_write(self, now: datetime) -> None:
        held: dict[str, list[uuid.UUID]] = defaultdict(list)
        for m in self.held:  # their counts stay as they are: nothing was sent
            held[m.status_reason].append(m.pk)
        for reason, ids in held.items():
            Message.objects.filter(pk__in=ids).update(
                status=MessageStatus.HELD, status_reason=reason, lease_until=None, updated_at=now
            )

    def _messages_write(self, cursor: Executes, now: datetime) -> None:
        """Messages that end alike (usually all of them) in one UPDATE."""
        alike: dict[tuple[Any, ...], list[uuid.UUID]] = defaultdict(list)
        for m in self.finished:
            alike[(m.status, m.status_reason, m.cost, *(getattr(m, f) for f in COUNT_FIELDS))].append(m.pk)
        message, id_field = table(Message), Message._meta.pk
        db = connections[DEFAULT_DB_ALIAS]  # the connection itself: the proxy costs a lookup per attribute
        at = connection.ops.adapt_datetimefield_value(now)
        for (status, reason, cost, *counts), ids in alike.items():
            changes: list[tuple[str, Any]] = [
                ("status", status), ("status_reason", reason),
                ("cost", connection.ops.adapt_decimalfield_value(cost, 14, 8)),
                ("lease_until", None), ("send_after", None), ("updated_at", at),
                *zip(COUNT_FIELDS, counts, strict=True),
            ]  # fmt: skip
            sets = ", ".join(f"{column(Message, name)} = %s" for name, _ in changes)
            if counts[0]:  # sent_count: the time of the first SES call; a resumed message keeps its own
                sets += f", {column(Message, 'sent_at')} = COALESCE({column(Message, 'sent_at')}, %s)"
                changes.append(("sent_at", at))
            for start in range(0, len(ids), CHUNK):
                prepared = [id_field.get_db_prep_value(pk, db) for pk in ids[start : start + CHUNK]]
                where, chunk = sql_in(column(Message, "id"), prepared)
                cursor.execute(
                    f"UPDATE {message} SET {sets} WHERE {where}",  # noqa: S608
                    [value for _, value in changes] + chunk,
                )


class SendRecorder:
    """Collects the outcome of SES calls and writes them in few queries.

    It writes once the oldest unwritten call is EMAIL_RECORD_MAX_DELAY_MS
    old (or EMAIL_RECORD_MAX_CALLS are pending). Against real SES a call
    takes longer than that delay, so every call is written before the next
    one starts; a worker that dies can only cause a duplicate for calls of
    the last few milliseconds, never a loss.

    With `background` (a drain), on PostgreSQL outside a transaction, each
    write goes to a BackgroundWriter and the worker does not wait for it;
    flush(wait=True) and close() do.
    """

    def __init__(self, *, background: bool = False) -> None:
        self.background = background
        self.writer: BackgroundWriter | None = None
        self.records = SendRecords()
        self.oldest: float | None = None
        self.calls = 0
        # Read once: due() runs after every message.
        self.max_delay = settings.EMAIL_RECORD_MAX_DELAY_MS / 1000
        self.max_calls = settings.EMAIL_RECORD_MAX_CALLS

    def record_sent(self, group: list[Recipient], ses_message_id: str) -> None:
        self.records.sent.append((group, ses_message_id))
        self._touch()

    def record_failed(self, group: list[Recipient], reason: str) -> None:
        self.records.failed.append((group, reason))
        self._touch()

    def record_suppressed(self, recipient: Recipient, reason: str) -> None:
        self.records.suppressed.append((recipient, reason))

    def record_progress(self, message: Message, statuses: Counter[str]) -> None:
        """A message part-sent, with its counts so far: written with the next flush, so its page shows them."""
        message_counts_apply(message, statuses)  # `sending` is its lifecycle's: only the counts change
        self.records.progress.append(message)

    def record_finished(self, message: Message) -> None:
        self.records.finished.append(message)

    def record_held(self, message: Message) -> None:
        self.records.held.append(message)

    def _touch(self) -> None:
        self.calls += 1
        if self.oldest is None:
            self.oldest = time.monotonic()

    def due(self) -> bool:
        if self.oldest is None:
            return False
        return time.monotonic() - self.oldest >= self.max_delay or self.calls >= self.max_calls

    def flush(self, *, wait: bool = False) -> None:
        """Write everything recorded so far; with `wait`, return only once it is committed."""
        records, self.records = self.records, SendRecords()
        self.oldest, self.calls = None, 0
        writer = self._writer() if records and records.background_ok else None
        if writer is not None:
            records.write_in_background(writer)
        elif records:
            self.wait()  # in order: the write in the background, if any, first
            records.write()
        if wait:
            self.wait()

    def wait(self) -> None:
        """Until the write in the background (if any) is committed; its error, if it failed."""
        if self.writer is not None:
            self.writer.wait()

    def close(self) -> None:
        if self.writer is not None:
            writer, self.writer = self.writer, None
            writer.close()

    def _writer(self) -> BackgroundWriter | None:
        if self.writer is None and self.background and BackgroundWriter.usable():
            self.writer = BackgroundWriter()
        return self.writer


def _recipients_refused_write(cursor: Executes, ids: list[int], status: str, reason: str, now: datetime) -> None:
    at = connection.ops.adapt_datetimefield_value(now)
    sets = ", ".join(f"{column(Recipient, name)} = %s" for name in ("status", "reason", "last_event_at"))
    for start in range(0, len(ids), CHUNK):
        where, chunk = sql_in(column(Recipient, "id"), ids[start : start + CHUNK])
        cursor.execute(f"UPDATE {table(Recipient)} SET {sets} WHERE {where}", [status, reason, at, *chunk])  # noqa: S608


def _recipients_sent_write(cursor: Executes, pairs: list[tuple[int, str]], now: datetime) -> None:
    """Mark recipients `sent`, each with its own SES MessageId, in one UPDATE ... FROM per 500.

    A recipient an SES event already moved on (its Delivery can outrun this
    write) keeps its status and the time of that event: `sent` never moves
    one down.
    """
    recipient = table(Recipient)
    status = column(Recipient, "status")
    unsent = ", ".join(["%s"] * len(statuses_below(RecipientStatus.SENT)))
    sets = (
        f"{status} = CASE WHEN {status} IN ({unsent}) THEN %s ELSE {status} END, "
        f"{column(Recipient, 'sent_at')} = %s, "
        f"{column(Recipient, 'last_event_at')} = CASE WHEN {status} IN ({unsent}) THEN %s "
        f"ELSE {column(Recipient, 'last_event_at')} END"
    )
    unsent_values = statuses_below(RecipientStatus.SENT)
    at = connection.ops.adapt_datetimefield_value(now)
    for start in range(0, len(pairs), CHUNK):
        chunk = pairs[start : start + CHUNK]
        ids = [pk for pk, _ in chunk]
        if connection.vendor == "postgresql":  # two array parameters, not a literal per value
            rows = "unnest(%s::bigint[], %s::text[]) AS v (column1, column2)"
            values: list[Any] = [ids, [ses_id for _, ses_id in chunk]]
        else:
            rows, values = f"(VALUES {', '.join(['(%s, %s)'] * len(chunk))}) AS v", [v for pair in chunk for v in pair]
        # The ids again as a condition of their own, so the rows are found by
        # primary key: joined to the list alone, PostgreSQL read the whole
        # table whenever it was small enough to look cheap.
        where, id_values = sql_in(f"{recipient}.{column(Recipient, 'id')}", ids)
        sql = (
            f"UPDATE {recipient} SET {sets}, {column(Recipient, 'ses_message_id')} = v.column2 "  # noqa: S608
            f"FROM {rows} WHERE {where} AND {recipient}.{column(Recipient, 'id')} = v.column1"
        )
        params = [*unsent_values, RecipientStatus.SENT, at, *unsent_values, at, *values, *id_values]
        cursor.execute(sql, params)


def _events_copy(
    cursor: Executes,
    recipient_ids: list[int],
    event_type: str,
    now: datetime,
    *,
    ses_id_from_recipient: bool = False,
    details: dict[str, Any] | None = None,
) -> None:
    """Append one event of `event_type` per recipient, copied from its row by INSERT ... SELECT."""
    columns = ["message", "recipient", "address", "type", "occurred_at", "recorded_at", "ses_message_id",
               "sns_message_id", "details"]  # fmt: skip
    ses_id = column(Recipient, "ses_message_id") if ses_id_from_recipient else "''"
    at = connection.ops.adapt_datetimefield_value(now)
    details_value = Event._meta.get_field("details").get_db_prep_value(details or {}, connection)
    for start in range(0, len(recipient_ids), CHUNK):
        where, chunk = sql_in(column(Recipient, "id"), recipient_ids[start : start + CHUNK])
        sql = (
            f"INSERT INTO {table(Event)} ({', '.join(column(Event, c) for c in columns)}) "  # noqa: S608
            f"SELECT {column(Recipient, 'message')}, {column(Recipient, 'id')}, {column(Recipient, 'address')}, "
            f"%s, %s, %s, {ses_id}, '', %s FROM {table(Recipient)} WHERE {where}"
        )
        cursor.execute(sql, [event_type, at, at, details_value, *chunk])
