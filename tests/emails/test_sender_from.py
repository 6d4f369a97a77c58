"""A send's `from`: refused unless a verified identity covers it, and then the MIME's From header."""

from __future__ import annotations

import email
import email.policy
from typing import Any

import pytest

from emails.models import Message

pytestmark = pytest.mark.django_db


def payload(**overrides: Any) -> dict[str, Any]:
    return {"to": "a@example.com", "subject": "Hi", "textContent": "Hello", "category": "notification", **overrides}


def from_header(ses: Any) -> str:
    raw = ses.sent_messages[-1].raw_data
    parsed = email.message_from_string(raw if isinstance(raw, str) else raw.decode(), policy=email.policy.default)
    return str(parsed["From"])


def test_an_unverified_from_is_refused_and_nothing_is_stored(post_email: Any, ses: Any) -> None:
    response = post_email(payload(**{"from": "boss@elsewhere.example"}))
    assert response.status_code == 400
    details = {tuple(d["path"]): d["message"] for d in response.json()["details"]}
    assert "boss@elsewhere.example is not a verified sender" in details[("from",)]
    assert not Message.objects.exists()


def test_an_address_at_a_verified_domain_is_the_from_header(post_email: Any, ses: Any, settings: Any) -> None:
    domain = settings.DEFAULT_FROM_EMAIL.rpartition("@")[2].rstrip(">")
    response = post_email(payload(**{"from": f"Billing Team <billing@{domain}>"}))
    assert response.status_code == 201, response.json()
    assert from_header(ses) == f"Billing Team <billing@{domain}>"
    assert Message.objects.get().from_email == f"Billing Team <billing@{domain}>"
    assert response.json()["data"]["messageId"]


def test_a_verified_address_is_accepted_and_the_default_needs_no_from(post_email: Any, ses: Any, settings: Any) -> None:
    ses.verify_email_identity("sales@partner.example")
    assert post_email(payload(**{"from": "sales@partner.example"})).status_code == 201
    assert from_header(ses) == "sales@partner.example"
    assert post_email(payload()).status_code == 201
    assert from_header(ses) == settings.DEFAULT_FROM_EMAIL


def test_a_from_smuggling_a_header_is_refused(post_email: Any, ses: Any, settings: Any) -> None:
    domain = settings.DEFAULT_FROM_EMAIL.rpartition("@")[2].rstrip(">")
    for value in (f"a@{domain}\r\nBcc: victim@example.com", f"a@{domain}, b@{domain}"):
        response = post_email(payload(**{"from": value}))
        assert response.status_code == 400, value
        assert [d["path"] for d in response.json()["details"]] == [["from"]]
    assert not Message.objects.exists()
