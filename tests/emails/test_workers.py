"""Real workers: Celery consuming from Redis, and two drains racing on one database."""

from __future__ import annotations

import threading
import time
from collections import Counter
from typing import Any

import pytest
from django.db import connection, connections
from rest_framework.test import APIClient

from emails.delivery import email_drain
from emails.models import Event, Message

PAYLOAD = {"to": "a@example.com", "subject": "Hi", "textContent": "Hello", "category": "notification"}


def _wait_for(predicate: Any, seconds: float = 30) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.1)
    return False


@pytest.mark.celery_redis
@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(
    connection.vendor == "sqlite",
    reason="the worker thread and the test share SQLite's in-memory test database, whose table locks do not wait; "
    "CI runs this on PostgreSQL",
)
def test_a_celery_worker_on_redis_sends_what_the_api_queued(user: Any, ses: Any, settings: Any, redis_url: str) -> None:
    from celery.contrib.testing.worker import start_worker

    from crm_email.celery import app

    settings.CELERY_TASK_ALWAYS_EAGER = False
    app.conf.update(broker_url=redis_url, task_always_eager=False, broker_connection_retry_on_startup=True)
    client = APIClient()
    client.force_authenticate(user)
    try:
        with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=10):
            ids = [
                client.post("/api/email", {**PAYLOAD, "priority": p}, format="json").json()["data"]["messageId"]
                for p in ("low", "urgent", "normal")
            ]
            assert _wait_for(lambda: Message.objects.filter(pk__in=ids, status="sent").count() == 3)
    finally:
        app.conf.update(task_always_eager=True)
    assert len(ses.sent_messages) == 3
    assert Event.objects.filter(type="send").count() == 3


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks with SKIP LOCKED need PostgreSQL")
def test_two_drains_racing_never_send_a_message_twice(user: Any, settings: Any, monkeypatch: Any) -> None:
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.EMAIL_DRAIN_BATCH_SIZE = 5
    client = APIClient()
    client.force_authenticate(user)
    # Queue only: no task runs, the two drains below do all the work.
    monkeypatch.setattr("emails.accepting.services.email_send_schedule", lambda **kwargs: None)
    for i in range(60):
        client.post("/api/email", {**PAYLOAD, "to": f"u{i}@example.com"}, format="json")
    assert Message.objects.filter(status="queued").count() == 60

    from django.core import mail

    mail.outbox = []
    done: list[int] = []

    def drain() -> None:
        try:
            done.append(email_drain())
        finally:
            connections.close_all()

    threads = [threading.Thread(target=drain) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sum(done) == 60
    sent_to = Counter(address for m in mail.outbox for address in m.to)
    assert len(sent_to) == 60 and set(sent_to.values()) == {1}
    assert Message.objects.filter(status="sent").count() == 60
    assert Event.objects.filter(type="send").count() == 60
