"""SIGKILL a real Celery worker in the middle of 2,000 sends, on PostgreSQL with Celery on Redis: the sweep and a
second worker finish; nothing is lost, nothing goes out more than twice, and no more go out twice than the SES
calls in flight at the kill (made, their outcome not yet written). Each case prints what it saw."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

from django.contrib.auth.models import User
from django.utils import timezone

from crm_email.celery import app
from emails.accepting import BulkDraft, BulkRow, EmailDraft, bulk_accept, email_queue
from emails.choices import BulkStatus, MessageStatus
from emails.delivery import email_sweep
from emails.models import Message, Recipient
from emails.scheduling import BULK_QUEUE, DRAIN_TASK
from emails.selectors import bulk_summary
from tests.proof.faults import (
    Outcome,
    Record,
    Workers,
    all_sent,
    celery_on_redis,
    kill_measure,
    needs_postgres_and_redis,
    outcome_check,
    status_counts,
    wait_until,
)

pytestmark = needs_postgres_and_redis

MESSAGES = 2_000
KILL_AFTER = 350  # SES calls before the kill: a few hundred, mid-batch (not a multiple of BATCH), well before the end
LEASE = 3  # seconds: what the killed worker held goes back to the queue this soon after
# Messages a drain claims at once: sent well within the lease even on a slow machine, so a lease runs out only
# under the dead worker (a batch sent slower than the lease lasts could be taken back from a live one).
BATCH = 100


def email_faults_run(*, record: Record, ids: list[uuid.UUID], start: Callable[[], None], **env: str) -> Outcome:
    """Workers with `env` drain `ids` once `start` published the work: the first is killed after KILL_AFTER
    calls, its leases run out, the sweep (as beat runs it) and a second worker finish."""
    workers = Workers(record, EMAIL_SEND_LEASE_SECONDS=str(LEASE), EMAIL_DRAIN_BATCH_SIZE=str(BATCH), **env)
    phases: dict[str, float] = {}
    began = time.monotonic()
    try:
        start()
        first = workers.start("fault-first")
        assert wait_until(lambda: record.count() > 0, 60), "the first worker never got going"
        phases["first call"] = time.monotonic() - began
        assert wait_until(lambda: record.count() >= KILL_AFTER, 60, step=0.01), "the first worker stopped sending"
        phases["kill"] = time.monotonic() - began
        workers.kill(first, "fault-first")
        kill = kill_measure(record, ids)
        assert kill.calls < MESSAGES, "the worker finished before it was killed: nothing was tested"
        workers.start("fault-second")  # it boots while the leases run out; it has nothing to do until the sweep
        # What the dead worker held stays `sending` until its lease runs out (a real process, a real clock).
        held = Message.objects.filter(pk__in=ids, status=MessageStatus.SENDING)
        assert wait_until(lambda: not held.filter(lease_until__gte=timezone.now()).exists(), LEASE + 5)
        email_sweep(stale_after=timedelta(0))
        phases["sweep"] = time.monotonic() - began
        assert wait_until(all_sent(ids), 120, step=0.2), f"{status_counts(ids)}\n{workers.logs()}"
        phases["all sent"] = time.monotonic() - began
    finally:
        workers.stop()
    outcome = outcome_check(record, ids, kill)
    print(outcome, "; ".join(f"{name} at {at:.1f} s" for name, at in phases.items()))
    return outcome


def _backlog(owner: User, count: int) -> list[uuid.UUID]:
    """`count` queued one-recipient messages: one accepted as the API accepts it, the rest its copies.

    Copies because accepting is not what is tested here and takes a while: email_queue stores about 40 a second
    on the CI machine (50 s for 2,000), bulk_accept is the bulk case's. A copy is the rows email_queue stored,
    with new ids and its own address.
    """
    original = email_queue(
        owner=owner, draft=EmailDraft(to="p0@example.com", subject="Hi", text="Hello", category="notification")
    ).message
    recipient = original.recipients.get()
    messages = [_copy(original, id=uuid.uuid4()) for _ in range(count - 1)]
    Message.objects.bulk_create(messages)
    Recipient.objects.bulk_create(
        _copy(recipient, id=None, message_id=m.pk, address=f"p{i}@example.com") for i, m in enumerate(messages, 1)
    )
    messages.insert(0, original)
    return [m.pk for m in messages]


def _copy(row: Any, **changes: Any) -> Any:
    model = type(row)
    return model(**{**{f.attname: getattr(row, f.attname) for f in model._meta.concrete_fields}, **changes})


def test_a_worker_killed_mid_drain_loses_nothing(
    user: Any, settings: Any, redis_url: str, tmp_path: Path, monkeypatch: Any
) -> None:
    """A backlog of 2,000 queued messages, drained in batches (as the sweep hands a backlog to drains)."""
    record = Record(tmp_path / "calls.txt")
    monkeypatch.setattr("emails.accepting.services.email_send_schedule", lambda **kwargs: None)  # a drain instead
    ids = _backlog(user, MESSAGES)
    with celery_on_redis(settings, redis_url):
        email_faults_run(record=record, ids=ids, start=lambda: app.send_task(DRAIN_TASK, queue=BULK_QUEUE))


def test_a_worker_killed_mid_paced_drain_loses_nothing(
    user: Any, settings: Any, redis_url: str, tmp_path: Path, monkeypatch: Any
) -> None:
    """The same backlog paced at 200 recipients/s on the workers' shared Redis timeline: a drain writes what it
    sent before each wait for its slot."""
    record = Record(tmp_path / "calls.txt")
    monkeypatch.setattr("emails.accepting.services.email_send_schedule", lambda **kwargs: None)
    ids = _backlog(user, MESSAGES)
    with celery_on_redis(settings, redis_url):
        email_faults_run(
            record=record,
            ids=ids,
            start=lambda: app.send_task(DRAIN_TASK, queue=BULK_QUEUE),
            EMAIL_PACE_SENDS="true",
            EMAIL_PACE_USE_SES_QUOTA="false",
            EMAIL_MAX_SEND_RATE="200",
            EMAIL_PACE_REDIS_URL=redis_url,
        )


def test_a_worker_killed_mid_bulk_loses_nothing_and_the_bulk_finishes(
    user: Any, settings: Any, redis_url: str, tmp_path: Path, monkeypatch: Any
) -> None:
    record = Record(tmp_path / "calls.txt")
    monkeypatch.setattr("emails.accepting.bulk.email_drain_schedule", lambda: None)  # the drain is sent below
    rows = [BulkRow(to=f"p{i}@example.com", template_data={"n": str(i)}) for i in range(MESSAGES)]
    bulk = bulk_accept(owner=user, draft=BulkDraft(name="Faults", subject="N {{ n }}", text="Hello {{ n }}",
                                                    category="notification", rows=rows))  # fmt: skip
    assert bulk.accepted == MESSAGES
    ids = list(Message.objects.filter(bulk=bulk).values_list("pk", flat=True))
    with celery_on_redis(settings, redis_url):
        email_faults_run(record=record, ids=ids, start=lambda: app.send_task(DRAIN_TASK, queue=BULK_QUEUE))
    summary = bulk_summary(bulk)
    assert (summary.status, summary.progress, summary.counts["sent"]) == (BulkStatus.DONE, 100, MESSAGES)
