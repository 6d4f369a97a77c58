"""Who may change a message, and the races and edges around changing one (found in review of issue 11's work)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.contrib.auth.models import Permission
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from emails.choices import MessageStatus, RecipientStatus
from emails.delivery.retry import scheduled_due, scheduled_release_one
from emails.models import Message, Recipient, Suppression, Template
from emails.suppression import preferences_url, suppression_add, unsubscribe_url
from emails.templating import TemplateDraft, email_render, template_save
from emails.templating.bounded import MAX_WIDTH
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def later(**delta: float) -> str:
    return (timezone.now() + timedelta(**delta)).isoformat()


def payload(**overrides: Any) -> dict[str, Any]:
    return {"to": "a@example.com", "subject": "S", "textContent": "T", "category": "notification", **overrides}


def client_of(user: Any) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def test_seeing_everyones_mail_is_not_changing_it(api: APIClient, staff_user: Any) -> None:
    message_id = api.post("/api/email", payload(sendAt=later(hours=1)), format="json").json()["data"]["messageId"]
    auditor = client_of(staff_user)  # view_all_messages only
    assert auditor.get(f"/api/email/{message_id}").status_code == 200
    assert auditor.post(f"/api/email/{message_id}/cancel").status_code == 403
    assert auditor.patch(f"/api/email/{message_id}", {"sendAt": later(hours=2)}, format="json").status_code == 403
    assert auditor.post(f"/api/email/{message_id}/resend", {"recipients": "all"}, format="json").status_code == 403
    page = Client()
    page.force_login(staff_user)
    assert page.post(reverse("emails:cancel", args=[message_id])).status_code == 403
    assert b"Cancel send" not in page.get(reverse("emails:detail", args=[message_id])).content
    assert Message.objects.get().status == MessageStatus.SCHEDULED

    staff_user.user_permissions.add(Permission.objects.get(codename="change_all_messages"))
    fresh = type(staff_user).objects.get(pk=staff_user.pk)  # permissions are cached on the user object
    assert client_of(fresh).post(f"/api/email/{message_id}/cancel").status_code == 200


def test_a_queued_message_some_recipients_already_got_is_not_cancelled(api: APIClient) -> None:
    message_id = api.post("/api/email", payload(to=["a@example.com", "b@example.com"]), format="json").json()["data"][
        "messageId"
    ]
    # SES throttled it half-way: one recipient sent, the message back in the queue for its retry.
    Recipient.objects.filter(message_id=message_id, address="a@example.com").update(status=RecipientStatus.SENT)
    response = api.post(f"/api/email/{message_id}/cancel")
    assert response.status_code == 409 and "already got this message" in response.json()["error"]
    assert Message.objects.get().status == MessageStatus.QUEUED


def test_two_sweepers_that_listed_the_same_due_message_release_it_once(api: APIClient) -> None:
    api.post("/api/email", payload(sendAt=later(hours=1)), format="json")
    Message.objects.update(send_after=timezone.now() - timedelta(seconds=1))
    now = timezone.now()
    first, second = scheduled_due(now=now), scheduled_due(now=now)  # both listed it before either moved it
    assert first == second and len(first) == 1
    ((message_id, priority),) = first
    assert scheduled_release_one(message_id=message_id, priority=priority, now=now) is True
    assert scheduled_release_one(message_id=message_id, priority=priority, now=now) is False


def test_a_message_rescheduled_after_the_sweeper_listed_it_is_not_released(api: APIClient) -> None:
    message_id = api.post("/api/email", payload(sendAt=later(hours=1)), format="json").json()["data"]["messageId"]
    Message.objects.update(send_after=timezone.now() - timedelta(seconds=1))
    now = timezone.now()
    ((listed, priority),) = scheduled_due(now=now)
    assert api.patch(f"/api/email/{message_id}", {"sendAt": later(days=1)}, format="json").status_code == 200
    assert scheduled_release_one(message_id=listed, priority=priority, now=now) is False
    assert Message.objects.get().status == MessageStatus.SCHEDULED


def test_a_message_not_sent_yet_is_not_resent(api: APIClient) -> None:
    message_id = api.post("/api/email", payload(sendAt=later(hours=1)), format="json").json()["data"]["messageId"]
    response = api.post(f"/api/email/{message_id}/resend", {"recipients": "all"}, format="json")
    assert response.status_code == 409 and "has not gone out yet" in response.json()["error"]
    assert Message.objects.count() == 1


def test_the_composer_answers_a_reused_key_with_a_new_form_not_a_server_error(signed_in: Client) -> None:
    key = "5b0f6f0e-1111-4222-8333-444455556666"
    form = {"to": "a@example.com", "subject": "First", "textContent": "T", "category": "notification",
            "idempotencyKey": key}  # fmt: skip
    assert signed_in.post("/", form).status_code == 302
    page = signed_in.post("/", {**form, "subject": "Second, after Back"})
    assert page.status_code == 200
    body = page.content.decode()
    assert "This form already sent an email" in body
    assert key not in body  # a new key: the next click is a new email
    assert Message.objects.count() == 1


def test_a_preference_link_is_no_one_click_unsubscribe_and_the_other_way_round(client: Client) -> None:
    preferences = "/" + preferences_url(address="r@example.com").split("://", 1)[1].split("/", 1)[1]
    one_click = "/" + unsubscribe_url(address="r@example.com", category="marketing").split("://", 1)[1].split("/", 1)[1]
    preference_token = preferences.rsplit("/", 1)[1]
    one_click_token = one_click.rsplit("/", 1)[1]
    assert client.post(f"/unsubscribe/{preference_token}", {"List-Unsubscribe": "One-Click"}).status_code == 400
    assert client.get(f"/preferences/{one_click_token}").status_code == 400
    assert not Suppression.objects.exists()
    with pytest.raises(ValueError, match="scope"):
        suppression_add(address="r@example.com", scope="", reason="unsubscribe")


def test_a_save_from_an_older_version_is_refused_and_a_patch_keeps_the_others_edit(api: APIClient) -> None:
    editor = UserFactory()
    stale = Template.objects.get(slug="notification")  # read by one editor ...
    template_save(
        draft=TemplateDraft(subject="New {{ title }}"), by=editor, template=stale, partial=True
    )  # ... saved by another
    kept = template_save(draft=TemplateDraft(text="{{ title }}!"), by=editor, template=stale, partial=True)
    assert (kept.subject, kept.text, kept.version) == ("New {{ title }}", "{{ title }}!", 3)
    member = UserFactory()
    member.user_permissions.add(*Permission.objects.filter(codename__in=["view_template", "change_template"]))
    staff = client_of(member)
    refused = staff.patch("/api/email/templates/notification", {"name": "N", "version": 2}, format="json")
    assert refused.status_code == 409 and "since you opened version 2" in refused.json()["error"]
    assert (
        staff.patch("/api/email/templates/notification", {"name": "N", "version": 3}, format="json").status_code == 200
    )


def test_padding_filters_cannot_blow_up_a_render() -> None:
    rendered = email_render(
        subject="x", html="", text='[{{ a|ljust:"2000000000" }}][{{ a|stringformat:"900000000s" }}][{{ a|rjust:3 }}]',
        data={"a": "hi"},
    )  # fmt: skip
    assert rendered.text == "[" + "hi".ljust(MAX_WIDTH) + "][][ hi]"


def test_the_recipient_check_gives_the_suppression_id_only_to_who_may_lift_it(signed_in: Client, client: Any) -> None:
    suppression_add(address="gone@example.com", reason="bounce")
    url = reverse("emails:compose-recipients")
    plain = signed_in.get(url, {"address": "gone@example.com"}).json()["suppressed"]["gone@example.com"]
    assert "id" not in plain and plain["reason"]
    lifter = UserFactory(is_staff=True)
    lifter.user_permissions.add(Permission.objects.get(codename="change_suppression"))
    staff = Client()
    staff.force_login(lifter)
    assert "id" in staff.get(url, {"address": "gone@example.com"}).json()["suppressed"]["gone@example.com"]
