"""Stored SNS messages: kept verbatim once per MessageId, and a worker scheduled to apply them.

The webhook's hot path ends here: one INSERT and a coalesced task. Applying
is emails.tracking.apply's job, on a worker.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import InterfaceError, OperationalError, connection
from django.utils import timezone

from core.sql import column, table
from emails.models import InboundNotification
from emails.scheduling import notifications_apply_schedule

# Given by each INSERT; every other column takes its field's default.
_STORED = ("sns_message_id", "type", "topic_arn", "body", "received_at")


@dataclass(frozen=True)
class StoreResult:
    notification_id: int
    created: bool


def notification_store(*, message: dict[str, Any], body: str) -> StoreResult:
    """Keep a verified SNS message verbatim, once per MessageId, and schedule its processing."""
    values = (message["MessageId"], message["Type"], message.get("TopicArn", ""), body, timezone.now())
    notification_id, maybe_stored_before = _insert(values)
    if notification_id is None:
        if maybe_stored_before:
            # The first try may have been stored without its answer reaching us: have it applied.
            notifications_drain_schedule()
        # SNS retries reuse the MessageId: seen before, nothing more to do.
        stored = InboundNotification.objects.filter(sns_message_id=message["MessageId"]).values_list("pk", flat=True)
        return StoreResult(notification_id=stored.get(), created=False)
    notifications_drain_schedule()
    return StoreResult(notification_id=notification_id, created=True)


def _insert(values: tuple[Any, ...]) -> tuple[int | None, bool]:
    """One INSERT ... ON CONFLICT DO NOTHING: the new row's id (None when the MessageId is stored already), and
    whether it was tried twice.

    The webhook's hot path (docs/benchmarks.md, issue 13): the ORM's create cost about twice this in the
    web process, and a duplicate is no exception to catch, so no savepoint either inside a transaction.
    In autocommit (the webhook) the INSERT is also its own connection health check: Django's
    (CONN_HEALTH_CHECKS) would send a SELECT 1 first on every request. A reused connection that died since
    its last request fails the INSERT, which is tried once more on a new connection; ON CONFLICT makes that
    harmless if the first try was stored after all.
    """
    sql, defaults = _insert_statement()
    params = [*values[:-1], _received_at().get_db_prep_save(values[-1], connection), *defaults]
    reused = not connection.in_atomic_block and connection.connection is not None
    if reused:
        connection.health_check_done = True  # type: ignore[attr-defined]  # Django's own flag, not in the stubs
        try:
            return _inserted_id(sql, params), False
        except (InterfaceError, OperationalError):
            connection.close()
    return _inserted_id(sql, params), reused


def _inserted_id(sql: str, params: list[Any]) -> int | None:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        row = cursor.fetchone()
    return None if row is None else int(row[0])


@functools.cache
def _received_at() -> Any:
    return InboundNotification._meta.get_field("received_at")


@functools.cache
def _insert_statement() -> tuple[str, tuple[Any, ...]]:
    """The INSERT, and the prepared defaults of the columns after the stored ones (a field added later included)."""
    rest = [f for f in InboundNotification._meta.concrete_fields if not f.primary_key and f.attname not in _STORED]
    names = ", ".join(column(InboundNotification, name) for name in (*_STORED, *(f.attname for f in rest)))
    marks = ", ".join(["%s"] * (len(_STORED) + len(rest)))
    pk = column(InboundNotification, "id")
    sql = (
        f"INSERT INTO {table(InboundNotification)} ({names}) VALUES ({marks}) "  # noqa: S608 (names only)
        f"ON CONFLICT ({column(InboundNotification, 'sns_message_id')}) DO NOTHING RETURNING {pk}"
    )
    return sql, tuple(f.get_db_prep_save(f.get_default(), connection) for f in rest)


DRAIN_SCHEDULED_KEY = "emails:notifications-drain-scheduled"


def notifications_drain_schedule() -> None:
    """Have a worker apply pending notifications, with one task for a burst rather than one each.

    The key stays while a drain task waits to start; the task deletes it before
    it looks for pending rows, so a notification stored after that schedules
    another drain. A task lost on the way leaves the key to expire, and the
    sweeper (`notifications_sweep`) picks up whatever is still pending.
    """
    if cache.add(DRAIN_SCHEDULED_KEY, 1, timeout=settings.EVENTS_DRAIN_COALESCE_SECONDS):
        notifications_apply_schedule()


def notifications_sweep(*, stale_after: timedelta = timedelta(minutes=1)) -> int:
    """Schedule a drain when notifications have waited too long (a lost task, a failed confirmation)."""
    waiting = InboundNotification.objects.filter(
        processed_at__isnull=True, received_at__lt=timezone.now() - stale_after
    ).count()
    if waiting:
        cache.delete(DRAIN_SCHEDULED_KEY)
        notifications_drain_schedule()
    return waiting


def notification_payload(notification: InboundNotification) -> dict[str, Any]:
    return dict(json.loads(notification.body))
