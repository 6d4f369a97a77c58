"""Handing work to the worker once the transaction that stored it commits.

With CELERY_BROKER_URL set, this is Celery's `apply_async` to real workers,
urgent and high mail first. Without a broker (the embedded default) the same
task runs in this process on one background thread, so a request never
waits for SES and the app needs nothing else; tests run it synchronously.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from typing import Any

from celery import Task
from django.conf import settings
from django.db import close_old_connections, connections, transaction
from django.utils.module_loading import import_string

from emails.choices import CELERY_PRIORITY

logger = logging.getLogger(__name__)

_executor: ThreadPoolExecutor | None = None
_executor_lock = threading.Lock()


def _in_process_executor() -> ThreadPoolExecutor:
    global _executor
    with _executor_lock:
        if _executor is None:
            # One thread: SQLite has one writer anyway, and order is kept.
            _executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="email-worker")
        return _executor


def email_dispatch(*, message_id: uuid.UUID, priority: str, countdown: float = 0) -> None:
    """Queue delivery of a message after the current transaction commits."""
    from emails.tasks import email_send_task

    task_dispatch(email_send_task, str(message_id), priority=CELERY_PRIORITY.get(priority, 5), countdown=countdown)


def task_dispatch(task: Task, *args: Any, priority: int = 5, countdown: float = 0) -> None:
    """Run `task(*args)` once the current transaction commits: on a worker, or in this process."""
    transaction.on_commit(partial(_run, task, args, priority, countdown), robust=True)


def _run(task: Task, args: tuple[Any, ...], priority: int, countdown: float) -> None:
    if not settings.CELERY_TASK_ALWAYS_EAGER:
        options: dict[str, Any] = {"countdown": countdown} if countdown else {}
        task.apply_async(args=args, priority=priority, **options)
        return
    if not settings.TASKS_IN_BACKGROUND:
        task.apply(args=args)
        return
    if countdown:
        timer = threading.Timer(countdown, _submit, args=(task, args))
        timer.daemon = True
        timer.start()
    else:
        _submit(task, args)


def _submit(task: Task, args: tuple[Any, ...]) -> None:
    _in_process_executor().submit(_run_in_thread, task, args)


def _run_in_thread(task: Task, args: tuple[Any, ...]) -> None:
    close_old_connections()
    try:
        task.apply(args=args)
    except Exception:  # the thread must survive; the sweeper will pick the work up again
        logger.exception("In-process task %s%r failed", task.name, args)
    finally:
        # Closed, not kept for CONN_MAX_AGE: an idle worker thread would hold
        # a connection nobody else can close.
        connections.close_all()


_beat_started = False


def in_process_beat_start() -> threading.Event | None:
    """Without a broker there is no Celery beat: run CELERY_BEAT_SCHEDULE from a thread of the web process.

    Returns the event that stops the thread (None when it is not started).
    """
    global _beat_started
    if _beat_started or not (settings.CELERY_TASK_ALWAYS_EAGER and settings.TASKS_IN_BACKGROUND):
        return None
    _beat_started = True
    schedule: dict[str, dict[str, Any]] = settings.CELERY_BEAT_SCHEDULE
    entries = [(import_string(str(e["task"])), float(e["schedule"])) for e in schedule.values()]
    stop = threading.Event()

    def loop() -> None:
        due = [time.monotonic() + interval for _, interval in entries]
        while not stop.wait(1.0):
            for index, (task, interval) in enumerate(entries):
                if time.monotonic() < due[index]:
                    continue
                due[index] = time.monotonic() + interval
                close_old_connections()
                try:
                    task.apply()
                except Exception:  # keep the schedule going; the next round may succeed
                    logger.exception("In-process run of %s failed", task.name)
                finally:
                    connections.close_all()  # as _run_in_thread: not left open between runs

    threading.Thread(target=loop, name="in-process-beat", daemon=True).start()
    return stop
