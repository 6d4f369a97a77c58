"""The preference centre: the signed page marketing mail links to, its choices as suppressions, resubscribing."""

from __future__ import annotations

import email
import email.policy
import re
from typing import Any

import pytest
from django.test import Client

from emails.models import Message, Suppression
from emails.suppression import preferences_url, suppression_add

pytestmark = pytest.mark.django_db


def send(post_email: Any, to: str, category: str) -> Message:
    response = post_email({"to": to, "subject": "Hi", "htmlContent": "<html><body><p>Hi</p></body></html>",
                           "textContent": "Hi", "category": category})  # fmt: skip
    assert response.status_code == 201, response.json()
    return Message.objects.get(pk=response.json()["data"]["messageId"])


def status(message: Message) -> str:
    return message.recipients.get().status


def last_raw(ses: Any) -> email.message.EmailMessage:
    raw = ses.sent_messages[-1].raw_data
    return email.message_from_string(raw if isinstance(raw, str) else raw.decode(), policy=email.policy.default)


def path_of(url: str) -> str:
    return "/" + url.split("://", 1)[1].split("/", 1)[1]


def test_marketing_mail_links_to_the_preference_centre_in_its_body(post_email: Any, ses: Any, monkeypatch: Any) -> None:
    from django.core import signing

    # The token is signed with the time in seconds: one second, so the link made below is the mail's.
    monkeypatch.setattr(signing.TimestampSigner, "timestamp", lambda self: signing.b62_encode(1_800_000_000))
    send(post_email, "reader@example.com", "marketing")
    parsed = last_raw(ses)
    html = parsed.get_body(("html",)).get_content()
    text = parsed.get_body(("plain",)).get_content()
    link = preferences_url(address="reader@example.com")
    assert f'href="{link}"' in html and html.index(link) < html.index("</body>")
    assert link in text
    send(post_email, "reader@example.com", "notification")
    assert "/preferences/" not in ses.sent_messages[-1].raw_data  # only marketing mail carries the footer


def test_choices_become_category_suppressions_the_next_send_honours(post_email: Any, ses: Any) -> None:
    url = path_of(preferences_url(address="Reader@Example.com"))
    person = Client(enforce_csrf_checks=True)
    page = person.get(url)
    assert page.status_code == 200 and b"reader@example.com" in page.content
    token = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', page.content).group(1).decode()
    assert b'value="marketing"' in page.content and b'value="auth"' not in page.content  # auth is always sent

    saved = person.post(url, {"csrfmiddlewaretoken": token, "receive": ["notification"], "action": "save"})
    assert saved.status_code == 302
    assert sorted((s.scope, s.reason) for s in Suppression.objects.filter(lifted_at__isnull=True)) == [
        ("client-portal", "unsubscribe"),
        ("marketing", "unsubscribe"),
    ]
    assert status(send(post_email, "reader@example.com", "marketing")) == "suppressed"
    assert status(send(post_email, "reader@example.com", "client-portal")) == "suppressed"
    assert status(send(post_email, "reader@example.com", "notification")) == "sent"
    assert status(send(post_email, "reader@example.com", "auth")) == "sent"

    # Resubscribe to marketing.
    person.post(url, {"csrfmiddlewaretoken": token, "receive": ["notification", "marketing"], "action": "save"})
    assert status(send(post_email, "reader@example.com", "marketing")) == "sent"
    assert status(send(post_email, "reader@example.com", "client-portal")) == "suppressed"
    lifted = Suppression.objects.get(scope="marketing")
    assert lifted.lifted_at is not None  # kept, for the history

    person.post(url, {"csrfmiddlewaretoken": token, "receive": ["marketing"], "action": "none"})
    assert Suppression.objects.filter(lifted_at__isnull=True).count() == 3


def test_the_preference_form_needs_its_csrf_token(ses: Any) -> None:
    url = path_of(preferences_url(address="reader@example.com"))
    response = Client(enforce_csrf_checks=True).post(url, {"receive": []})
    assert response.status_code == 403
    assert not Suppression.objects.exists()


def test_a_resubscribe_does_not_lift_what_staff_or_a_bounce_put_there(ses: Any) -> None:
    suppression_add(address="reader@example.com", scope="marketing", reason="manual", detail="Asked by phone")
    suppression_add(address="reader@example.com", reason="bounce")
    url = path_of(preferences_url(address="reader@example.com"))
    client = Client()
    page = client.get(url)
    assert b"We do not send any email to this address" in page.content
    client.post(url, {"receive": ["marketing", "notification", "client-portal"], "action": "save"})
    assert Suppression.objects.filter(lifted_at__isnull=True).count() == 2


def test_a_forged_preference_link_is_refused() -> None:
    url = path_of(preferences_url(address="reader@example.com"))
    assert Client().get(url[:-3] + "abc").status_code == 400
    assert Client().post(url[:-3] + "abc", {"receive": []}).status_code == 400
    assert not Suppression.objects.exists()


def test_the_unsubscribe_link_opens_the_preference_centre_and_one_click_still_unsubscribes(
    post_email: Any, ses: Any
) -> None:
    send(post_email, "reader@example.com", "marketing")
    link = str(last_raw(ses)["List-Unsubscribe"]).strip()[1:-1]
    page = Client().get(path_of(link))
    assert page.status_code == 200 and b"Your email preferences" in page.content
    assert b'action="/preferences/' in page.content
    assert not Suppression.objects.exists()
    Client(enforce_csrf_checks=True).post(path_of(link), {"List-Unsubscribe": "One-Click"})
    assert Suppression.objects.get().scope == "marketing"
