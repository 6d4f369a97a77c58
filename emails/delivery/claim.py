"""Claiming queued messages for one worker, and loading what sending them needs."""

from __future__ import annotations

import uuid
from collections import defaultdict
from contextlib import nullcontext
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connection, connections, transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from core.sql import column, instances, sql_in, table
from emails.choices import Category, MessageStatus, Priority, RecipientStatus
from emails.models import Attachment, Message, Recipient, ReputationHold
from emails.suppression import SuppressionList, reputation_hold_active


def lease_end() -> datetime:
    return timezone.now() + timedelta(seconds=settings.EMAIL_SEND_LEASE_SECONDS)


def _due() -> Q:
    return Q(send_after__isnull=True) | Q(send_after__lte=timezone.now())


def _queued_due() -> QuerySet[Message]:
    return Message.objects.select_for_update(skip_locked=True).filter(_due(), status=MessageStatus.QUEUED)


# What sending a message reads. The rest stays deferred: loading it would
# cost more than the claim (its counts and cost are set from the recipients).
SEND_FIELDS = (
    "id", "from_email", "reply_to", "subject", "html_body", "text_body", "category", "status",
    "recipient_count", "attachment_count", "attempts",
    # A bulk's message may have its bodies rendered from its bulk and its data (templating.bodies).
    "bulk_id", "template_data", "body_removed_at",
)  # fmt: skip
RECIPIENT_SEND_FIELDS = ("id", "message_id", "kind", "address", "display_name", "status")


def _claim(candidates: QuerySet[Message]) -> list[Message]:
    """Move the candidates from `queued` to `sending` under a lease and load them, oldest first, in one statement.

    UPDATE ... WHERE id IN (candidates) RETURNING SEND_FIELDS: only rows
    this statement moved come back, so two workers never both hold a
    message. On PostgreSQL the candidates are selected FOR UPDATE SKIP
    LOCKED, so workers claiming at once take different rows instead of
    waiting on each other. One statement is its own transaction: one round
    trip for the claim and the read.

    RETURNING keeps no order. PostgreSQL sorts the claimed rows itself (the
    UPDATE is a CTE); SQLite returns the stored text of created_at, which
    sorts like the time, and they are sorted here. Either way no timestamp
    is parsed: a Python-side timezone conversion per row costs more than
    the rest of the row.
    """
    # Django compiles FOR UPDATE only inside a transaction; on PostgreSQL
    # entering and leaving an empty one sends nothing. (SQLite has no FOR
    # UPDATE, and its BEGIN IMMEDIATE would take the write lock for nothing.)
    compiling = transaction.atomic() if connection.features.has_select_for_update else nullcontext()
    with compiling:
        inner, inner_params = candidates.values("pk").query.sql_with_params()
    return _claim_ids_of(inner, list(inner_params))


def _claim_ids_of(inner: str, inner_params: list[Any]) -> list[Message]:
    """_claim, with the candidates' ids given as a SELECT of its own."""
    message, status, lease = table(Message), column(Message, "status"), column(Message, "lease_until")
    created = column(Message, "created_at")
    until = connection.ops.adapt_datetimefield_value(lease_end())
    returning = ", ".join(column(Message, name) for name in SEND_FIELDS)
    # On PostgreSQL = ANY(ARRAY(...)) makes the candidates' ids one value, so
    # the rows are found by primary key (an IN (subquery) was planned as a
    # join over the whole table).
    where = f"= ANY(ARRAY({inner}))" if connection.vendor == "postgresql" else f"IN ({inner})"
    update = (
        f"UPDATE {message} SET {status} = %s, {lease} = %s "  # noqa: S608 (bound parameters only)
        f"WHERE {column(Message, 'id')} {where} RETURNING {returning}, {created} AS claim_order"
    )
    if connection.vendor == "postgresql":
        sql = f"WITH claimed AS ({update}) SELECT {returning} FROM claimed ORDER BY claim_order"  # noqa: S608
    else:
        sql = update
    with connection.cursor() as cursor:
        cursor.execute(sql, [MessageStatus.SENDING, until, *inner_params])
        rows = cursor.fetchall()
    if connection.vendor != "postgresql":
        rows.sort(key=lambda row: row[-1])
    # Instances straight from the rows: a raw() queryset costs more per row than the claim itself.
    return instances(Message, SEND_FIELDS, rows)


def email_claim(*, message_id: uuid.UUID) -> bool:
    """Take one queued message for this worker; False when another has it or it is not due."""
    return bool(_claim(_queued_due().filter(pk=message_id)))


# Claimed before anything else queued, however much is (a bulk of 100,000): a password reset never waits for it.
FIRST = (Priority.URGENT, Priority.HIGH)


def email_claim_batch(*, limit: int) -> list[Message]:
    """Take up to `limit` due queued messages, urgent and high first, then oldest first, skipping ones others hold.

    Two claims, each one statement on its own partial index: the urgent and
    high ones (msg_queued_urgent_created; nothing to read when there are
    none), then the rest.
    """
    claimed = _claim_first(limit)
    if len(claimed) < limit:
        claimed += _claim(_queued_due().order_by("created_at")[: limit - len(claimed)])
    return claimed


