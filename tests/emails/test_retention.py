"""Retention: old bodies of finished mail and applied SNS bodies removed, exactly those, by beat and by command."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command
from django.test import Client
from rest_framework.test import APIClient

from emails.models import Event, InboundNotification, Message, Recipient
from emails.privacy import message_bodies_remove, notification_bodies_remove, retention_run
from emails.tasks import email_retention_task
from tests.factories import UserFactory

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
pytestmark = pytest.mark.django_db


def message(
    owner: Any, status: str, *, created_days: float, sent_days: float | None = None, now: datetime = NOW
) -> Message:
    """A message created (and sent) that many days before `now`, with a recipient, an event and a cost."""
    m = Message.objects.create(
        owner=owner, from_email="crm@example.com", subject=f"{status} {created_days}", category="notification",
        html_body="<p>Hello Jane</p>", text_body="Hello Jane", template_data={"name": "Jane"}, status=status,
        cost=Decimal("0.0001"), recipient_count=1, sent_count=1 if sent_days is not None else 0,
        sent_at=now - timedelta(days=sent_days) if sent_days is not None else None,
    )  # fmt: skip
    Message.objects.filter(pk=m.pk).update(created_at=now - timedelta(days=created_days))
    r = Recipient.objects.create(message=m, kind="to", address="jane@example.com", status="sent", domain="example.com")
    Event.objects.create(message=m, recipient=r, address=r.address, type="send", occurred_at=NOW)
    return Message.objects.get(pk=m.pk)


def mail_at(user: Any, now: datetime) -> dict[str, Message]:
    """Each kind of message the rule must tell apart, for a retention of 30 days at `now`."""
    return {
        "old sent": message(user, "sent", created_days=40, sent_days=40, now=now),
        "old delivered": message(user, "delivered", created_days=31, sent_days=31, now=now),
        "old bounced": message(user, "bounced", created_days=90, sent_days=90, now=now),
        "old failed": message(user, "failed", created_days=35, now=now),
        "old cancelled": message(user, "cancelled", created_days=35, now=now),
        "old suppressed": message(user, "suppressed", created_days=35, now=now),
        # Not finished sending: still to go, whatever their age.
        "old queued": message(user, "queued", created_days=40, now=now),
        "old scheduled": message(user, "scheduled", created_days=40, now=now),
        "old sending": message(user, "sending", created_days=40, now=now),
        "old paused": message(user, "paused", created_days=40, now=now),
        "old held": message(user, "held", created_days=40, now=now),
        "new sent": message(user, "sent", created_days=29, sent_days=29, now=now),
        # Scheduled long ago, sent lately: its age counts from the send.
        "scheduled long ago, sent lately": message(user, "delivered", created_days=60, sent_days=3, now=now),
    }


@pytest.fixture
def mail(user: Any) -> dict[str, Message]:
    return mail_at(user, NOW)


REMOVED = {"old sent", "old delivered", "old bounced", "old failed", "old cancelled", "old suppressed"}


def bodies_kept(mail: dict[str, Message]) -> set[str]:
    kept = set(Message.objects.filter(body_removed_at__isnull=True).values_list("pk", flat=True))
    return {name for name, m in mail.items() if m.pk in kept}


def test_it_removes_exactly_the_bodies_of_finished_mail_older_than_the_retention(mail: dict[str, Message]) -> None:
    assert message_bodies_remove(days=30, now=NOW) == len(REMOVED)

    assert bodies_kept(mail) == set(mail) - REMOVED
    for name in REMOVED:
        m = Message.objects.get(pk=mail[name].pk)
        assert (m.html_body, m.text_body, m.template_data) == ("", "", {})
        assert (m.body_removed_at, m.body_removed_reason) == (NOW, "retention")
        # The message itself, its recipients, events and cost stay.
        assert (m.subject, m.status, m.cost) == (mail[name].subject, mail[name].status, Decimal("0.0001"))
        assert m.recipients.get().address == "jane@example.com"
        assert m.events.count() == 1
    for name in set(mail) - REMOVED:
        m = Message.objects.get(pk=mail[name].pk)
        assert (m.html_body, m.text_body, m.template_data) == ("<p>Hello Jane</p>", "Hello Jane", {"name": "Jane"})


def test_a_second_run_changes_nothing(mail: dict[str, Message]) -> None:
    message_bodies_remove(days=30, now=NOW)
    assert message_bodies_remove(days=30, now=NOW + timedelta(hours=1)) == 0
    assert set(Message.objects.exclude(body_removed_at=None).values_list("body_removed_at", flat=True)) == {NOW}


def test_it_works_in_batches_and_reports_its_progress(mail: dict[str, Message]) -> None:
    seen: list[tuple[int, int]] = []
    assert message_bodies_remove(days=30, now=NOW, batch_size=4, progress=lambda d, t: seen.append((d, t))) == 6
    assert seen == [(0, 6), (4, 6), (6, 6)]
    assert bodies_kept(mail) == set(mail) - REMOVED


def test_zero_days_keeps_every_body(mail: dict[str, Message]) -> None:
    assert message_bodies_remove(days=0, now=NOW + timedelta(days=3650)) == 0
    assert bodies_kept(mail) == set(mail)


def notification(
    sns_id: str, *, received_days: float, processed: bool, error: str = "", now: datetime = NOW
) -> InboundNotification:
    n = InboundNotification.objects.create(
        sns_message_id=sns_id, type="Notification", topic_arn="arn:aws:sns:us-east-1:1:t",
        body=json.dumps({"Type": "Notification", "MessageId": sns_id, "Message": '{"mail": {"destination": '
                         '["jane@example.com"]}}'}),
        processed_at=now - timedelta(days=received_days) if processed else None, error=error,
    )  # fmt: skip
    InboundNotification.objects.filter(pk=n.pk).update(received_at=now - timedelta(days=received_days))
    return n


def test_it_removes_the_bodies_of_applied_sns_notifications_only(db: Any) -> None:
    old_applied = notification("old-applied", received_days=31, processed=True)
    old_failed = notification("old-failed", received_days=45, processed=True, error="Could not be applied")
    old_waiting = notification("old-waiting", received_days=45, processed=False)
    new_applied = notification("new-applied", received_days=29, processed=True)
    event = Event.objects.create(inbound=old_applied, address="jane@example.com", type="delivery", occurred_at=NOW)

    assert notification_bodies_remove(days=30, now=NOW) == 2

    removed = set(InboundNotification.objects.filter(body="").values_list("sns_message_id", flat=True))
    assert removed == {"old-applied", "old-failed"}
    for n in (old_applied, old_failed):
        n.refresh_from_db()
        assert n.body_removed_at == NOW and n.processed_at is not None
    for n in (old_waiting, new_applied):
        n.refresh_from_db()
        assert n.body_removed_at is None and "jane@example.com" in n.body
    # The row stays: SNS's retries are still recognised by it, and its events still point at it.
    event.refresh_from_db()
    assert event.inbound_id == old_applied.pk
    assert notification_bodies_remove(days=30, now=NOW) == 0


def test_beat_runs_both_as_the_settings_say(settings: Any, mail: dict[str, Message]) -> None:
    notification("old-applied", received_days=8, processed=True)
    settings.EMAIL_BODY_RETENTION_DAYS = 30
    settings.SNS_RAW_RETENTION_DAYS = 7
    entry = settings.CELERY_BEAT_SCHEDULE["email-retention"]
    assert entry == {"task": "emails.tasks.email_retention_task", "schedule": float(24 * 3600)}

    result = retention_run(now=NOW)

    assert (result.bodies, result.notifications) == (6, 1)
    assert bodies_kept(mail) == set(mail) - REMOVED


def test_the_beat_task_removes_at_the_present_time(settings: Any, user: Any) -> None:
    settings.EMAIL_BODY_RETENTION_DAYS = 10
    settings.SNS_RAW_RETENTION_DAYS = 0
    old = message(user, "delivered", created_days=11, sent_days=11, now=datetime.now(UTC))
    message(user, "delivered", created_days=9, sent_days=9, now=datetime.now(UTC))
    assert email_retention_task.apply().get() == {"bodies": 1, "notifications": 0}
    assert Message.objects.get(pk=old.pk).body_removed_reason == "retention"


def test_the_command_shows_its_progress_and_what_it_removed(settings: Any, user: Any) -> None:
    # The command works at the present time, as beat does.
    now = datetime.now(UTC)
    mail = mail_at(user, now)
    notification("old-applied", received_days=31, processed=True, now=now)
    notification("new-applied", received_days=29, processed=True, now=now)
    settings.EMAIL_BODY_RETENTION_DAYS = 30
    settings.SNS_RAW_RETENTION_DAYS = 30
    out = StringIO()

    call_command("email_retention", "--dry-run", stdout=out)
    assert bodies_kept(mail) == set(mail)
    call_command("email_retention", "--batch-size", "2", stdout=out)
    call_command("email_retention", stdout=out)

    assert out.getvalue().splitlines() == [
        "6 message bodies are older than 30 days.",
        "1 SNS bodies are older than 30 days.",
        f"message bodies [{'.' * 40}] 0/6 (0%)",
        f"message bodies [{'#' * 13}{'.' * 27}] 2/6 (33%)",
        f"message bodies [{'#' * 26}{'.' * 14}] 4/6 (66%)",
        f"message bodies [{'#' * 40}] 6/6 (100%)",
        "Removed the bodies of 6 message(s) older than 30 days.",
        f"SNS bodies [{'.' * 40}] 0/1 (0%)",
        f"SNS bodies [{'#' * 40}] 1/1 (100%)",
        "Removed 1 stored SNS body(ies) older than 30 days.",
        # Run again: nothing left to remove.
        "Removed the bodies of 0 message(s) older than 30 days.",
        "Removed 0 stored SNS body(ies) older than 30 days.",
    ]
    assert bodies_kept(mail) == set(mail) - REMOVED
    assert set(InboundNotification.objects.filter(body="").values_list("sns_message_id", flat=True)) == {"old-applied"}


def test_the_command_says_when_bodies_are_kept_for_ever(settings: Any) -> None:
    settings.EMAIL_BODY_RETENTION_DAYS = 0
    settings.SNS_RAW_RETENTION_DAYS = 0
    out = StringIO()
    call_command("email_retention", stdout=out)
    assert out.getvalue().splitlines() == [
        "Message bodies are kept for ever (EMAIL_BODY_RETENTION_DAYS=0).",
        "SNS bodies are kept for ever (SNS_RAW_RETENTION_DAYS=0).",
    ]


def test_the_message_page_and_api_say_the_body_was_removed(user: Any, client: Client) -> None:
    m = message(user, "delivered", created_days=45, sent_days=45)
    message_bodies_remove(days=30, now=NOW)
    client.force_login(user)

    page = client.get(f"/emails/{m.pk}")
    assert page.status_code == 200
    text = page.content.decode()
    assert "Body removed after 45 days, on" in text and "2026-06-01" in text
    assert "No text part." not in text

    api = APIClient()
    api.force_authenticate(user)
    data = api.get(f"/api/email/{m.pk}").json()["data"]
    assert (data["htmlContent"], data["textContent"], data["bodyRemovedReason"]) == ("", "", "retention")
    assert data["bodyRemovedAt"].startswith("2026-06-01T12:00:00")


def test_a_message_whose_body_was_removed_is_not_resent(user: Any) -> None:
    m = message(user, "delivered", created_days=45, sent_days=45)
    message_bodies_remove(days=30, now=NOW)
    api = APIClient()
    api.force_authenticate(user)
    response = api.post(f"/api/email/{m.pk}/resend", {}, format="json")
    assert response.status_code == 409, response.content
    assert "body was removed" in response.json()["error"]
    assert Message.objects.count() == 1


def test_the_admin_shows_when_and_why_the_body_went(user: Any, client: Client) -> None:
    m = message(user, "delivered", created_days=45, sent_days=45)
    message_bodies_remove(days=30, now=NOW)
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    page = client.get(f"/admin/emails/message/{m.pk}/change/")
    assert page.status_code == 200
    assert "Body removed at" in page.content.decode() and "Kept for EMAIL_BODY_RETENTION_DAYS" in page.content.decode()
