"""A real Celery worker keeps its PostgreSQL connection from one task to the next (Celery closes it around every
task unless told otherwise; core.tasks.worker_connections_connect and CELERY_DB_REUSE_MAX)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.db import connection
from django.utils import timezone

from emails.accepting import EmailDraft, email_queue
from tests.conftest import TEST_REDIS_URL
from tests.proof.faults import Record, Workers, all_sent, celery_on_redis, needs_postgres_and_redis, wait_until

pytestmark = needs_postgres_and_redis

NAME = "connections-kept"


def _send(owner: Any, n: int) -> list[Any]:
    return [
        email_queue(
            owner=owner,
            draft=EmailDraft(to=f"r{i}@example.com", subject="Hi", text="Hello", category="notification"),
        ).message.pk
        for i in range(n)
    ]


def _sessions() -> list[Any]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT backend_start FROM pg_stat_activity WHERE application_name = %s", [NAME])
        return [row[0] for row in cursor.fetchall()]


def test_a_worker_keeps_its_database_connection_between_tasks(settings: Any, tmp_path: Path, user: Any) -> None:
    record = Record(tmp_path / "calls")
    workers = Workers(record)
    with celery_on_redis(settings, TEST_REDIS_URL):
        try:
            workers.start(NAME)
            first = _send(user, 1)
            assert wait_until(all_sent(first), 60), workers.logs()
            before = timezone.now()
            ids = _send(user, 20)  # 20 tasks, one message each
            assert wait_until(all_sent(ids), 60), workers.logs()
            sessions = _sessions()
        finally:
            workers.stop()
    # Closed around each task, the worker would hold no connection now, or one opened for the last task.
    assert sessions, "the worker holds no database connection after its tasks"
    assert all(started < before for started in sessions), f"connections opened during the tasks: {sessions}"
