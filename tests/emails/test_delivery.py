"""The worker: claiming, SES failures, retries, the sweeper. SES is moto behind django-ses."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import botocore.client
import pytest
from botocore.exceptions import ClientError
from django.utils import timezone

from emails.delivery import claim as delivery_claim
from emails.delivery import email_claim, email_claim_batch, email_deliver, email_drain, email_sweep
from emails.delivery.send import drain_batch_size
from emails.models import Event, Message

PAYLOAD = {"to": "a@example.com", "subject": "Hi", "textContent": "Hello", "category": "notification"}


def _ses_errors(monkeypatch: Any, codes: list[tuple[str, int]]) -> list[str]:
    """Make SendRawEmail answer these errors first (moto cannot throttle), then reach moto."""
    real_call = botocore.client.BaseClient._make_api_call
    answered: list[str] = []

    def call(self: Any, operation: str, params: dict[str, Any]) -> Any:
        if operation == "SendRawEmail" and codes:
            code, status = codes.pop(0)
            answered.append(code)
            raise ClientError(
                {
                    "Error": {"Code": code, "Message": f"{code} from the test"},
                    "ResponseMetadata": {"HTTPStatusCode": status},
                },
                operation,
            )
        return real_call(self, operation, params)

    monkeypatch.setattr(botocore.client.BaseClient, "_make_api_call", call)
    return answered


def test_throttling_is_retried_then_sent(post_email: Any, ses: Any, monkeypatch: Any) -> None:
    answered = _ses_errors(monkeypatch, [("Throttling", 400), ("ServiceUnavailable", 503)])

    response = post_email(PAYLOAD)

    assert response.status_code == 201
    assert answered == ["Throttling", "ServiceUnavailable"]
    message = Message.objects.get()
    assert message.status == "sent"
    assert message.attempts == 2
    assert len(ses.sent_messages) == 1
    assert message.recipients.get().status == "sent"


def test_a_message_still_throttled_after_max_attempts_fails_with_the_reason(
    post_email: Any, ses: Any, monkeypatch: Any, settings: Any
) -> None:
    settings.EMAIL_MAX_ATTEMPTS = 3
    _ses_errors(monkeypatch, [("Throttling", 400)] * 5)

    post_email(PAYLOAD)

    message = Message.objects.get()
    assert message.status == "failed"
    assert "Gave up after 3 attempts" in message.status_reason
    assert "Throttling" in message.status_reason
    assert message.recipients.get().status == "failed"
    assert ses.sent_messages == []


def test_a_throttled_message_waits_for_its_backoff(api: Any, ses: Any, monkeypatch: Any, settings: Any) -> None:
    settings.EMAIL_RETRY_BACKOFF_SECONDS = 30
    _ses_errors(monkeypatch, [("Throttling", 400)])
    message_id = api.post("/api/email", PAYLOAD, format="json").json()["data"]["messageId"]

    email_deliver(message_id=message_id)

    message = Message.objects.get()
    assert message.status == "queued"
    assert message.send_after is not None and message.send_after > timezone.now() + timedelta(seconds=10)
    assert message.status_reason.startswith("Retrying: Throttling")
    assert email_claim(message_id=message.pk) is False  # not due yet
    Message.objects.update(send_after=timezone.now())
    email_deliver(message_id=message.pk)
    assert Message.objects.get().status == "sent"


def test_an_unverified_sender_is_rejected_and_marked_failed(post_email: Any, ses: Any, settings: Any) -> None:
    settings.DEFAULT_FROM_EMAIL = "Someone <someone@unverified.example.org>"

    post_email(PAYLOAD)

    message = Message.objects.get()
    assert message.status == "failed"
    assert "MessageRejected" in message.status_reason
    assert "someone@unverified.example.org" in message.status_reason
    recipient = message.recipients.get()
    assert recipient.status == "failed" and "MessageRejected" in recipient.reason
    (event,) = Event.objects.filter(message=message, type="failure")
    assert (event.recipient, event.address, event.ses_message_id) == (recipient, recipient.address, "")
    assert event.details == {"reason": recipient.reason}
    assert message.cost == 0
    assert ses.sent_messages == []


def test_a_rejected_group_does_not_stop_the_others(post_email: Any, ses: Any, monkeypatch: Any) -> None:
    _ses_errors(monkeypatch, [("MessageRejected", 400)])
    to = [f"u{i}@example.com" for i in range(60)]

    post_email({**PAYLOAD, "to": to[:50], "cc": to[50:]})

    message = Message.objects.get()
    assert message.status == "sent"  # some recipients got it
    assert message.sent_count == 10 and message.failed_count == 50
    assert message.status_reason.startswith("MessageRejected")
    assert message.recipients.filter(status="failed").count() == 50
    assert len(ses.sent_messages) == 1


def test_only_one_worker_can_claim_a_message(api: Any, ses: Any) -> None:
    message_id = api.post("/api/email", PAYLOAD, format="json").json()["data"]["messageId"]

    assert email_claim(message_id=message_id) is True
    assert email_claim(message_id=message_id) is False
    assert email_claim_batch(limit=10) == []
    # A second worker told to deliver it sends nothing.
    assert email_deliver(message_id=message_id).delivered == 0
    assert ses.sent_messages == []


def test_a_batch_claim_takes_the_oldest_first_in_order_with_what_sending_reads(api: Any, ses: Any) -> None:
    posted = [
        api.post("/api/email", {**PAYLOAD, "to": f"u{i}@example.com", "subject": f"S{i}"}, format="json")
        for i in range(4)
    ]
    ids = [response.json()["data"]["messageId"] for response in posted]
    now = timezone.now()
    # The last posted is the oldest: the order comes from created_at, not from how rows were stored.
    for age, message_id in enumerate(ids):
        Message.objects.filter(pk=message_id).update(created_at=now - timedelta(minutes=age))

    claimed = email_claim_batch(limit=3)

    assert [str(m.pk) for m in claimed] == [ids[3], ids[2], ids[1]]
    oldest = claimed[0]
    assert isinstance(oldest.pk, uuid.UUID)
    assert (oldest.subject, oldest.status, oldest.category) == ("S3", "sending", "notification")
    assert (oldest.recipient_count, oldest.attachment_count, oldest.attempts) == (1, 0, 0)
    assert Message.objects.get(pk=ids[0]).status == "queued"


def test_a_claimed_batch_has_each_message_s_recipients_in_their_order(api: Any, ses: Any) -> None:
    to = ["c@example.com", "a@example.com"]
    payload = {**PAYLOAD, "to": to, "cc": "b@example.com", "bcc": ["d@example.com"]}
    message_id = api.post("/api/email", payload, format="json").json()["data"]["messageId"]

    batch = delivery_claim.batch_claim(limit=10)

    [message] = batch.messages
    recipients = batch.recipients[message.pk]
    assert [(r.kind, r.address) for r in recipients] == [
        ("to", "c@example.com"), ("to", "a@example.com"), ("cc", "b@example.com"), ("bcc", "d@example.com"),
    ]  # fmt: skip
    assert all(r.message_id == message.pk == uuid.UUID(message_id) for r in recipients)


def test_a_worker_killed_mid_send_is_swept_and_resends_only_what_did_not_leave(
    api: Any, ses: Any, monkeypatch: Any, settings: Any
) -> None:
    to = [f"u{i}@example.com" for i in range(70)]
    message_id = api.post("/api/email", {**PAYLOAD, "to": to[:50], "cc": to[50:]}, format="json").json()["data"][
        "messageId"
    ]
    real_call = botocore.client.BaseClient._make_api_call
    calls = {"n": 0}

    def dies_on_second_call(self: Any, operation: str, params: dict[str, Any]) -> Any:
        if operation == "SendRawEmail":
            calls["n"] += 1
            if calls["n"] == 2:
                raise SystemExit("worker killed")  # not an SES error: the process is going away
        return real_call(self, operation, params)

    monkeypatch.setattr(botocore.client.BaseClient, "_make_api_call", dies_on_second_call)
    with pytest.raises(SystemExit):
        email_deliver(message_id=message_id)

    message = Message.objects.get()
    assert message.status == "sending"  # the worker died holding it
    assert message.recipients.filter(status="sent").count() == 50  # the first call was written
    assert email_sweep() == 0  # the lease has not run out yet

    Message.objects.update(lease_until=timezone.now() - timedelta(seconds=1))
    monkeypatch.undo()
    settings.TASKS_IN_BACKGROUND = False
    from django.db import transaction

    with transaction.atomic():
        swept = email_sweep()
    assert swept >= 1
    email_drain()

    message = Message.objects.get()
    assert message.status == "sent"
    assert message.sent_count == 70
    assert len(ses.sent_messages) == 2  # the first group was not sent again
    assert Event.objects.filter(message=message, type="send").count() == 70


def test_the_sweeper_redispatches_queued_messages_whose_task_was_lost(
    api: Any, ses: Any, django_capture_on_commit_callbacks: Any
) -> None:
    api.post("/api/email", PAYLOAD, format="json")  # its commit hook never runs: the task is lost
    Message.objects.update(created_at=timezone.now() - timedelta(minutes=5))

    with django_capture_on_commit_callbacks(execute=True):
        assert email_sweep() == 1

    assert Message.objects.get().status == "sent"
    assert len(ses.sent_messages) == 1


def test_drain_delivers_every_due_message_in_batches(api: Any, ses: Any, settings: Any) -> None:
    settings.EMAIL_DRAIN_BATCH_SIZE = 3
    for i in range(7):
        api.post("/api/email", {**PAYLOAD, "to": f"u{i}@example.com"}, format="json")
    Message.objects.filter(recipients__address="u6@example.com").update(send_after=timezone.now() + timedelta(hours=1))

    assert email_drain() == 6

    assert Message.objects.filter(status="sent").count() == 6
    assert Message.objects.filter(status="queued").count() == 1
    assert len(ses.sent_messages) == 6


@pytest.mark.parametrize(
    ("rate", "lease", "expected"),
    [
        (1e9, 300, 500),  # a fast account: the configured size
        (14, 300, 500),  # 14/s sends 2,100 in half a lease
        (1, 300, 150),  # SES's sandbox: no more than half a lease's worth
        (0.001, 300, 1),  # always at least one
    ],
)
def test_a_drain_never_claims_more_than_it_can_send_within_half_a_lease(
    settings: Any, rate: float, lease: int, expected: int
) -> None:
    settings.EMAIL_DRAIN_BATCH_SIZE = 500
    settings.EMAIL_PACE_SENDS = True
    settings.EMAIL_PACE_USE_SES_QUOTA = False
    settings.EMAIL_MAX_SEND_RATE = rate
    settings.EMAIL_SEND_LEASE_SECONDS = lease

    assert drain_batch_size() == expected


def test_a_drain_claims_at_most_its_batch_size_at_a_time(api: Any, ses: Any, settings: Any, monkeypatch: Any) -> None:
    settings.EMAIL_DRAIN_BATCH_SIZE = 500
    settings.EMAIL_PACE_SENDS = True
    settings.EMAIL_PACE_USE_SES_QUOTA = False
    settings.EMAIL_MAX_SEND_RATE = 1000
    settings.EMAIL_SEND_LEASE_SECONDS = 0.004  # 1000/s x 2 ms: two messages per claim
    for i in range(5):
        api.post("/api/email", {**PAYLOAD, "to": f"u{i}@example.com"}, format="json")
    claimed: list[int] = []
    real_claim = delivery_claim.email_claim_batch

    def claim(*, limit: int) -> Any:
        claimed.append(limit)
        return real_claim(limit=limit)

    monkeypatch.setattr(delivery_claim, "email_claim_batch", claim)

    assert email_drain() == 5

    assert claimed == [2, 2, 2, 2]  # the last claim finds nothing left
    assert Message.objects.filter(status="sent").count() == 5


def test_a_drain_runs_the_same_queries_for_three_messages_as_for_thirty(api: Any, ses: Any, settings: Any) -> None:
    """Nothing is read or written per message: a deferred field touched in the loop would fail this."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    settings.EMAIL_DRAIN_BATCH_SIZE = 500
    # Outcomes written once per batch, however slow the machine.
    settings.EMAIL_RECORD_MAX_DELAY_MS = 60_000
    settings.EMAIL_RECORD_MAX_CALLS = 1_000
    settings.EMAIL_DRAIN_URGENT_CHECK_SECONDS = 3600  # nor a look for urgent mail after a slow second
    counts = []
    for n in (3, 30):
        for i in range(n):
            api.post("/api/email", {**PAYLOAD, "to": [f"u{i}@example.com", f"v{i}@example.com"]}, format="json")
        with CaptureQueriesContext(connection) as queries:
            assert email_drain() == n
        counts.append(len(queries))
    assert counts[0] == counts[1]
    assert Message.objects.filter(status="sent").count() == 33
    assert Event.objects.filter(type="send").count() == 66
