"""Tasks: Celery on a broker, or the in-process worker of the embedded default."""

from __future__ import annotations

from kombu import Queue

from crm_email.env import env_bool, env_int, env_str

# No broker means the embedded default: tasks run in this process, after the
# transaction commits, on a background thread (see core/tasks.py).
CELERY_BROKER_URL = env_str("CELERY_BROKER_URL")
CELERY_TASK_ALWAYS_EAGER = not CELERY_BROKER_URL
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_RESULT_BACKEND = None
CELERY_TASK_IGNORE_RESULT = True
# Never lose a task: acknowledge only once it finished, hand it back if the
# worker dies, and let each worker hold one task at a time.
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# Celery closes a worker's database connections before and after every task unless this is set, and then
# only every this many tasks: between them core.tasks closes those past CONN_MAX_AGE or broken, as Django
# does between requests, so a task does not start a new PostgreSQL backend (docs/benchmarks.md, issue 13).
CELERY_DB_REUSE_MAX = 1000
CELERY_TASK_DEFAULT_PRIORITY = 5
# A queue per priority (emails.scheduling.QUEUE). A worker started without -Q
# serves all four, in this order: with the Redis transport's "priority"
# strategy, urgent and high tasks are taken before a bulk's drains.
CELERY_TASK_QUEUES = [Queue(name) for name in ("urgent", "high", "default", "low")]
CELERY_TASK_DEFAULT_QUEUE = "default"
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "priority_steps": list(range(10)),
    "sep": ":",
    "queue_order_strategy": "priority",
    # Longer than the longest task, so an unacked task is not redelivered
    # while it still runs.
    "visibility_timeout": 3600,
}
# In-process mode only: run tasks on a background thread so a request never
# waits for SES. Tests turn it off to run them synchronously after commit.
TASKS_IN_BACKGROUND = env_bool("TASKS_IN_BACKGROUND", True)

EMAIL_SWEEP_INTERVAL_SECONDS = env_int("EMAIL_SWEEP_INTERVAL_SECONDS", 60)
CELERY_BEAT_SCHEDULE = {
    "email-sweep": {
        "task": "emails.tasks.email_sweep_task",
        "schedule": float(EMAIL_SWEEP_INTERVAL_SECONDS),
    },
}

# Pages showing mail in flight ask for news this often (seconds).
PAGES_LIVE_POLL_SECONDS = env_int("PAGES_LIVE_POLL_SECONDS", 3, minimum=1)
