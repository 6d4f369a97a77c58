"""Killing real Celery workers mid-send, on PostgreSQL and Redis, and counting what SES was asked to do.

The workers are separate processes with tests.recording_backend as EMAIL_BACKEND: each SES call appends its
message's id to a file with O_APPEND, so whatever a worker killed with SIGKILL sent is still known. What a
kill may cost is the calls in flight: made (in the file) but whose outcome was not yet written to the database
(the recorder writes outcomes in batches, EMAIL_RECORD_MAX_DELAY_MS / EMAIL_RECORD_MAX_CALLS). Those, and
only those, may go out twice once the sweep hands the dead worker's messages to another.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from django.db import connection

from crm_email.celery import app
from emails.choices import MessageStatus
from emails.models import Message, Recipient
from tests.conftest import TEST_REDIS_URL
from tests.recording_backend import DELAY_ENV, FILE_ENV

ROOT = Path(__file__).resolve().parents[2]

# Real worker processes share the test database (PostgreSQL) and the broker (Redis): CI's second run has both.
needs_postgres_and_redis = [
    pytest.mark.celery_redis,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="worker processes share the database: PostgreSQL"),
    pytest.mark.skipif("TEST_REDIS_URL" not in os.environ, reason="needs Celery on Redis: set TEST_REDIS_URL"),
]


def wait_until(predicate: Callable[[], bool], seconds: float, step: float = 0.05) -> bool:
    """Poll `predicate` until it holds or `seconds` have passed (real processes, a real clock)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(step)
    return predicate()


@contextmanager
def celery_on_redis(settings: Any, redis_url: str) -> Iterator[None]:
    """Tasks go to Redis (to the worker processes), not run in this process; restored after."""
    settings.CELERY_TASK_ALWAYS_EAGER = False
    app.conf.update(broker_url=redis_url, task_always_eager=False, broker_connection_retry_on_startup=True)
    try:
        yield
    finally:
        app.conf.update(task_always_eager=True)


class Record:
    """The file the recording backend appends a message id to for every SES call, in every worker."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def lines(self) -> list[str]:
        return self.path.read_text().split() if self.path.exists() else []

    def count(self) -> int:
        return len(self.lines())

    def sends(self) -> Counter[str]:
        return Counter(self.lines())


class Workers:
    """Celery worker processes of our own (solo pool, one task at a time), each with its database connections
    named, so a killed one's last write can be waited for."""

    def __init__(self, record: Record, **env: str) -> None:
        self.record = record
        self.env = env
        self.running: list[subprocess.Popen[bytes]] = []

    def start(self, name: str) -> subprocess.Popen[bytes]:
        db = connection.settings_dict
        url = f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "crm_email.settings",
            "DATABASE_URL": f"{url}?application_name={name}",
            "CELERY_BROKER_URL": TEST_REDIS_URL,
            "EMAIL_BACKEND": "tests.recording_backend.RecordingBackend",
            "EMAIL_PACE_SENDS": "false",
            "DJANGO_SECRET_KEY": os.environ.get("DJANGO_SECRET_KEY", "fault-test-only"),
            FILE_ENV: str(self.record.path),
            DELAY_ENV: "0",
            **self.env,
        }
        env.pop("SES_EMULATED", None)
        command = [sys.executable, "-m", "celery", "-A", "crm_email", "worker", "--pool=solo", "--concurrency=1",
                   "--without-heartbeat", "--without-gossip", "--without-mingle", "-l", "warning",
                   "-n", f"{name}@%h"]  # fmt: skip
        log = (self.record.path.parent / f"{name}.log").open("ab")
        # Our own worker process, with our own arguments.
        worker = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)  # noqa: S603
        log.close()
        self.running.append(worker)
        return worker

    def kill(self, worker: subprocess.Popen[bytes], name: str) -> None:
        """SIGKILL, then wait until PostgreSQL has ended the dead process's sessions: a write it had sent
        (the recorder's background writer) is then committed or rolled back, and the database says which."""
        worker.send_signal(signal.SIGKILL)
        worker.wait(10)

        def gone() -> bool:
            with connection.cursor() as cursor:
                cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE application_name = %s", [name])
                return cursor.fetchone()[0] == 0

        assert wait_until(gone, 30), f"PostgreSQL still has sessions of the killed worker {name}"

    def logs(self) -> str:
        """The workers' own output (warnings and errors), for a failure's message."""
        return "\n".join(f"{p.name}: {p.read_text()[-2000:]}" for p in sorted(self.record.path.parent.glob("*.log"))
                         if p != self.record.path)  # fmt: skip

    def stop(self) -> None:
        for worker in self.running:
            if worker.poll() is None:
                worker.terminate()
                try:
                    worker.wait(15)
                except subprocess.TimeoutExpired:
                    worker.kill()
                    worker.wait(5)


@dataclass(frozen=True)
class Kill:
    """The moment of a kill: the calls made by then, and those whose outcome the database did not have."""

    calls: int
    in_flight: int


def kill_measure(record: Record, message_ids: Iterable[Any]) -> Kill:
    """Read right after the kill (its sessions ended): every call recorded, against the messages the database
    shows sent by an SES call (a recipient with its SES id written)."""
    called = set(record.lines())
    written = {
        str(pk)
        for pk in Recipient.objects.filter(message_id__in=list(message_ids))
        .exclude(ses_message_id="")
        .values_list("message_id", flat=True)
    }
    return Kill(calls=record.count(), in_flight=len(called - written))


@dataclass(frozen=True)
class Outcome:
    messages: int
    calls_at_kill: int
    in_flight: int
    duplicates: int
    most: int

    def __str__(self) -> str:
        return (f"{self.messages} messages; killed after {self.calls_at_kill} calls with {self.in_flight} in flight;"
                f" {self.duplicates} duplicate(s), at most {self.most} call(s) for one message")  # fmt: skip


def outcome_check(record: Record, message_ids: Iterable[Any], kill: Kill) -> Outcome:
    """Nothing lost, nothing sent more than twice, no more duplicates than calls in flight at the kill."""
    ids = {str(pk) for pk in message_ids}
    sends = record.sends()
    assert set(sends) == ids, f"lost {len(ids - set(sends))} message(s), sent {len(set(sends) - ids)} unknown one(s)"
    assert Message.objects.filter(pk__in=ids).exclude(status=MessageStatus.SENT).count() == 0
    outcome = Outcome(
        messages=len(ids),
        calls_at_kill=kill.calls,
        in_flight=kill.in_flight,
        duplicates=sum(n - 1 for n in sends.values()),
        most=max(sends.values()),
    )
    assert outcome.most <= 2, str(outcome)
    assert outcome.duplicates <= outcome.in_flight, str(outcome)
    return outcome


def all_sent(message_ids: list[Any]) -> Callable[[], bool]:
    def check() -> bool:
        return Message.objects.filter(pk__in=message_ids, status=MessageStatus.SENT).count() == len(message_ids)

    return check


def status_counts(message_ids: list[Any]) -> Counter[str]:
    return Counter(Message.objects.filter(pk__in=message_ids).values_list("status", flat=True))
