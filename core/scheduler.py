"""Celery beat's schedule, run from a thread of a web process when there is no broker (the embedded default).

`scheduler_start` is called by the WSGI and ASGI entry points
(crm_email/wsgi.py, asgi.py), so it runs under any server, once per
process, and never under a Celery worker (which has beat) or a management
command (which imports neither entry point).
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any

from django.conf import settings

from core.tasks import task_registered, task_run_isolated

logger = logging.getLogger(__name__)

Clock = Callable[[], float]


class Scheduler:
    """Runs each task of a beat schedule every `schedule` seconds, the first time one interval after it starts."""

    def __init__(self, schedule: Mapping[str, Mapping[str, Any]], *, clock: Clock = time.monotonic) -> None:
        self.clock = clock
        self.entries = [(str(entry["task"]), float(entry["schedule"])) for entry in schedule.values()]
        start = clock()
        self.due = [start + interval for _, interval in self.entries]

    def run_due(self) -> list[str]:
        """Run the tasks whose time has come; returns their names."""
        ran = []
        for index, (name, interval) in enumerate(self.entries):
            if self.clock() < self.due[index]:
                continue
            self.due[index] = self.clock() + interval
            task_run_isolated(task_registered(name))
            ran.append(name)
        return ran

    def loop(self, stop: threading.Event, *, tick: float = 1.0) -> None:
        while not stop.wait(tick):
            self.run_due()


_lock = threading.Lock()
_running: threading.Event | None = None


def scheduler_wanted() -> bool:
    """Only without a broker and with tasks on a background thread: otherwise Celery beat runs the schedule."""
    return bool(settings.CELERY_TASK_ALWAYS_EAGER and settings.TASKS_IN_BACKGROUND)


def scheduler_start() -> threading.Event | None:
    """Start this process's scheduler thread unless it runs already or is not wanted; returns what stops it."""
    global _running
    with _lock:
        if _running is not None or not scheduler_wanted():
            return None
        stop = threading.Event()
        scheduler = Scheduler(settings.CELERY_BEAT_SCHEDULE)
        threading.Thread(target=scheduler.loop, args=(stop,), name="in-process-beat", daemon=True).start()
        _running = stop
        logger.info("Running the beat schedule in this process (no CELERY_BROKER_URL).")
        return stop


def _after_fork() -> None:
    # A server that imports the app and then forks (gunicorn --preload) gives
    # each worker the flag but not the thread: start one there too.
    global _running
    started, _running = _running is not None, None
    if started:
        scheduler_start()


os.register_at_fork(after_in_child=_after_fork)