def _claim_first(limit: int) -> list[Message]:
    """Claim up to `limit` due urgent and high messages, oldest first, on the partial index msg_queued_urgent_created.

    PostgreSQL plans the ORM's query on it. SQLite uses a partial index only
    when the query names its condition's values as literals, and even then
    its planner prefers msg_status_created, walking every queued message to
    find none: 112 ms a claim behind a bulk of 100,000 (docs/benchmarks.md,
    issue 12). So there the literals are written and the index named; INDEXED
    BY fails the statement, rather than scan, if the index stops fitting.
    """
    if connection.vendor != "sqlite":
        return _claim(_queued_due().filter(priority__in=FIRST).order_by("created_at")[:limit])
    priorities = ", ".join(f"'{p}'" for p in FIRST if p.isidentifier())  # our own constants, never input
    queued, send_after = f"'{MessageStatus.QUEUED}'", column(Message, "send_after")
    inner = (
        f"SELECT {column(Message, 'id')} FROM {table(Message)} INDEXED BY msg_queued_urgent_created "  # noqa: S608
        f"WHERE {column(Message, 'priority')} IN ({priorities}) AND {column(Message, 'status')} = {queued} "
        f"AND ({send_after} IS NULL OR {send_after} <= %s) ORDER BY {column(Message, 'created_at')} LIMIT %s"
    )
    return _claim_ids_of(inner, [connection.ops.adapt_datetimefield_value(timezone.now()), limit])


@dataclass(frozen=True)
class Blocks:
    """What stops mail before SES, loaded once per batch: suppressions and reputation holds."""

    suppressions: SuppressionList
    held: dict[str, ReputationHold]

    @classmethod
    def load(cls, categories: set[str], addresses: set[str]) -> Blocks:
        held: dict[str, ReputationHold] = {}
        if Category.MARKETING in categories:
            hold = reputation_hold_active(category=Category.MARKETING)
            if hold is not None:
                held[Category.MARKETING] = hold
        return cls(suppressions=SuppressionList.of(addresses), held=held)


@dataclass(frozen=True)
class Batch:
    """Claimed messages, oldest first, with their recipients and attachments in order, and the blocks.

    Loaded with one query per kind of row, grouped here: Django's
    prefetch_related would cost more than the queries themselves.
    """

    messages: list[Message]
    recipients: dict[uuid.UUID, list[Recipient]]
    attachments: dict[uuid.UUID, list[Attachment]]
    blocks: Blocks

    @classmethod
    def load(cls, messages: list[Message]) -> Batch:
        ids = [m.pk for m in messages]
        recipients: dict[uuid.UUID, list[Recipient]] = defaultdict(list)
        attachments: dict[uuid.UUID, list[Attachment]] = defaultdict(list)
        if ids:
            for r in _recipients_of(ids):
                recipients[r.message_id].append(r)
        with_attachments = [m.pk for m in messages if m.attachment_count]
        if with_attachments:
            files = Attachment.objects.filter(message_id__in=with_attachments).select_related("file")
            for a in files.order_by("position"):
                attachments[a.message_id].append(a)
        addresses = {r.address for rows in recipients.values() for r in rows if r.status == RecipientStatus.QUEUED}
        blocks = Blocks.load({m.category for m in messages}, addresses)
        return cls(messages=messages, recipients=recipients, attachments=attachments, blocks=blocks)


def _recipients_of(message_ids: list[uuid.UUID]) -> list[Recipient]:
    """The messages' recipients (RECIPIENT_SEND_FIELDS), by message and position: one query.

    By a cursor, with the ids as one array on PostgreSQL: the ORM's IN list
    of 500 ids and its instances cost more than the query."""
    db = connections[DEFAULT_DB_ALIAS]  # the connection itself: the proxy costs a lookup per attribute
    ids = [Message._meta.pk.get_db_prep_value(pk, db) for pk in message_ids]
    where, params = sql_in(column(Recipient, "message"), ids)
    names = ", ".join(column(Recipient, name) for name in RECIPIENT_SEND_FIELDS)
    order = f"{column(Recipient, 'message')}, {column(Recipient, 'position')}"
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {names} FROM {table(Recipient)} WHERE {where} ORDER BY {order}", params)  # noqa: S608
        rows = cursor.fetchall()
    return instances(Recipient, RECIPIENT_SEND_FIELDS, rows)


def batch_claim(*, limit: int) -> Batch:
    return Batch.load(email_claim_batch(limit=limit))


def batch_claim_first(*, limit: int) -> Batch:
    """Urgent and high messages only, for a draining worker to send before the rest of its batch."""
    return Batch.load(_claim_first(limit))


def batch_claim_one(*, message_id: uuid.UUID) -> Batch:
    return Batch.load(_claim(_queued_due().filter(pk=message_id)))
