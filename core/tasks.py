"""Running a task, named, once the current transaction commits: on a Celery worker or in this process.

Tasks are sent by name, so the code that schedules one never imports the
module that defines it. With CELERY_BROKER_URL set this is Celery's
`send_task` to real workers. Without a broker (the embedded default) the
same task runs in this process on one background thread, so a request never
waits for it; with TASKS_IN_BACKGROUND off (tests) it runs at once, in the
thread that committed.
"""

from __future__ import annotations

import itertools
import logging
import queue
import threading
from typing import Any

from celery import Task, current_app
from celery.signals import task_postrun, task_prerun
from django.conf import settings
from django.db import close_old_connections, connections, transaction

from core.observability.context import request_id_bound, request_id_get

logger = logging.getLogger(__name__)

_executor_lock = threading.Lock()


def task_schedule(name: str, *args: Any, priority: int = 5, countdown: float = 0, queue: str | None = None) -> None:
    """Run the task called `name` with `args` after the current transaction commits (at once outside one).

    `queue` is a Celery queue (workers serve them in CELERY_TASK_QUEUES' order); in this process, `priority`
    orders the waiting tasks instead (0 first).
    """

    # A function of its own rather than a partial: Django names the callback when one raises, and a
    # partial has no __qualname__, so the error was lost in an AttributeError.
    def run_task() -> None:
        _run(name, args, priority, countdown, queue)

    transaction.on_commit(run_task, robust=True)


def task_registered(name: str) -> Task[Any, Any]:
    """The task called `name`, importing every app's tasks module first if it is not known yet."""
    tasks = current_app.tasks
    if name not in tasks:
        # Celery's own autodiscovery (crm_email/celery.py), which a web
        # process never triggers by itself.
        current_app.loader.import_default_modules()
    return tasks[name]


def _run(name: str, args: tuple[Any, ...], priority: int, countdown: float, queue: str | None) -> None:
    if not settings.CELERY_TASK_ALWAYS_EAGER:
        current_app.send_task(name, args=args, priority=priority, countdown=countdown or None, queue=queue)
        return
    task = task_registered(name)
    if not settings.TASKS_IN_BACKGROUND:
        task.apply(args=args)
        return
    # Read here, in the thread that committed: the worker (and a countdown's timer) is another thread.
    request_id = request_id_get()
    if countdown:
        timer = threading.Timer(countdown, _submit, args=(task, args, priority, request_id))
        timer.daemon = True
        timer.start()
    else:
        _submit(task, args, priority, request_id)


class _InProcessWorker:
    """One thread running the waiting tasks by priority (0 first), then in the order they came.

    One thread: SQLite has one writer anyway. A password reset queued behind a bulk's drains runs next. Each
    task runs under the request id of the request that scheduled it, as a Celery worker does from its header.
    """

    def __init__(self) -> None:
        self._waiting: queue.PriorityQueue[tuple[int, int, Task[Any, Any], tuple[Any, ...], str | None]] = (
            queue.PriorityQueue()
        )
        self._order = itertools.count()
        self._thread = threading.Thread(target=self._loop, name="task-worker", daemon=True)
        self._thread.start()

    def submit(self, task: Task[Any, Any], args: tuple[Any, ...], priority: int, request_id: str | None = None) -> None:
        self._waiting.put((priority, next(self._order), task, args, request_id))

    def _loop(self) -> None:
        while True:
            _, _, task, args, request_id = self._waiting.get()
            with request_id_bound(request_id):
                task_run_isolated(task, args)


_worker: _InProcessWorker | None = None


def _in_process_worker() -> _InProcessWorker:
    global _worker
    with _executor_lock:
        if _worker is None or not _worker._thread.is_alive():
            _worker = _InProcessWorker()
        return _worker


def _submit(task: Task[Any, Any], args: tuple[Any, ...], priority: int = 5, request_id: str | None = None) -> None:
    _in_process_worker().submit(task, args, priority, request_id)


def task_run_isolated(task: Task[Any, Any], args: tuple[Any, ...] = ()) -> None:
    """Run a task in a thread of its own work: fresh connections, and an error logged rather than raised."""
    close_old_connections()
    try:
        task.apply(args=args)
    except Exception:  # the thread must survive; the sweeper picks the work up again
        logger.exception("In-process task %s%r failed", task.name, args)
    finally:
        # Closed, not kept for CONN_MAX_AGE: an idle worker thread would hold
        # a connection nobody else can close.
        connections.close_all()


def _connections_tidy(task: Any = None, **kwargs: Any) -> None:
    # An eager run is inside its caller's transaction (a request's, a test's): its connection is not ours.
    if task is not None and getattr(task.request, "is_eager", False):
        return
    close_old_connections()


def worker_connections_connect() -> None:
    """Between a worker's tasks, close only the database connections past CONN_MAX_AGE or broken, as Django does
    between requests.

    Celery closes every connection before and after each task unless CELERY_DB_REUSE_MAX is set
    (crm_email/settings/tasks.py sets it): each task then opened a new PostgreSQL connection, 30 a second under
    the load benchmark, a backend started for each (docs/benchmarks.md, issue 13).
    """
    task_prerun.connect(_connections_tidy, weak=False, dispatch_uid="connections-tidy-prerun")
    task_postrun.connect(_connections_tidy, weak=False, dispatch_uid="connections-tidy-postrun")
