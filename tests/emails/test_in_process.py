"""The embedded default's in-process beat runs the same schedule Celery beat would, in server processes only."""

from __future__ import annotations

import importlib
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from core import scheduler
from emails.models import Message


class Clock:
    """A monotonic clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


# Committed for real: each scheduled run closes its connections, as a thread of its own would.
@pytest.mark.django_db(transaction=True)
def test_the_in_process_beat_sweeps_a_message_left_sending(user: Any, ses: Any, monkeypatch: Any) -> None:
    # The first task is lost.
    monkeypatch.setattr("emails.accepting.services.email_send_schedule", lambda **kwargs: None)
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
    clock = Clock()
    schedule = {"email-sweep": {"task": "emails.tasks.email_sweep_task", "schedule": 60.0}}
    beat = scheduler.Scheduler(schedule, clock=clock)

    assert beat.run_due() == []  # not before its interval
    clock.now += 60
    assert beat.run_due() == ["emails.tasks.email_sweep_task"]

    assert Message.objects.get().status == "sent"
    assert len(ses.sent_messages) == 1
    assert beat.run_due() == []  # and not again until the next interval


def test_the_schedule_runs_every_task_of_celery_beat(settings: Any) -> None:
    beat = scheduler.Scheduler(settings.CELERY_BEAT_SCHEDULE, clock=Clock())
    assert {name for name, _ in beat.entries} == {
        "emails.tasks.email_sweep_task", "files.tasks.files_purge_task", "emails.tasks.email_retention_task"
    }  # fmt: skip


@pytest.fixture
def no_scheduler_yet(monkeypatch: Any) -> list[Any]:
    """This process as if its scheduler had not started; the threads it starts are recorded, not run."""
    started: list[Any] = []

    class Thread:
        def __init__(self, target: Any, args: Any, name: str, daemon: bool) -> None:
            self.name = name
            started.append(self)

        def start(self) -> None:
            pass

    monkeypatch.setattr(scheduler, "_running", None)
    monkeypatch.setattr(scheduler.threading, "Thread", Thread)
    return started


def test_a_server_process_starts_one_scheduler_however_often_asked(settings: Any, no_scheduler_yet: list[Any]) -> None:
    settings.TASKS_IN_BACKGROUND = True
    assert scheduler.scheduler_start() is not None
    assert scheduler.scheduler_start() is None
    assert [t.name for t in no_scheduler_yet] == ["in-process-beat"]


@pytest.mark.parametrize(
    ("always_eager", "in_background"),
    [(False, True), (True, False)],
    ids=["with a broker (Celery beat runs it)", "tasks inline (tests)"],
)
def test_no_scheduler_runs_where_it_is_not_wanted(
    settings: Any, no_scheduler_yet: list[Any], always_eager: bool, in_background: bool
) -> None:
    settings.CELERY_TASK_ALWAYS_EAGER = always_eager
    settings.TASKS_IN_BACKGROUND = in_background
    assert scheduler.scheduler_start() is None
    assert no_scheduler_yet == []


@pytest.mark.parametrize("entry_point", ["crm_email.wsgi", "crm_email.asgi"])
def test_wsgi_and_asgi_servers_both_start_it(
    entry_point: str, settings: Any, no_scheduler_yet: list[Any], monkeypatch: Any
) -> None:
    settings.TASKS_IN_BACKGROUND = True
    module = importlib.import_module(entry_point)
    importlib.reload(module)
    assert [t.name for t in no_scheduler_yet] == ["in-process-beat"]


def test_only_the_server_entry_points_start_it() -> None:
    """A Celery worker (crm_email.celery) or a management command (manage.py) imports neither, so never starts one."""
    root = Path(__file__).resolve().parents[2]
    callers = {
        str(path.relative_to(root))
        for folder in ("core", "crm_email", "emails", "files")
        for path in (root / folder).rglob("*.py")
        if "scheduler_start()" in path.read_text() and path.name != "scheduler.py"
    }
    assert callers == {"crm_email/wsgi.py", "crm_email/asgi.py"}


@pytest.mark.django_db(transaction=True)
def test_a_task_that_cannot_be_scheduled_is_logged_with_its_error(monkeypatch: Any, caplog: Any) -> None:
    """The on_commit callback failed with AttributeError (a partial has no __qualname__), hiding why."""
    from core import tasks

    def refused(*args: Any) -> None:
        raise RuntimeError("cannot schedule new futures after interpreter shutdown")

    monkeypatch.setattr(tasks, "_run", refused)
    with caplog.at_level("ERROR", logger="django.db.backends.base"):
        tasks.task_schedule("emails.tasks.email_sweep_task")  # outside a transaction: at once, robustly
    assert any("cannot schedule new futures" in str(r.exc_info[1]) for r in caplog.records if r.exc_info)
