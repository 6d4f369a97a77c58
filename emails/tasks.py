"""Celery tasks: thin wrappers that call one service each. The only module that knows delivery and tracking both.

Other modules schedule these by name (emails.scheduling), never by import.
"""

from __future__ import annotations

import uuid

from celery import Task, shared_task
from django.core.cache import cache

from emails.delivery import email_deliver, email_drain, email_sweep
from emails.privacy import retention_run
from emails.scheduling import (
    DRAIN_TASK,
    NOTIFICATIONS_TASK,
    RETENTION_TASK,
    SEND_TASK,
    SWEEP_TASK,
    email_send_schedule,
)
from emails.tracking import DRAIN_SCHEDULED_KEY, notifications_drain, notifications_sweep


@shared_task(name=SEND_TASK, bind=True, max_retries=None, acks_late=True)
def email_send_task(self: Task, message_id: str) -> None:
    outcome = email_deliver(message_id=uuid.UUID(message_id))
    if outcome.retry_in is None:
        return
    # The service already put the message back in the queue with its backoff;
    # this schedules the next try for that time.
    if self.request.is_eager:
        email_send_schedule(message_id=uuid.UUID(message_id), priority="normal", countdown=outcome.retry_in)
    else:
        raise self.retry(countdown=outcome.retry_in)


@shared_task(name=DRAIN_TASK, acks_late=True)
def email_drain_task(limit: int | None = None) -> int:
    return email_drain(limit=limit)


@shared_task(name=SWEEP_TASK)
def email_sweep_task() -> int:
    return email_sweep() + notifications_sweep()


@shared_task(name=NOTIFICATIONS_TASK, acks_late=True)
def notification_process_task(*args: str) -> int:
    # One task drains every pending notification in batches; the key goes
    # first (see tracking.inbound.notifications_drain_schedule).
    cache.delete(DRAIN_SCHEDULED_KEY)
    return notifications_drain()


@shared_task(name=RETENTION_TASK)
def email_retention_task() -> dict[str, int]:
    result = retention_run()
    return {"bodies": result.bodies, "notifications": result.notifications}
