"""The embedded default's in-process beat runs the same schedule Celery beat would."""

from __future__ import annotations

import time
from datetime import timedelta
from typing import Any

import pytest
from django.db import OperationalError
from django.utils import timezone
from rest_framework.test import APIClient

from emails import dispatch
from emails.models import Message


def _status() -> str | None:
    try:
        return Message.objects.get().status
    except OperationalError:
        # SQLite's in-memory test database is shared between threads with
        # table locks that fail at once: a read that meets the worker's write
        # is "not yet". (A file database in WAL mode lets readers through.)
        return None


@pytest.mark.django_db(transaction=True)
def test_the_in_process_beat_sweeps_a_message_left_sending(
    user: Any, ses: Any, settings: Any, monkeypatch: Any
) -> None:
    settings.TASKS_IN_BACKGROUND = True
    settings.CELERY_BEAT_SCHEDULE = {"email-sweep": {"task": "emails.tasks.email_sweep_task", "schedule": 1.0}}
    monkeypatch.setattr(dispatch, "_beat_started", False)
    monkeypatch.setattr("emails.services.email_dispatch", lambda **kwargs: None)  # the first task is lost
    client = APIClient()
    client.force_authenticate(user)
    client.post(
        "/api/email", {"to": "a@example.com", "subject": "Hi", "textContent": "x", "category": "auth"}, format="json"
    )
    # As if a worker had died holding it.
    Message.objects.update(
        status="sending",
        lease_until=timezone.now() - timedelta(seconds=1),
        created_at=timezone.now() - timedelta(minutes=5),
    )
    monkeypatch.undo()
    monkeypatch.setattr(dispatch, "_beat_started", False)  # and back to False after the test
    settings.TASKS_IN_BACKGROUND = True
    settings.CELERY_BEAT_SCHEDULE = {"email-sweep": {"task": "emails.tasks.email_sweep_task", "schedule": 1.0}}

    stop = dispatch.in_process_beat_start()
    assert stop is not None
    try:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and _status() != "sent":
            time.sleep(0.2)
    finally:
        stop.set()
    assert Message.objects.get().status == "sent"
    assert len(ses.sent_messages) == 1
