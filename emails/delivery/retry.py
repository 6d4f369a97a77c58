"""Giving messages back to the queue: after SES asked to slow down, or after their worker died."""

from __future__ import annotations

import logging
import random
import uuid
from collections import Counter
from collections.abc import Sequence
from datetime import datetime, timedelta
from decimal import Decimal

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from emails.choices import MessageStatus, RecipientStatus
from emails.models import Message, Recipient
from emails.outcomes import COUNT_FIELDS, message_counts_apply
from emails.scheduling import email_drain_schedule, email_send_schedule

logger = logging.getLogger(__name__)


# The sweep dispatches up to this many stale queued messages one by one; a bigger backlog gets drains.
SWEEP_SENDS_MAX = 50
SWEEP_DRAINS_MAX = 4


def _backoff(attempt: int) -> float:
    """Exponential backoff with jitter over the upper half of the window."""
    ceiling = min(settings.EMAIL_RETRY_BACKOFF_MAX_SECONDS, settings.EMAIL_RETRY_BACKOFF_SECONDS * 2**attempt)
    return random.uniform(ceiling / 2, ceiling)


def release_for_retry(*, message: Message, statuses: Counter[str], cost: Decimal, reason: str) -> float | None:
    """Hand a throttled message back to the queue, or fail it after too many attempts.

    `statuses` count the message's recipients that already have an outcome;
    the rest stay queued for the next attempt, or fail with the message.
    Counts and status come from `message_counts_apply`, as for any message.
    """
    attempts = message.attempts + 1
    now = timezone.now()
    if attempts < settings.EMAIL_MAX_ATTEMPTS:
        delay = _backoff(attempts)
        message.status = MessageStatus.QUEUED
        message_counts_apply(message, statuses)
        Message.objects.filter(pk=message.pk).update(
            status=MessageStatus.QUEUED,
            status_reason=f"Retrying: {reason}",
            send_after=now + timedelta(seconds=delay),
            attempts=attempts,
            cost=cost,
            lease_until=None,
            updated_at=now,
            **{name: getattr(message, name) for name in COUNT_FIELDS},
        )
        logger.info("SES asked to retry message %s in %.1fs: %s", message.pk, delay, reason)
        return delay
    gave_up = f"Gave up after {attempts} attempts: {reason}"
    with transaction.atomic():
        unsent = Recipient.objects.filter(message=message, status=RecipientStatus.QUEUED).update(
            status=RecipientStatus.FAILED, reason=gave_up, last_event_at=now
        )
        message.status = MessageStatus.SENT  # out of its lifecycle: derived from its recipients below
        message_counts_apply(message, statuses + Counter({RecipientStatus.FAILED: unsent}))
        Message.objects.filter(pk=message.pk).update(
            status=message.status,
            status_reason=gave_up,
            attempts=attempts,
            cost=cost,
            lease_until=None,
            updated_at=now,
            **{name: getattr(message, name) for name in COUNT_FIELDS},
        )
    logger.error("Message %s failed: %s", message.pk, gave_up)
    return None


def release_unstarted(message_ids: Sequence[uuid.UUID]) -> None:
    """Give back claimed messages this worker did not start on."""
    if message_ids:
        Message.objects.filter(pk__in=message_ids, status=MessageStatus.SENDING).update(
            status=MessageStatus.QUEUED, lease_until=None
        )


def scheduled_due(*, now: datetime, limit: int = 1000) -> list[tuple[uuid.UUID, str]]:
    """The scheduled messages due by `now`, soonest first: (id, priority)."""
    rows = (
        Message.objects.filter(status=MessageStatus.SCHEDULED, send_after__lte=now)
        .order_by("send_after")
        .values_list("pk", "priority")[:limit]
    )
    return [(pk, priority) for pk, priority in rows]


def scheduled_release_one(*, message_id: uuid.UUID, priority: str, now: datetime) -> bool:
    """Queue one due scheduled message and dispatch it, unless another sweeper did, or it was moved or cancelled.

    The UPDATE checks again that it is still scheduled and still due: what
    was listed a moment ago may since have been released by another sweeper,
    cancelled, or rescheduled to later. Only the sweeper whose UPDATE moved
    the row dispatches it.
    """
    with transaction.atomic():
        moved = Message.objects.filter(pk=message_id, status=MessageStatus.SCHEDULED, send_after__lte=now).update(
            status=MessageStatus.QUEUED, updated_at=now
        )
        if moved:
            email_send_schedule(message_id=message_id, priority=priority)
    return bool(moved)


def scheduled_release(*, now: datetime | None = None, limit: int = 1000) -> int:
    """Queue and dispatch the scheduled messages that are due: each is released once, however many sweepers run."""
    now = now or timezone.now()
    released = sum(
        scheduled_release_one(message_id=message_id, priority=priority, now=now)
        for message_id, priority in scheduled_due(now=now, limit=limit)
    )
    if released:
        logger.info("Sweeper released %d scheduled message(s).", released)
    return released


def email_sweep(*, stale_after: timedelta = timedelta(minutes=2)) -> int:
    """Release due scheduled messages, requeue those whose worker died, re-dispatch queued ones whose task was lost."""
    released = scheduled_release()
    now = timezone.now()
    requeued = Message.objects.filter(status=MessageStatus.SENDING, lease_until__lt=now).update(
        status=MessageStatus.QUEUED, lease_until=None
    )
    if requeued:
        logger.warning("Sweeper returned %d message(s) with an expired lease to the queue.", requeued)
    cutoff = now - stale_after
    waiting = list(
        Message.objects.filter(status=MessageStatus.QUEUED)
        .filter(Q(send_after__lte=cutoff) | Q(send_after__isnull=True, created_at__lt=cutoff))
        .order_by("created_at")
        .values_list("pk", "priority")[:1000]
    )
    if len(waiting) > SWEEP_SENDS_MAX:
        # A backlog (a bulk whose worker died): drains, each claiming batches, urgent mail first, not a task each.
        for _ in range(min(SWEEP_DRAINS_MAX, -(-len(waiting) // settings.EMAIL_DRAIN_BATCH_SIZE))):
            email_drain_schedule()
    else:
        for message_id, priority in waiting:
            email_send_schedule(message_id=message_id, priority=priority)
    return released + requeued + len(waiting)
