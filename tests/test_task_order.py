"""Urgent and high work is taken before a bulk's: by Celery workers on Redis (a queue per priority), and by the
embedded default's in-process worker (a priority queue). Ordering, not timing."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest
from celery.signals import task_prerun
from django.db import connection

from core.tasks import _InProcessWorker
from emails.scheduling import BULK_QUEUE, CELERY_PRIORITY, DRAIN_TASK, QUEUE, SEND_TASK


class Recorded:
    """A stand-in task: records its name when run; the first one waits until told, so the others queue up."""

    def __init__(self, name: str, ran: list[str], gate: threading.Event | None = None) -> None:
        self.name, self.ran, self.gate = name, ran, gate
        self.started = threading.Event()

    def apply(self, args: tuple[Any, ...] = ()) -> None:
        self.started.set()
        if self.gate is not None:
            self.gate.wait(5)
        self.ran.append(self.name)


def test_the_in_process_worker_takes_urgent_work_before_a_bulks() -> None:
    worker, ran, gate = _InProcessWorker(), [], threading.Event()
    busy = Recorded("busy", ran, gate)
    worker.submit(busy, (), CELERY_PRIORITY["normal"])
    assert busy.started.wait(5)  # the worker is busy: what comes next waits in its queue
    for i in range(3):
        worker.submit(Recorded(f"drain {i}", ran), (), CELERY_PRIORITY["low"])
    worker.submit(Recorded("password reset", ran), (), CELERY_PRIORITY["urgent"])
    worker.submit(Recorded("receipt", ran), (), CELERY_PRIORITY["high"])
    gate.set()
    deadline = time.monotonic() + 5
    while len(ran) < 6 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert ran == ["busy", "password reset", "receipt", "drain 0", "drain 1", "drain 2"]


def test_each_priority_has_its_own_queue_served_first_to_last(settings: Any) -> None:
    assert [queue.name for queue in settings.CELERY_TASK_QUEUES] == ["urgent", "high", "default", "low"]
    assert [QUEUE[p] for p in ("urgent", "high", "normal", "low")] == ["urgent", "high", "default", "low"]
    assert BULK_QUEUE == "low"
    assert settings.CELERY_BROKER_TRANSPORT_OPTIONS["queue_order_strategy"] == "priority"


@pytest.mark.celery_redis
@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor == "sqlite", reason="the worker thread needs PostgreSQL's locks; CI runs it")
def test_a_celery_worker_takes_the_urgent_queue_before_a_bulks_backlog(settings: Any, redis_url: str) -> None:
    from celery.contrib.testing.worker import start_worker

    from crm_email.celery import app

    settings.CELERY_TASK_ALWAYS_EAGER = False
    app.conf.update(broker_url=redis_url, task_always_eager=False, broker_connection_retry_on_startup=True)
    taken: list[str] = []

    def record(sender: Any = None, **kwargs: Any) -> None:
        taken.append(sender.name)

    task_prerun.connect(record, weak=False)
    try:
        # A bulk's backlog first, then a password reset: published before any worker is up.
        for _ in range(5):
            app.send_task(DRAIN_TASK, queue=BULK_QUEUE)
        app.send_task(SEND_TASK, args=["00000000-0000-0000-0000-000000000000"], queue=QUEUE["urgent"])
        with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=10):
            deadline = time.monotonic() + 30
            while len(taken) < 6 and time.monotonic() < deadline:
                time.sleep(0.05)
    finally:
        task_prerun.disconnect(record)
        app.conf.update(task_always_eager=True)
    assert taken[0] == SEND_TASK, taken
    assert taken.count(DRAIN_TASK) == 5
