"""Celery tasks: thin wrappers that call one service each."""

from __future__ import annotations

import uuid

from celery import Task, shared_task

from emails.delivery import email_deliver, email_drain, email_sweep
from emails.dispatch import email_dispatch


@shared_task(bind=True, max_retries=None, acks_late=True)
def email_send_task(self: Task, message_id: str) -> None:
    outcome = email_deliver(message_id=uuid.UUID(message_id))
    if outcome.retry_in is None:
        return
    # The service already put the message back in the queue with its backoff;
    # this schedules the next try for that time.
    if self.request.is_eager:
        email_dispatch(message_id=uuid.UUID(message_id), priority="normal", countdown=outcome.retry_in)
    else:
        raise self.retry(countdown=outcome.retry_in)


@shared_task(acks_late=True)
def email_drain_task(limit: int | None = None) -> int:
    return email_drain(limit=limit)


@shared_task
def email_sweep_task() -> int:
    from emails.events import notifications_sweep

    return email_sweep() + notifications_sweep()


@shared_task(acks_late=True)
def notification_process_task(*args: str) -> int:
    # One task drains every pending notification in batches; see
    # notifications_drain_schedule for why the key goes first.
    from django.core.cache import cache

    from emails.events import DRAIN_SCHEDULED_KEY, notifications_drain

    cache.delete(DRAIN_SCHEDULED_KEY)
    return notifications_drain()
