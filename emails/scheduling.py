"""The email tasks by name, and scheduling them once the current transaction commits.

The wings schedule work through these functions and never import
emails.tasks, the only module that knows both delivery and tracking.
"""

from __future__ import annotations

import uuid

from core.tasks import task_schedule
from emails.choices import Priority

SEND_TASK = "emails.tasks.email_send_task"
DRAIN_TASK = "emails.tasks.email_drain_task"
SWEEP_TASK = "emails.tasks.email_sweep_task"
NOTIFICATIONS_TASK = "emails.tasks.notification_process_task"
# Run by beat only (crm_email/settings/privacy.py names it there).
RETENTION_TASK = "emails.tasks.email_retention_task"

# Celery priority (0 is served first with the Redis transport's priority
# order, and by the in-process worker), so urgent and high mail jumps the queue.
CELERY_PRIORITY: dict[str, int] = {Priority.URGENT: 0, Priority.HIGH: 2, Priority.NORMAL: 5, Priority.LOW: 8}
# And each priority has its own Celery queue, which every worker serves in
# CELERY_TASK_QUEUES' order: urgent and high first, whatever a bulk queued.
QUEUE: dict[str, str] = {Priority.URGENT: "urgent", Priority.HIGH: "high", Priority.NORMAL: "default",
                         Priority.LOW: "low"}  # fmt: skip
BULK_QUEUE = QUEUE[Priority.LOW]


def email_send_schedule(*, message_id: uuid.UUID, priority: str, countdown: float = 0) -> None:
    """Have a worker deliver the message after the current transaction commits (in `countdown` seconds)."""
    task_schedule(
        SEND_TASK,
        str(message_id),
        priority=CELERY_PRIORITY.get(priority, 5),
        countdown=countdown,
        queue=QUEUE.get(priority, "default"),
    )


def notifications_apply_schedule() -> None:
    """Have a worker apply the stored SNS notifications not applied yet."""
    task_schedule(NOTIFICATIONS_TASK)


def email_drain_schedule() -> None:
    """Have a worker drain what is queued (a bulk's messages), after the current transaction commits."""
    task_schedule(DRAIN_TASK, priority=CELERY_PRIORITY[Priority.LOW], queue=BULK_QUEUE)
