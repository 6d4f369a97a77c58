"""On PostgreSQL a drain writes outcomes on a second connection while it goes on sending.

These tests commit for real (transaction=True): the writer's connection could
not see rows inside a test's transaction, which is why a drain inside a
transaction writes on its own connection instead (every other test).
"""

from __future__ import annotations

from typing import Any

import botocore.client
import pytest
from botocore.exceptions import ClientError
from django.db import DatabaseError, connection
from rest_framework.test import APIClient

from emails.delivery import email_drain
from emails.delivery import writer as delivery_writer
from emails.models import Event, Message, Recipient

postgresql_only = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="the background writer is PostgreSQL's; CI runs these on it"
)

PAYLOAD = {"subject": "Hi", "textContent": "Hello", "category": "notification"}


@pytest.fixture
def queue(user: Any, monkeypatch: Any) -> Any:
    """Queue messages without delivering them: the drain under test does the work."""
    monkeypatch.setattr("emails.accepting.services.email_send_schedule", lambda **kwargs: None)
    client = APIClient()
    client.force_authenticate(user)

    def queue(count: int) -> list[str]:
        return [
            client.post(
                "/api/email", {**PAYLOAD, "to": [f"u{i}@example.com", f"v{i}@example.com"]}, format="json"
            ).json()["data"]["messageId"]
            for i in range(count)
        ]

    return queue


@pytest.fixture
def writes(monkeypatch: Any) -> list[str]:
    """The SQL of every background write, as sent."""
    sent: list[str] = []
    real_send = delivery_writer.BackgroundWriter.send

    def send(self: Any, sql: str) -> None:
        sent.append(sql)
        real_send(self, sql)

    monkeypatch.setattr(delivery_writer.BackgroundWriter, "send", send)
    return sent


def _throttle_call(monkeypatch: Any, number: int) -> None:
    """SES answers the `number`th SendRawEmail with Throttling (moto cannot throttle); the others reach moto."""
    real_call = botocore.client.BaseClient._make_api_call
    calls = []

    def call(self: Any, operation: str, params: dict[str, Any]) -> Any:
        if operation == "SendRawEmail":
            calls.append(operation)
            if len(calls) == number:
                error = {"Code": "Throttling", "Message": "slow down"}
                raise ClientError({"Error": error, "ResponseMetadata": {"HTTPStatusCode": 400}}, operation)
        return real_call(self, operation, params)

    monkeypatch.setattr(botocore.client.BaseClient, "_make_api_call", call)


@pytest.mark.django_db(transaction=True)
@postgresql_only
def test_a_drain_writes_every_outcome_in_the_background_and_commits_before_it_returns(
    queue: Any, ses: Any, settings: Any, writes: list[str]
) -> None:
    settings.EMAIL_DRAIN_BATCH_SIZE = 4
    settings.EMAIL_RECORD_MAX_CALLS = 2  # a write every two SES calls
    ids = queue(9)

    assert email_drain() == 9

    assert len(writes) >= 5
    assert Message.objects.filter(pk__in=ids, status="sent", sent_count=2).count() == 9
    recipients = list(Recipient.objects.all())
    assert len(recipients) == 18 and {r.status for r in recipients} == {"sent"}
    # Each recipient carries the MessageId of the SES call that took it, and one `send` event with that id.
    assert len(ses.sent_messages) == 9
    assert all(r.ses_message_id for r in recipients) and len({r.ses_message_id for r in recipients}) == 9
    events = {(e.recipient_id, e.ses_message_id) for e in Event.objects.filter(type="send")}
    assert events == {(r.pk, r.ses_message_id) for r in recipients}


