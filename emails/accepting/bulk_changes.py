"""What may happen to a bulk once accepted: pause, resume, cancel, retry the failed.

Each moves its messages with one conditional UPDATE, so a worker claiming
at the same moment either got a message first (and sends it, as an in-flight
call) or finds it no longer queued: the claim takes `queued` rows only.
"""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from emails.choices import BulkStatus, MessageStatus, RecipientStatus
from emails.exceptions import BulkStateConflict
from emails.models import Bulk, Message, Recipient
from emails.scheduling import email_drain_schedule

# Not sent, and no worker holds them: what pause and cancel take.
STOPPABLE = (MessageStatus.SCHEDULED, MessageStatus.QUEUED)


def bulk_pause(*, bulk: Bulk) -> int:
    """Hold the bulk's unsent messages (those being sent finish); returns how many were paused."""
    _not_stopped(bulk, "paused")
    with transaction.atomic():
        Bulk.objects.filter(pk=bulk.pk).update(stopped=BulkStatus.PAUSED)
        paused = Message.objects.filter(bulk=bulk, status__in=STOPPABLE).update(
            status=MessageStatus.PAUSED, updated_at=timezone.now()
        )
    bulk.refresh_from_db()
    return paused


def bulk_resume(*, bulk: Bulk) -> int:
    """Give the paused messages back: to the queue, or to their schedule when it is still ahead."""
    if bulk.stopped != BulkStatus.PAUSED:
        raise BulkStateConflict("Only a paused bulk can be resumed.")
    now = timezone.now()
    with transaction.atomic():
        Bulk.objects.filter(pk=bulk.pk).update(stopped="")
        paused = Message.objects.filter(bulk=bulk, status=MessageStatus.PAUSED)
        later = paused.filter(send_after__gt=now).update(status=MessageStatus.SCHEDULED, updated_at=now)
        queued = paused.update(status=MessageStatus.QUEUED, updated_at=now)
        if queued:
            email_drain_schedule()
    bulk.refresh_from_db()
    return later + queued


def bulk_cancel(*, bulk: Bulk) -> int:
    """Cancel what has not gone yet (scheduled, queued, paused, held); what was sent stays sent."""
    if bulk.stopped == BulkStatus.CANCELLED:
        raise BulkStateConflict("This bulk was already cancelled.")
    with transaction.atomic():
        Bulk.objects.filter(pk=bulk.pk).update(stopped=BulkStatus.CANCELLED)
        cancelled = Message.objects.filter(
            bulk=bulk, status__in=(*STOPPABLE, MessageStatus.PAUSED, MessageStatus.HELD)
        ).update(status=MessageStatus.CANCELLED, status_reason="The bulk was cancelled.", send_after=None,
                 updated_at=timezone.now())  # fmt: skip
    bulk.refresh_from_db()
    return cancelled


def bulk_retry_failed(*, bulk: Bulk) -> int:
    """Send the bulk's failed messages again (SES or we refused them): each goes back to the queue, once more."""
    _not_stopped(bulk, "retried")
    now = timezone.now()
    with transaction.atomic():
        failed = list(Message.objects.filter(bulk=bulk, status=MessageStatus.FAILED).values_list("pk", flat=True))
        if not failed:
            raise BulkStateConflict("No message of this bulk failed: nothing to retry.")
        Recipient.objects.filter(message_id__in=failed, status=RecipientStatus.FAILED).update(
            status=RecipientStatus.QUEUED, reason=""
        )
        Message.objects.filter(pk__in=failed, status=MessageStatus.FAILED).update(
            status=MessageStatus.QUEUED, status_reason="Retrying: asked for again", attempts=0, failed_count=0,
            send_after=None, updated_at=now,
        )  # fmt: skip
        email_drain_schedule()
    return len(failed)


def _not_stopped(bulk: Bulk, change: str) -> None:
    if bulk.stopped == BulkStatus.CANCELLED:
        raise BulkStateConflict(f"This bulk was cancelled, so it cannot be {change}.")
    if bulk.stopped == BulkStatus.PAUSED and change == "paused":
        raise BulkStateConflict("This bulk is paused already.")
