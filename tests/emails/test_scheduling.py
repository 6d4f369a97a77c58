"""Scheduled sends (sendAt, the sweep that releases them), cancel, reschedule, and resend / retry failed."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone
from moto.core import DEFAULT_ACCOUNT_ID
from moto.ses.models import ses_backends
from rest_framework.test import APIClient

from emails.choices import EventType, MessageStatus, RecipientStatus
from emails.delivery import email_sweep
from emails.delivery.retry import scheduled_release
from emails.models import Event, Message, Recipient

pytestmark = pytest.mark.django_db


def sent_count(settings: Any) -> int:
    return len(ses_backends[DEFAULT_ACCOUNT_ID][settings.AWS_SES_REGION_NAME].sent_messages)


def later(**delta: float) -> str:
    return (timezone.now() + timedelta(**delta)).isoformat()


def payload(**overrides: Any) -> dict[str, Any]:
    return {"to": "a@example.com", "subject": "Later", "textContent": "Hi", "category": "notification", **overrides}


def details(response: Any) -> dict[tuple[Any, ...], str]:
    return {tuple(d["path"]): d["message"] for d in response.json()["details"]}


def test_a_scheduled_send_waits_for_its_time_and_is_sent_once_after_the_sweep(
    post_email: Any, ses: Any, settings: Any, django_capture_on_commit_callbacks: Any
) -> None:
    response = post_email(payload(sendAt=later(hours=1)))
    assert response.status_code == 201
    data = response.json()["data"]
    assert data["status"] == "scheduled" and data["sendAt"]
    message = Message.objects.get()
    assert message.status == MessageStatus.SCHEDULED and sent_count(settings) == 0

    with django_capture_on_commit_callbacks(execute=True):
        email_sweep()  # not due yet
    assert sent_count(settings) == 0
    assert Message.objects.get().status == MessageStatus.SCHEDULED

    Message.objects.filter(pk=message.pk).update(send_after=timezone.now() - timedelta(seconds=1))
    with django_capture_on_commit_callbacks(execute=True):
        email_sweep()
    with django_capture_on_commit_callbacks(execute=True):
        email_sweep()  # a second sweep finds nothing to release
    assert sent_count(settings) == 1
    assert Message.objects.get().status == MessageStatus.SENT


@pytest.mark.parametrize(
    ("send_at", "words"),
    [
        ("2020-01-01T00:00:00Z", "passed"),
        ("2030-01-01T09:00:00", "offset"),
        ("tomorrow", "ISO 8601"),
        ("far", "90 days"),
    ],
)
def test_a_bad_send_at_is_refused_on_its_field(send_at: str, words: str, post_email: Any) -> None:
    if send_at == "far":
        send_at = later(days=91)
    response = post_email(payload(sendAt=send_at))
    assert response.status_code == 400
    assert words in details(response)[("sendAt",)]
    assert not Message.objects.exists()


def test_cancel_a_scheduled_message_then_a_second_cancel_conflicts(post_email: Any, api: APIClient) -> None:
    message_id = post_email(payload(sendAt=later(hours=1))).json()["data"]["messageId"]
    response = api.post(f"/api/email/{message_id}/cancel")
    assert response.status_code == 200 and response.json()["data"]["status"] == "cancelled"
    again = api.post(f"/api/email/{message_id}/cancel")
    assert again.status_code == 409 and "already cancelled" in again.json()["error"]
    assert scheduled_release(now=timezone.now() + timedelta(days=1)) == 0


def test_a_queued_message_no_worker_claimed_can_be_cancelled_a_sent_one_cannot(
    api: APIClient, post_email: Any, ses: Any, django_capture_on_commit_callbacks: Any
) -> None:
    # Queued and never dispatched (the commit's callbacks are not run).
    queued = api.post("/api/email", payload(), format="json").json()["data"]["messageId"]
    assert api.post(f"/api/email/{queued}/cancel").json()["data"]["status"] == "cancelled"
    sent = post_email(payload()).json()["data"]["messageId"]
    refused = api.post(f"/api/email/{sent}/cancel")
    assert refused.status_code == 409 and "sent" in refused.json()["error"]


def test_a_cancelled_queued_message_is_never_claimed(api: APIClient, ses: Any, settings: Any,
                                                     django_capture_on_commit_callbacks: Any) -> None:  # fmt: skip
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        queued = api.post("/api/email", payload(), format="json").json()["data"]["messageId"]
    api.post(f"/api/email/{queued}/cancel")
    for callback in callbacks:  # the worker's task arrives after the cancel
        callback()
    assert sent_count(settings) == 0
    assert Message.objects.get().status == MessageStatus.CANCELLED


def test_reschedule_moves_a_scheduled_message_and_refuses_others(post_email: Any, api: APIClient) -> None:
    message_id = post_email(payload(sendAt=later(hours=1))).json()["data"]["messageId"]
    new_time = later(days=2)
    response = api.patch(f"/api/email/{message_id}", {"sendAt": new_time}, format="json")
    assert response.status_code == 200
    assert abs((Message.objects.get().send_after - timezone.now()) - timedelta(days=2)) < timedelta(minutes=1)
    assert response.json()["data"]["sendAt"]
    past = api.patch(f"/api/email/{message_id}", {"sendAt": "2020-01-01T00:00:00Z"}, format="json")
    assert past.status_code == 400 and ("sendAt",) in details(past)
    assert api.patch(f"/api/email/{message_id}", {}, format="json").status_code == 400
    api.post(f"/api/email/{message_id}/cancel")
    refused = api.patch(f"/api/email/{message_id}", {"sendAt": later(hours=3)}, format="json")
    assert refused.status_code == 409


def test_another_users_message_cannot_be_cancelled_rescheduled_or_resent(post_email: Any, other_user: Any) -> None:
    message_id = post_email(payload(sendAt=later(hours=1))).json()["data"]["messageId"]
    other = APIClient()
    other.force_authenticate(other_user)
    assert other.post(f"/api/email/{message_id}/cancel").status_code == 404
    assert other.patch(f"/api/email/{message_id}", {"sendAt": later(hours=2)}, format="json").status_code == 404
    assert other.post(f"/api/email/{message_id}/resend", {"recipients": "all"}, format="json").status_code == 404
    assert Message.objects.get().status == MessageStatus.SCHEDULED


def test_resend_all_makes_a_linked_copy(post_email: Any, api: APIClient, ses: Any, settings: Any,
                                        django_capture_on_commit_callbacks: Any) -> None:  # fmt: skip
    original = post_email(payload(to=["a@example.com", "b@example.com"], cc="c@example.com")).json()["data"]
    with django_capture_on_commit_callbacks(execute=True):
        response = api.post(f"/api/email/{original['messageId']}/resend", {"recipients": "all"}, format="json")
    assert response.status_code == 201
    copy = Message.objects.get(pk=response.json()["data"]["messageId"])
    assert str(copy.resent_from_id) == original["messageId"]
    assert copy.subject == "Later" and copy.text_body.startswith("Hi")
    assert [(r.kind, r.address) for r in copy.recipients.order_by("position")] == [
        ("to", "a@example.com"), ("to", "b@example.com"), ("cc", "c@example.com")
    ]  # fmt: skip
    assert sent_count(settings) == 2
    detail = api.get(f"/api/email/{copy.pk}").json()["data"]
    assert detail["resentFrom"] == original["messageId"]


def test_retry_failed_covers_the_failed_and_the_transiently_bounced_only(post_email: Any, api: APIClient) -> None:
    original_id = post_email(
        payload(to=["ok@example.com", "failed@example.com", "soft@example.com", "hard@example.com"])
    ).json()["data"]["messageId"]
    message = Message.objects.get(pk=original_id)
    rows = {r.address: r for r in message.recipients.all()}
    Recipient.objects.filter(pk=rows["failed@example.com"].pk).update(status=RecipientStatus.FAILED)
    Recipient.objects.filter(pk=rows["hard@example.com"].pk).update(status=RecipientStatus.BOUNCED)
    Recipient.objects.filter(pk=rows["ok@example.com"].pk).update(status=RecipientStatus.DELIVERED)
    for address, kind in (("soft@example.com", "Transient"), ("hard@example.com", "Permanent")):
        Event.objects.create(message=message, recipient=rows[address], address=address, type=EventType.BOUNCE,
                             occurred_at=timezone.now(), details={"bounceType": kind})  # fmt: skip
    response = api.post(f"/api/email/{original_id}/resend", {"recipients": "failed"}, format="json")
    assert response.status_code == 201
    retry = Message.objects.get(pk=response.json()["data"]["messageId"])
    assert sorted(r.address for r in retry.recipients.all()) == ["failed@example.com", "soft@example.com"]
    assert retry.resent_from_id == message.pk


def test_retry_failed_with_nothing_failed_conflicts(post_email: Any, api: APIClient) -> None:
    original_id = post_email(payload()).json()["data"]["messageId"]
    response = api.post(f"/api/email/{original_id}/resend", {"recipients": "failed"}, format="json")
    assert response.status_code == 409
    bad = api.post(f"/api/email/{original_id}/resend", {"recipients": "some"}, format="json")
    assert bad.status_code == 400 and ("recipients",) in details(bad)
