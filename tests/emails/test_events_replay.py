"""`manage.py events_replay`: stored notifications applied again, never doubling an event."""

from __future__ import annotations

import json
from datetime import timedelta
from io import StringIO
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from emails.models import Event, InboundNotification, Message, Recipient
from tests.sns_signing import SUBSCRIBE_URL, ses_delivery, sns_envelope, sns_host

pytestmark = pytest.mark.django_db


def _recipient(user: Any, address: str) -> Recipient:
    ses_id = f"0100018c-{address.split('@')[0]:0>8}-0000-000000"
    message = Message.objects.create(
        owner=user,
        from_email="CRM <noreply@crm.example.com>",
        subject="Hello",
        text_body="Hi",
        category="notification",
        status="sent",
        recipient_count=1,
        sent_count=1,
    )
    return Recipient.objects.create(message=message, kind="to", address=address, status="sent", ses_message_id=ses_id)


def _stored(recipient: Recipient, **envelope: Any) -> InboundNotification:
    """A notification as the webhook stores it, not processed yet."""
    message = sns_envelope(
        ses_delivery(ses_message_id=recipient.ses_message_id, recipient=recipient.address), **envelope
    )
    return InboundNotification.objects.create(
        sns_message_id=message["MessageId"],
        type=message["Type"],
        topic_arn=message["TopicArn"],
        body=json.dumps(message),
    )


def replay(*args: str) -> str:
    out = StringIO()
    call_command("events_replay", *args, stdout=out)
    return out.getvalue()


def test_replaying_an_applied_notification_appends_nothing(user: Any, post_sns: Any) -> None:
    recipient = _recipient(user, "ann@example.com")
    response = post_sns(ses_delivery(ses_message_id=recipient.ses_message_id, recipient="ann@example.com"))
    assert response.status_code == 200
    notification = InboundNotification.objects.get()
    assert Event.objects.filter(recipient=recipient, type="delivery").count() == 1

    output = replay("--id", str(notification.pk))
    replay("--id", notification.sns_message_id)

    assert "1 of 1 notification(s) replayed, 0 failed." in output
    assert Event.objects.filter(recipient=recipient).count() == 1
    recipient.refresh_from_db()
    assert recipient.status == "delivered"
    assert Message.objects.get().delivered_count == 1


def test_unprocessed_notifications_are_applied(user: Any) -> None:
    waiting = _recipient(user, "ann@example.com")
    done = _recipient(user, "bob@example.com")
    pending = _stored(waiting)
    processed = _stored(done)
    earlier = timezone.now() - timedelta(hours=1)
    InboundNotification.objects.filter(pk=processed.pk).update(processed_at=earlier)

    output = replay("--unprocessed")

    assert "1 of 1 notification(s) replayed" in output
    waiting.refresh_from_db()
    done.refresh_from_db()
    assert (waiting.status, done.status) == ("delivered", "sent")
    assert Event.objects.get().inbound == pending
    pending.refresh_from_db()
    processed.refresh_from_db()
    assert pending.processed_at is not None
    assert processed.processed_at == earlier


def test_since_replays_only_what_arrived_since(user: Any) -> None:
    old = _stored(_recipient(user, "ann@example.com"))
    new = _stored(_recipient(user, "bob@example.com"))
    InboundNotification.objects.filter(pk=old.pk).update(received_at=timezone.now() - timedelta(days=3))
    yesterday = (timezone.now() - timedelta(days=1)).date().isoformat()

    output = replay("--since", yesterday)

    assert "1 of 1 notification(s) replayed" in output
    assert list(Recipient.objects.filter(status="delivered").values_list("address", flat=True)) == ["bob@example.com"]
    assert InboundNotification.objects.get(pk=new.pk).processed_at is not None
    assert InboundNotification.objects.get(pk=old.pk).processed_at is None


def test_progress_is_reported(user: Any, monkeypatch: Any) -> None:
    monkeypatch.setattr("emails.management.commands.events_replay.PROGRESS_EVERY", 2)
    for n in range(5):
        _stored(_recipient(user, f"r{n}@example.com"))

    output = replay("--all")

    assert output.splitlines() == [
        "2/5 notification(s) replayed",
        "4/5 notification(s) replayed",
        "5 of 5 notification(s) replayed, 0 failed.",
    ]
    assert Recipient.objects.filter(status="delivered").count() == 5


def test_a_failure_is_counted_and_the_others_are_still_replayed(user: Any, sns: None) -> None:
    recipient = _recipient(user, "ann@example.com")
    _stored(recipient)
    confirmation = sns_envelope("Subscribe?", type="SubscriptionConfirmation")
    InboundNotification.objects.create(
        sns_message_id=confirmation["MessageId"],
        type="SubscriptionConfirmation",
        topic_arn=confirmation["TopicArn"],
        body=json.dumps(confirmation),
    )

    with sns_host() as host:
        host.get(SUBSCRIBE_URL, status=503)
        with pytest.raises(CommandError, match="1 notification"):
            replay("--all")
        assert [call.request.url for call in host.calls] == [SUBSCRIBE_URL]

    recipient.refresh_from_db()
    assert recipient.status == "delivered"


def test_a_subscription_confirmation_is_confirmed_again(user: Any, sns: None) -> None:
    confirmation = sns_envelope("Subscribe?", type="SubscriptionConfirmation")
    InboundNotification.objects.create(
        sns_message_id=confirmation["MessageId"],
        type="SubscriptionConfirmation",
        topic_arn=confirmation["TopicArn"],
        body=json.dumps(confirmation),
    )

    with sns_host(SUBSCRIBE_URL) as host:
        assert "1 of 1 notification(s) replayed, 0 failed." in replay("--unprocessed")
        assert [call.request.url for call in host.calls] == [SUBSCRIBE_URL]
        assert host.calls[0].response.status_code == 200


@pytest.mark.parametrize(
    ("args", "error"),
    [
        ((), "Say which notifications"),
        (("--since", "last tuesday"), "is not an ISO date"),
    ],
)
def test_it_refuses_unclear_requests(args: tuple[str, ...], error: str) -> None:
    with pytest.raises(CommandError, match=error):
        replay(*args)
