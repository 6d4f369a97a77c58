"""The composer's new parts (From, send later, one send per key, signature and defaults, its JSON helpers), the
settings page, and the message page's and the log's cancel, reschedule and resend."""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.contrib.auth.models import Permission
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from emails.choices import MessageStatus, RecipientStatus
from emails.models import Message, Recipient, SenderSettings, Template
from emails.suppression import suppression_add

pytestmark = pytest.mark.django_db


def form(**overrides: str) -> dict[str, str]:
    return {"to": "client@example.com", "subject": "Hello", "textContent": "Hi", "category": "notification",
            **overrides}  # fmt: skip


def test_a_second_post_with_the_forms_key_sends_once(signed_in: Client, ses: Any,
                                                     django_capture_on_commit_callbacks: Any) -> None:  # fmt: skip
    page = signed_in.get("/").content.decode()
    key = page.split('name="idempotencyKey" value="', 1)[1].split('"', 1)[0]
    assert len(key) == 36
    with django_capture_on_commit_callbacks(execute=True):
        first = signed_in.post("/", form(idempotencyKey=key))
        second = signed_in.post("/", form(idempotencyKey=key))
    assert first.status_code == second.status_code == 302
    assert first["Location"] == second["Location"]
    assert Message.objects.count() == 1 and len(ses.sent_messages) == 1


def test_send_later_in_the_browsers_zone_is_scheduled(signed_in: Client) -> None:
    local = (timezone.now() + timedelta(days=1)).astimezone(timezone.get_default_timezone())
    response = signed_in.post("/", form(sendAt=local.strftime("%Y-%m-%dT%H:%M"), tz="Pacific/Auckland"))
    assert response.status_code == 302
    message = Message.objects.get()
    assert message.status == MessageStatus.SCHEDULED
    # The local time was read in Auckland's zone, not the server's.
    expected = local.replace(tzinfo=ZoneInfo("Pacific/Auckland"), second=0, microsecond=0)
    assert message.send_after == expected
    page = signed_in.get(response["Location"]).content.decode()
    assert "Email scheduled for 1 recipient" in page and "Scheduled for" in page


def test_a_past_send_later_is_a_field_error_with_every_other_error(signed_in: Client) -> None:
    page = signed_in.post("/", form(sendAt="2020-01-01T09:00", to="nope", category="")).content.decode()
    assert 'id="id_sendAt_errors"' in page and "This time has passed" in page
    assert 'id="id_to_errors"' in page and 'id="id_category_errors"' in page
    assert 'aria-describedby="id_sendAt_errors id_sendAt_helptext"' in page
    assert 'id="id_sendAt_helptext"' in page
    assert not Message.objects.exists()


def test_an_unverified_from_is_refused_on_its_field(signed_in: Client, ses: Any) -> None:
    page = signed_in.post("/", form(**{"from": "boss@elsewhere.example"})).content.decode()
    assert 'id="id_from_errors"' in page and "is not a verified sender" in page
    assert not Message.objects.exists()


def test_a_verified_from_is_the_messages_from_header(signed_in: Client, ses: Any, settings: Any,
                                                     django_capture_on_commit_callbacks: Any) -> None:  # fmt: skip
    ses.verify_email_identity("sales@partner.example")
    with django_capture_on_commit_callbacks(execute=True):
        response = signed_in.post("/", form(**{"from": "Sales Team <sales@partner.example>"}))
    assert response.status_code == 302
    raw = ses.sent_messages[-1].raw_data
    assert "From: Sales Team <sales@partner.example>" in (raw if isinstance(raw, str) else raw.decode())


def test_settings_are_saved_checked_and_used_by_the_composer(
    signed_in: Client, ses: Any, django_capture_on_commit_callbacks: Any
) -> None:
    bad = signed_in.post("/settings", {"replyTo": "nope", "category": "spam", "signature": "x"}).content.decode()
    assert 'id="id_replyTo_errors"' in bad and 'id="id_category_errors"' in bad
    assert not SenderSettings.objects.exists()
    saved = signed_in.post("/settings", {"replyTo": "Me@Example.com", "signature": "Sam\nAccounts <team>",
                                         "category": "client-portal", "priority": "high"})  # fmt: skip
    assert saved.status_code == 302
    page = signed_in.get("/").content.decode()
    assert 'value="me@example.com"' in page
    assert '<option value="client-portal" selected>' in page and '<option value="high" selected>' in page
    with django_capture_on_commit_callbacks(execute=True):
        signed_in.post("/", form(htmlContent="<p>Hi</p>", textContent="Hi"))
    message = Message.objects.get()
    assert message.text_body.endswith("-- \nSam\nAccounts <team>")
    assert "Accounts &lt;team&gt;" in message.html_body  # escaped in HTML


