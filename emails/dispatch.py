"""Handing message ids to the worker once the transaction that stored them commits.

With CELERY_BROKER_URL set, this is Celery's `apply_async` to real workers,
urgent and high mail first. Without a broker (the embedded default) the same
task runs in this process on one background thread, so a request never
waits for SES and the app needs nothing else; tests run it synchronously.
"""

from __future__ import annotations

import logging
import threading
import uuid
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from typing import Any

from django.conf import settings
from django.db import close_old_connections, transaction

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
    transaction.on_commit(partial(_send_now, str(message_id), priority, countdown), robust=True)


def _send_now(message_id: str, priority: str, countdown: float) -> None:
    from emails.tasks import email_send_task

    if not settings.CELERY_TASK_ALWAYS_EAGER:
        options: dict[str, Any] = {"countdown": countdown} if countdown else {}
        email_send_task.apply_async(args=(message_id,), priority=CELERY_PRIORITY.get(priority, 5), **options)
        return
    if not settings.TASKS_IN_BACKGROUND:
        email_send_task.apply(args=(message_id,))
        return
    if countdown:
        timer = threading.Timer(countdown, _submit, args=(message_id,))
        timer.daemon = True
        timer.start()
    else:
        _submit(message_id)


def _submit(message_id: str) -> None:
    _in_process_executor().submit(_run_in_thread, message_id)


def _run_in_thread(message_id: str) -> None:
    from emails.tasks import email_send_task

    close_old_connections()
    try:
        email_send_task.apply(args=(message_id,))
    except Exception:  # the thread must survive; the sweeper will retry the message
        logger.exception("In-process delivery of %s failed", message_id)
    finally:
        close_old_connections()


_sweeper_started = False


def in_process_sweeper_start() -> None:
    """Without a broker there is no Celery beat: sweep from a timer thread of the web process."""
    global _sweeper_started
    if _sweeper_started or not (settings.CELERY_TASK_ALWAYS_EAGER and settings.TASKS_IN_BACKGROUND):
        return
    _sweeper_started = True

    def loop() -> None:
        from emails.services import email_sweep

        stop = threading.Event()
        while not stop.wait(settings.EMAIL_SWEEP_INTERVAL_SECONDS):
            close_old_connections()
            try:
                email_sweep()
            except Exception:  # keep sweeping; the next round may succeed
                logger.exception("In-process sweep failed")
            finally:
                close_old_connections()

    threading.Thread(target=loop, name="email-sweeper", daemon=True).start()
