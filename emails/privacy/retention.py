"""Retention: the bodies of finished mail and the raw SNS bodies already applied, removed once old enough.

A run works in bounded batches (a list of ids, then one UPDATE that checks
the rule again), each in its own short transaction, oldest first. Each kind
has a partial index holding exactly the rows still to be looked at, so a run
reads what it removes, not everything removed before, and running it again
changes nothing.

What stays: the message with its subject, recipients, events, counts and
cost (only its bodies and template data go, with `body_removed_at` saying
when); the notification row, so SNS's retries are still recognised and its
events still point at it. Mail not finished sending (scheduled, queued,
sending, held, paused) keeps its bodies: it still has to go. A notification
not yet applied keeps its body: it still has to be applied.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import QuerySet
from django.db.models.functions import Coalesce
from django.utils import timezone

from emails.choices import MESSAGE_FINISHED, BodyRemoval
from emails.models import InboundNotification, Message

logger = logging.getLogger(__name__)

Progress = Callable[[int, int], None]
BATCH_SIZE = 1000


@dataclass(frozen=True)
class RetentionResult:
    bodies: int  # messages whose bodies were removed
    notifications: int  # SNS bodies removed


def message_bodies_due(*, days: int, now: datetime) -> QuerySet[Message]:
    """Finished messages last sent (or created, if never sent) more than `days` ago that still hold their bodies."""
    return Message.objects.alias(activity=Coalesce("sent_at", "created_at")).filter(
        activity__lt=now - timedelta(days=days), status__in=MESSAGE_FINISHED, body_removed_at__isnull=True
    )


def notification_bodies_due(*, days: int, now: datetime) -> QuerySet[InboundNotification]:
    """Applied SNS notifications received more than `days` ago that still hold their body."""
    return InboundNotification.objects.filter(
        received_at__lt=now - timedelta(days=days), processed_at__isnull=False, body_removed_at__isnull=True
    )


def message_bodies_remove(
    *, days: int, now: datetime | None = None, batch_size: int = BATCH_SIZE, progress: Progress | None = None
) -> int:
    """Remove the bodies of finished messages older than `days` (0: keep them all); how many were removed."""
    if days <= 0:
        return 0
    now = now or timezone.now()
    due = message_bodies_due(days=days, now=now)

    def remove(ids: list[object]) -> int:
        # The rule again in the UPDATE: a row another run removed meanwhile is not counted twice.
        return Message.objects.filter(pk__in=ids, status__in=MESSAGE_FINISHED, body_removed_at__isnull=True).update(
            html_body="", text_body="", template_data={}, body_removed_at=now, body_removed_reason=BodyRemoval.RETENTION
        )

    return _in_batches(due.order_by("activity"), remove, batch_size=batch_size, progress=progress)


def notification_bodies_remove(
    *, days: int, now: datetime | None = None, batch_size: int = BATCH_SIZE, progress: Progress | None = None
) -> int:
    """Remove the bodies of applied SNS notifications older than `days` (0: keep them all); how many were removed."""
    if days <= 0:
        return 0
    now = now or timezone.now()
    due = notification_bodies_due(days=days, now=now)

    def remove(ids: list[object]) -> int:
        return InboundNotification.objects.filter(
            pk__in=ids, processed_at__isnull=False, body_removed_at__isnull=True
        ).update(body="", body_removed_at=now)

    return _in_batches(due.order_by("received_at"), remove, batch_size=batch_size, progress=progress)


def _in_batches(
    due: QuerySet[Message] | QuerySet[InboundNotification],
    remove: Callable[[list[object]], int],
    *,
    batch_size: int,
    progress: Progress | None,
) -> int:
    # Oldest first, in the partial index's own order: no sort of everything due on a first run.
    total = due.count()
    done = 0
    if not total:
        return 0
    if progress is not None:
        progress(0, total)
    while True:
        ids: list[object] = list(due.values_list("pk", flat=True)[:batch_size])
        if not ids:
            break
        with transaction.atomic():
            removed = remove(ids)
        done += removed
        if progress is not None:
            progress(min(done, total), total)
        # Fewer than asked for: that was the last of them. None removed: another run holds the rest.
        if len(ids) < batch_size or not removed:
            break
    return done


def retention_run(*, now: datetime | None = None, batch_size: int = BATCH_SIZE) -> RetentionResult:
    """Both retentions, as EMAIL_BODY_RETENTION_DAYS and SNS_RAW_RETENTION_DAYS say (beat runs this daily)."""
    now = now or timezone.now()
    result = RetentionResult(
        bodies=message_bodies_remove(days=settings.EMAIL_BODY_RETENTION_DAYS, now=now, batch_size=batch_size),
        notifications=notification_bodies_remove(days=settings.SNS_RAW_RETENTION_DAYS, now=now, batch_size=batch_size),
    )
    if result.bodies or result.notifications:
        logger.info("Retention removed %d message bodies and %d SNS bodies", result.bodies, result.notifications)
    return result
