"""A worker killed with SIGKILL in the middle of a bulk, on PostgreSQL and Redis with real Celery worker processes:
nothing is lost, nothing is sent more than twice, and the bulk finishes by itself (the sweep and another worker)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.db import connection

from crm_email.celery import app
from emails.accepting import BulkDraft, BulkRow, bulk_accept
from emails.choices import MessageStatus
from emails.delivery import email_sweep
from emails.models import Message
from emails.scheduling import BULK_QUEUE, DRAIN_TASK
from tests.conftest import TEST_REDIS_URL
from tests.recording_backend import DELAY_ENV, FILE_ENV

ROOT = Path(__file__).resolve().parents[2]
ROWS = 300
BATCH = 20
LEASE = 3


def _worker(record: Path) -> subprocess.Popen[bytes]:
    db = connection.settings_dict
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "crm_email.settings",
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}",
        "CELERY_BROKER_URL": TEST_REDIS_URL,
        "EMAIL_BACKEND": "tests.recording_backend.RecordingBackend",
        "EMAIL_PACE_SENDS": "false",
        "EMAIL_SEND_LEASE_SECONDS": str(LEASE),
        "EMAIL_DRAIN_BATCH_SIZE": str(BATCH),
        "DJANGO_SECRET_KEY": os.environ.get("DJANGO_SECRET_KEY", "fault-test-only"),
        FILE_ENV: str(record),
        DELAY_ENV: "0.01",
    }
    env.pop("SES_EMULATED", None)
    command = [sys.executable, "-m", "celery", "-A", "crm_email", "worker", "--pool=solo", "--concurrency=1",
               "--without-heartbeat", "--without-gossip", "--without-mingle", "-l", "warning"]  # fmt: skip
    # Our own worker process, with our own arguments.
    return subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # noqa: S603


def _lines(record: Path) -> list[str]:
    return record.read_text().split() if record.exists() else []


def _wait(predicate: Any, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.1)
    return predicate()


@pytest.mark.celery_redis
@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="worker processes share the database: PostgreSQL")
def test_a_worker_killed_mid_bulk_loses_nothing_and_the_bulk_finishes(
    user: Any, settings: Any, redis_url: str, tmp_path: Path, monkeypatch: Any
) -> None:
    record = tmp_path / "sent.log"
    monkeypatch.setattr("emails.accepting.bulk.email_drain_schedule", lambda: None)  # drains sent by hand below
    rows = [BulkRow(to=f"p{i}@example.com", template_data={"n": str(i)}) for i in range(ROWS)]
    bulk = bulk_accept(owner=user, draft=BulkDraft(name="Faults", subject="N {{ n }}", text="Hello {{ n }}",
                                                    category="notification", rows=rows))  # fmt: skip
    assert bulk.accepted == ROWS
    settings.CELERY_TASK_ALWAYS_EAGER = False
    app.conf.update(broker_url=redis_url, task_always_eager=False, broker_connection_retry_on_startup=True)
    first = second = None
    try:
        app.send_task(DRAIN_TASK, queue=BULK_QUEUE)
        first = _worker(record)
        assert _wait(lambda: len(_lines(record)) >= 100, 60), "the first worker never got going"
        first.send_signal(signal.SIGKILL)  # mid-drain, holding a claimed batch under lease
        first.wait(10)
        killed_at = len(_lines(record))
        assert killed_at < ROWS, "the worker finished before it was killed: nothing was tested"
        time.sleep(LEASE + 0.5)  # the lease of what it held runs out (a real process, a real clock)
        second = _worker(record)
        # The sweep (as beat runs it) takes back the dead worker's messages and hands the backlog to drains.
        email_sweep(stale_after=timedelta(0))
        assert _wait(lambda: Message.objects.filter(bulk=bulk, status=MessageStatus.SENT).count() == ROWS, 90), Counter(
            Message.objects.filter(bulk=bulk).values_list("status", flat=True)
        )
    finally:
        for worker in (first, second):
            if worker is not None and worker.poll() is None:
                worker.terminate()
                worker.wait(10)
        app.conf.update(task_always_eager=True)
    sends = Counter(_lines(record))
    ids = {str(pk) for pk in Message.objects.filter(bulk=bulk).values_list("pk", flat=True)}
    assert set(sends) == ids  # nothing lost: every message was sent
    duplicates = sum(count - 1 for count in sends.values())
    assert max(sends.values()) <= 2  # nothing sent more than twice
    assert duplicates <= BATCH, f"{duplicates} duplicates: more than the batch the killed worker held"
    print(f"killed after {killed_at} sends; {duplicates} duplicate(s)")