@pytest.mark.django_db(transaction=True)
@postgresql_only
def test_a_failed_background_write_stops_the_drain_with_its_error_and_records_nothing_of_it(
    queue: Any, ses: Any, settings: Any, monkeypatch: Any
) -> None:
    settings.EMAIL_DRAIN_BATCH_SIZE = 10
    settings.EMAIL_RECORD_MAX_CALLS = 2
    queue(4)
    statements_sql = delivery_writer.Statements.sql

    def broken(self: Any) -> str:  # the second write fails half-way, inside its transaction
        sql = statements_sql.fget(self)  # type: ignore[attr-defined]
        broken.calls += 1  # type: ignore[attr-defined]
        return sql + ";\nSELECT 1 / 0" if broken.calls == 2 else sql  # type: ignore[attr-defined]

    broken.calls = 0  # type: ignore[attr-defined]
    monkeypatch.setattr(delivery_writer.Statements, "sql", property(broken))

    with pytest.raises(DatabaseError):
        email_drain()

    # The first write committed; none of the second did (one transaction), so its messages
    # stay `sending` for the sweeper, and their recipients have no `send` event.
    assert Message.objects.filter(status="sent").count() == 2
    assert Message.objects.filter(status="sending").count() == 2
    assert Event.objects.filter(type="send").count() == 4
    # The worker's own connection is fine.
    assert Message.objects.count() == 4


@pytest.mark.django_db(transaction=True)
@postgresql_only
def test_throttling_mid_drain_waits_for_the_sent_to_be_written_before_releasing_the_rest(
    queue: Any, ses: Any, settings: Any, monkeypatch: Any
) -> None:
    settings.EMAIL_DRAIN_BATCH_SIZE = 10
    ids = queue(5)
    _throttle_call(monkeypatch, 3)

    assert email_drain() == 2

    statuses = dict(Message.objects.values_list("pk", "status"))
    assert [statuses[Message._meta.pk.to_python(i)] for i in ids] == ["sent", "sent", "queued", "queued", "queued"]
    assert Message.objects.get(pk=ids[2]).attempts == 1
    assert Event.objects.filter(type="send").count() == 4


@pytest.mark.django_db(transaction=True)
@postgresql_only
def test_a_message_given_up_mid_send_counts_as_sent_what_its_earlier_calls_sent(
    user: Any, ses: Any, settings: Any, monkeypatch: Any
) -> None:
    """The retry path reads the recipients' statuses: the background write of the first call must be in."""
    settings.EMAIL_MAX_ATTEMPTS = 1  # the first throttling gives up on the rest
    monkeypatch.setattr("emails.accepting.services.email_send_schedule", lambda **kwargs: None)
    client = APIClient()
    client.force_authenticate(user)
    to = [f"r{i}@example.com" for i in range(40)]
    cc = [f"c{i}@example.com" for i in range(20)]  # 60 addresses: two SES calls, 50 then 10
    assert client.post("/api/email", {**PAYLOAD, "to": to, "cc": cc}, format="json").status_code == 201
    _throttle_call(monkeypatch, 2)
    # A slow database: the first call's write is still running when SES throttles the second.
    statements_sql = delivery_writer.Statements.sql
    monkeypatch.setattr(
        delivery_writer.Statements,
        "sql",
        property(lambda self: "SELECT pg_sleep(0.3);\n" + statements_sql.fget(self)),  # type: ignore[attr-defined]
    )

    email_drain()

    message = Message.objects.get()
    assert (message.status, message.sent_count, message.failed_count) == ("sent", 50, 10)
    assert Recipient.objects.filter(status="sent").count() == 50
    assert Recipient.objects.filter(status="failed").count() == 10


def test_a_drain_inside_a_transaction_writes_on_its_own_connection(
    queue: Any, ses: Any, settings: Any, writes: list[str]
) -> None:
    """Another connection would not see the transaction's rows: the writes stay on the drain's (any database)."""
    settings.EMAIL_RECORD_MAX_CALLS = 1
    queue(3)

    assert email_drain() == 3

    assert writes == []
    assert Message.objects.filter(status="sent").count() == 3
    assert Event.objects.filter(type="send").count() == 6