def test_the_recipient_check_says_who_is_suppressed_and_why(signed_in: Client) -> None:
    suppression_add(address="gone@example.com", reason="bounce")
    suppression_add(address="tired@example.com", scope="marketing", reason="unsubscribe")
    url = reverse("emails:compose-recipients")
    data = signed_in.get(url, {"address": ["Gone@Example.com", "tired@example.com", "fine@example.com"],
                               "category": "notification"}).json()  # fmt: skip
    assert set(data["suppressed"]) == {"gone@example.com"}
    assert "permanent bounce" in data["suppressed"]["gone@example.com"]["reason"].lower()
    marketing = signed_in.get(url, {"address": ["tired@example.com"], "category": "marketing"}).json()
    assert "unsubscribed" in marketing["suppressed"]["tired@example.com"]["reason"].lower()
    assert Client().get(url, {"address": "gone@example.com"}).status_code == 302  # signed in only


def test_the_template_helper_needs_view_permission_and_renders_escaped(signed_in: Client, user: Any) -> None:
    welcome = Template.objects.get(slug="welcome")
    url = reverse("emails:compose-template")
    assert signed_in.post(url, {"templateId": str(welcome.pk)}).status_code == 403
    user.user_permissions.add(Permission.objects.get(codename="view_template"))
    data = signed_in.post(url, {"templateId": str(welcome.pk), "templateData": '{"name": "<b>Jo</b>"}'}).json()
    assert "&lt;b&gt;Jo&lt;/b&gt;" in data["html"] and "<b>Jo" not in data["html"]
    assert data["missing"] == []
    assert {"name": "name", "required": True} in data["variables"]
    assert signed_in.post(url, {"templateId": str(welcome.pk)}).json()["missing"] == ["name"]
    assert signed_in.post(url, {"templateId": str(welcome.pk), "templateData": "[1]"}).status_code == 400


def scheduled(signed_in: Client) -> Message:
    later = (timezone.now() + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M")
    signed_in.post("/", form(sendAt=later, tz="UTC"))
    return Message.objects.get(status=MessageStatus.SCHEDULED)


def test_the_logs_scheduled_view_cancels_and_reschedules(signed_in: Client) -> None:
    message = scheduled(signed_in)
    log = signed_in.get("/emails?status=scheduled").content.decode()
    assert reverse("emails:cancel", args=[message.pk]) in log
    assert reverse("emails:reschedule", args=[message.pk]) in log

    new_time = (timezone.now() + timedelta(days=3)).strftime("%Y-%m-%dT%H:%M")
    moved = signed_in.post(reverse("emails:reschedule", args=[message.pk]),
                           {"sendAt": new_time, "tz": "UTC", "next": "/emails?status=scheduled"})  # fmt: skip
    assert moved["Location"] == "/emails?status=scheduled"
    message.refresh_from_db()
    assert message.send_after.strftime("%Y-%m-%dT%H:%M") == new_time

    past = signed_in.post(reverse("emails:reschedule", args=[message.pk]), {"sendAt": "2020-01-01T00:00", "tz": "UTC"},
                          follow=True).content.decode()  # fmt: skip
    assert "Not rescheduled: This time has passed" in past

    cancelled = signed_in.post(reverse("emails:cancel", args=[message.pk]), {"next": "https://evil.example/"})
    assert cancelled["Location"] == reverse("emails:detail", args=[message.pk])  # never off-site
    assert Message.objects.get().status == MessageStatus.CANCELLED
    again = signed_in.post(reverse("emails:cancel", args=[message.pk]), follow=True).content.decode()
    assert "already cancelled" in again


def test_the_message_page_resends_and_retries_the_failed(signed_in: Client, ses: Any,
                                                         django_capture_on_commit_callbacks: Any) -> None:  # fmt: skip
    with django_capture_on_commit_callbacks(execute=True):
        signed_in.post("/", form(to="a@example.com, b@example.com"))
    original = Message.objects.get()
    Recipient.objects.filter(message=original, address="b@example.com").update(status=RecipientStatus.FAILED)
    page = signed_in.get(reverse("emails:detail", args=[original.pk])).content.decode()
    assert "Retry 1 failed recipient" in page and ">Resend<" in page

    with django_capture_on_commit_callbacks(execute=True):
        retried = signed_in.post(reverse("emails:resend", args=[original.pk]), {"recipients": "failed"})
    retry = Message.objects.get(resent_from=original)
    assert retried["Location"] == reverse("emails:detail", args=[retry.pk])
    assert [r.address for r in retry.recipients.all()] == ["b@example.com"]
    shown = signed_in.get(retried["Location"]).content.decode()
    assert "The failed recipients were sent again" in shown and 'id="resent-from"' in shown
    assert 'id="resends"' in signed_in.get(reverse("emails:detail", args=[original.pk])).content.decode()


def test_page_actions_need_the_csrf_token_and_the_owner(user: Any, other_user: Any) -> None:
    later = timezone.now() + timedelta(hours=1)
    message = Message.objects.create(owner=user, subject="S", text_body="t", category="notification",
                                     status=MessageStatus.SCHEDULED, send_after=later)  # fmt: skip
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(user)
    assert strict.post(reverse("emails:cancel", args=[message.pk])).status_code == 403
    other = Client()
    other.force_login(other_user)
    for name in ("cancel", "reschedule", "resend"):
        assert other.post(reverse(f"emails:{name}", args=[message.pk])).status_code == 404
    assert Message.objects.get().status == MessageStatus.SCHEDULED
