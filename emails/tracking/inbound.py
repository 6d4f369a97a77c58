"""Stored SNS messages: kept verbatim once per MessageId, and a worker scheduled to apply them.

The webhook's hot path ends here: one INSERT and a coalesced task. Applying
is emails.tracking.apply's job, on a worker.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from emails.models import InboundNotification
from emails.scheduling import notifications_apply_schedule


@dataclass(frozen=True)
class StoreResult:
    notification: InboundNotification
    created: bool


def notification_store(*, message: dict[str, Any], body: str) -> StoreResult:
    """Keep a verified SNS message verbatim, once per MessageId, and schedule its processing."""
    fields = {
        "sns_message_id": message["MessageId"],
        "type": message["Type"],
        "topic_arn": message.get("TopicArn", ""),
        "body": body,
    }
    try:
        if connection.in_atomic_block:
            # A savepoint, so a duplicate leaves the caller's transaction usable.
            with transaction.atomic():
                notification = InboundNotification.objects.create(**fields)
        else:
            # The webhook runs in autocommit: one INSERT, no BEGIN and COMMIT
            # round trips on its hot path.
            notification = InboundNotification.objects.create(**fields)
    except IntegrityError:
        # SNS retries reuse the MessageId: seen before, nothing more to do.
        return StoreResult(
            notification=InboundNotification.objects.get(sns_message_id=message["MessageId"]), created=False
        )
    notifications_drain_schedule()
    return StoreResult(notification=notification, created=True)


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
