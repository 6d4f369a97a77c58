"""POST /api/email: the seeds' payloads, their limits, idempotency, and what reaches SES."""

from __future__ import annotations

import email
import email.policy
from decimal import Decimal
from email.header import decode_header, make_header
from email.utils import parseaddr
from typing import Any

import pytest
from django.conf import settings

from emails.models import Event, IdempotencyKey, Message, Recipient

SEED_EXAMPLES = {
    "basic": {
        "to": "user@example.com",
        "subject": "Test Email",
        "htmlContent": "<p>Hello from Digi Era Pro CRM!</p>",
        "textContent": "Hello from Digi Era Pro CRM!",
        "category": "notification",
        "priority": "normal",
    },
    "cc_bcc": {
        "to": ["primary@example.com", "secondary@example.com"],
        "cc": ["manager@example.com"],
        "bcc": ["admin@example.com", "archive@example.com"],
        "subject": "Team Update",
        "htmlContent": "<h2>Important Update</h2><p>Please review the attached information.</p>",
        "category": "notification",
        "priority": "high",
        "replyTo": "noreply@company.com",
    },
    "welcome": {
        "to": "newuser@example.com",
        "subject": "Welcome to Digi Era Pro CRM",
        "htmlContent": "<div><h2>Welcome to Digi Era Pro CRM</h2><p>Hello John Doe,</p></div>",
        "textContent": "Hello John Doe,\n\nWelcome to Digi Era Pro CRM!",
        "category": "auth",
        "priority": "normal",
    },
    "password_reset": {
        "to": "user@example.com",
        "subject": "Password Reset - Digi Era Pro CRM",
        "htmlContent": '<p><a href="https://crm.example.com/auth/reset-password?token=abc">Reset Password</a></p>',
        "textContent": "Hello John Doe,\n\nYou requested a password reset.",
        "category": "auth",
        "priority": "high",
    },
    "notification_with_tags": {
        "to": ["team@example.com"],
        "bcc": ["audit@example.com"],
        "subject": "Project Status Update",
        "htmlContent": "<p>Project Apollo has been updated.</p>",
        "category": "notification",
        "priority": "normal",
        "clientId": "client-42",
        "tags": {"project": "apollo"},
        "customData": {"source": "crm"},
    },
    "template": {
        "to": "newuser@example.com",
        "templateId": "welcome",
        "templateData": {"name": "John Doe", "isClient": True},
        "subject": "Welcome!",
        "category": "client-portal",
    },
}


def _raw(sent: Any) -> email.message.EmailMessage:
    return email.message_from_bytes(
        sent.raw_data.encode() if isinstance(sent.raw_data, str) else sent.raw_data, policy=email.policy.default
    )


@pytest.mark.parametrize("name", sorted(SEED_EXAMPLES))
def test_it_accepts_the_seeds_example_payloads(name: str, post_email: Any, ses: Any) -> None:
    payload = SEED_EXAMPLES[name]
    response = post_email(payload)

    assert response.status_code == 201, response.content
    body = response.json()
    assert body["success"] is True
    assert body["data"]["messageId"] == body["data"]["emailLogId"]
    message = Message.objects.get(pk=body["data"]["messageId"])
    assert message.status == "sent"
    assert message.category == payload["category"]
    assert message.sent_count == message.recipient_count == Recipient.objects.filter(message=message).count()
    assert len(ses.sent_messages) == 1
    assert all(r.ses_message_id for r in message.recipients.all())
    assert Event.objects.filter(message=message, type="send").count() == message.recipient_count
    # Each send event is its recipient's, with the SES MessageId of its call.
    for r in message.recipients.all():
        (event,) = r.events.all()
        assert (event.type, event.address, event.ses_message_id) == ("send", r.address, r.ses_message_id)
        assert event.message_id == message.pk and event.details == {}
        assert event.occurred_at == r.sent_at == r.last_event_at


def test_the_response_names_our_id_before_ses_is_called(api: Any, ses: Any) -> None:
    # Without running the commit hooks nothing reaches SES, yet the id is known.
    response = api.post("/api/email", SEED_EXAMPLES["basic"], format="json")
    assert response.status_code == 201
    message = Message.objects.get(pk=response.json()["data"]["messageId"])
    assert message.status == "queued"
    assert ses.sent_messages == []


def test_it_keeps_to_cc_and_bcc_apart_and_hides_bcc(post_email: Any, ses: Any) -> None:
    post_email(SEED_EXAMPLES["cc_bcc"])
    message = Message.objects.get()
    kinds = {r.address: r.kind for r in message.recipients.all()}
    assert kinds == {
        "primary@example.com": "to",
        "secondary@example.com": "to",
        "manager@example.com": "cc",
        "admin@example.com": "bcc",
        "archive@example.com": "bcc",
    }
    raw = _raw(ses.sent_messages[0])
    assert "admin@example.com" not in str(ses.sent_messages[0].raw_data)
    assert raw["Reply-To"] == "noreply@company.com"
    assert set(ses.sent_messages[0].destinations) >= {"admin@example.com", "archive@example.com"}


def test_a_60_recipient_message_goes_out_in_calls_of_at_most_50(post_email: Any, ses: Any) -> None:
    to = [f"to{i}@example.com" for i in range(30)]
    cc = [f"cc{i}@example.com" for i in range(15)]
    bcc = [f"bcc{i}@example.com" for i in range(15)]
    response = post_email(
        {"to": to, "cc": cc, "bcc": bcc, "subject": "Big", "textContent": "Hi", "category": "notification"}
    )
    assert response.status_code == 201

    assert len(ses.sent_messages) == 2
    delivered: list[str] = []
    for sent in ses.sent_messages:
        # moto appends the header addresses to the call's Destinations.
        destinations = sorted({parseaddr(d)[1] for d in sent.destinations})
        assert len(destinations) <= 50
        delivered += destinations
        raw = _raw(sent)
        shown = " ".join(str(raw.get(h, "")) for h in ("To", "Cc", "Bcc"))
        assert "bcc" not in shown  # no Bcc address in any header
        assert raw["Bcc"] is None
        # Each call's headers show only its own group's To and Cc.
        header_addresses = {a for a in to + cc if a in shown}
        assert header_addresses == {a for a in destinations if a in to + cc}
    assert sorted(delivered) == sorted(to + cc + bcc)

    message = Message.objects.get()
    assert message.status == "sent" and message.sent_count == 60
    ses_ids = set(message.recipients.values_list("ses_message_id", flat=True))
    assert len(ses_ids) == 2 and "" not in ses_ids
    assert message.cost == Decimal("0.006")


def test_it_encodes_non_ascii_subjects_and_names(post_email: Any, ses: Any) -> None:
    response = post_email(
        {
            "to": ["Zoë Ångström <zoe@example.com>"],
            "subject": "Grüße aus Köln — 東京",
            "textContent": "Ünïcödé body",
            "category": "notification",
        }
    )
    assert response.status_code == 201
    raw_text = ses.sent_messages[0].raw_data
    raw_text = raw_text if isinstance(raw_text, str) else raw_text.decode()
    assert "Grüße" not in raw_text.split("\n\n", 1)[0]  # headers are RFC 2047 encoded
    parsed = _raw(ses.sent_messages[0])
    assert str(make_header(decode_header(parsed["Subject"]))) == "Grüße aus Köln — 東京"
    assert "Zoë Ångström" in str(make_header(decode_header(parsed["To"])))
    recipient = Recipient.objects.get()
    assert (recipient.address, recipient.display_name) == ("zoe@example.com", "Zoë Ångström")


def test_addresses_are_lowercased_and_duplicates_dropped(post_email: Any, ses: Any) -> None:
    post_email(
        {
            "to": ["Jane@Example.COM", "jane@example.com"],
            "cc": "JANE@example.com",
            "bcc": ["x@example.com"],
            "subject": "Dupes",
            "textContent": "x",
            "category": "notification",
        }
    )
    message = Message.objects.get()
    assert list(message.recipients.values_list("kind", "address")) == [
        ("to", "jane@example.com"),
        ("bcc", "x@example.com"),
    ]
    assert message.recipient_count == 2


def test_a_template_renders_with_its_variables_escaped(post_email: Any, ses: Any) -> None:
    response = post_email(
        {
            "to": "a@example.com",
            "templateId": "welcome",
            "templateData": {"name": "<script>alert(1)</script>"},
            "category": "auth",
        }
    )
    assert response.status_code == 201
    message = Message.objects.get()
    assert "<script>" not in message.html_body
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in message.html_body
    assert message.subject == f"Welcome to {settings.PRODUCT_NAME}"  # one product name, from one setting
    assert message.template is not None and message.template.slug == "welcome"
    assert "Hello <script>alert(1)</script>," in message.text_body  # plain text is not HTML


def test_html_only_gets_a_text_part_derived_and_css_inlined(post_email: Any, ses: Any) -> None:
    post_email(
        {
            "to": "a@example.com",
            "subject": "Styled",
            "category": "notification",
            "htmlContent": "<style>p { color: red }</style><p>Hello <b>world</b></p>",
        }
    )
    parsed = _raw(ses.sent_messages[0])
    assert parsed.get_content_type() == "multipart/alternative"
    text = parsed.get_body(preferencelist=("plain",)).get_content()
    html = parsed.get_body(preferencelist=("html",)).get_content()
    assert "Hello world" in text
    assert 'style="color: red;"' in html


def _details(response: Any) -> list[tuple[list[Any], str]]:
    body = response.json()
    assert body["success"] is False and body["error"] == "Invalid request data"
    return [(d["path"], d["message"]) for d in body["details"]]


BASE = {"to": "a@example.com", "subject": "Hi", "textContent": "x", "category": "notification"}
TOO_LONG = "x" * 50_001


@pytest.mark.parametrize(
    ("change", "path", "fragment"),
    [
        ({"to": [f"u{i}@example.com" for i in range(51)]}, ["to"], "At most 50"),
        ({"cc": [f"u{i}@example.com" for i in range(51)]}, ["cc"], "At most 50"),
        (
            {
                "to": [f"t{i}@example.com" for i in range(50)],
                "cc": [f"c{i}@example.com" for i in range(50)],
                "bcc": "b@example.com",
            },
            ["recipients"],
            "cannot exceed 100",
        ),
        ({"to": "not-an-address"}, ["to"], "valid email"),
        ({"to": ["ok@example.com", "bad@"]}, ["to", 1], "valid email"),
        ({"to": 42}, ["to"], "email address"),
        ({"to": "a@example.com\r\nBcc: victim@example.com"}, ["to"], "line breaks"),
        ({"cc": ["x@example.com\nBcc: y@example.com"]}, ["cc", 0], "line breaks"),
        ({"subject": ""}, ["subject"], "required"),
        ({"subject": "s" * 201}, ["subject"], "200"),
        ({"subject": "Hello\r\nBcc: victim@example.com"}, ["subject"], "single line"),
        ({"textContent": TOO_LONG}, ["textContent"], "50000"),
        ({"textContent": "", "htmlContent": TOO_LONG}, ["htmlContent"], "50000"),
        ({"textContent": ""}, ["content"], "htmlContent or textContent"),
        ({"category": "spam"}, ["category"], "not a valid choice"),
        ({"priority": "asap"}, ["priority"], "not a valid choice"),
        ({"replyTo": "nope"}, ["replyTo"], "valid email"),
        ({"replyTo": "a@example.com\nBcc: b@example.com"}, ["replyTo"], "valid email"),
        ({"templateId": "no-such-template"}, ["templateId"], "No template"),
        ({"tags": {"a": ["not", "a", "string"]}}, ["tags", "a"], "valid string"),
        (
            {"attachments": [{"filename": "a.txt", "content": "not base64!", "contentType": "text/plain"}]},
            ["attachments", 0, "content"],
            "base64",
        ),
    ],
)
def test_it_refuses_bad_input_with_a_field_message_and_stores_nothing(
    change: dict[str, Any], path: list[Any], fragment: str, post_email: Any, ses: Any
) -> None:
    payload = {**BASE, **change}
    if "to" in change and change["to"] == 42:
        payload["to"] = 42
    response = post_email(payload)

    assert response.status_code == 400, response.content
    details = _details(response)
    assert any(p == path and fragment.lower() in m.lower() for p, m in details), details
    assert Message.objects.count() == 0
    assert Recipient.objects.count() == 0
    assert ses.sent_messages == []


def test_a_missing_to_and_category_are_both_reported(post_email: Any) -> None:
    response = post_email({"subject": "Hi", "textContent": "x"})
    assert response.status_code == 400
    paths = [p for p, _ in _details(response)]
    assert ["to"] in paths and ["category"] in paths


def test_a_template_syntax_error_is_a_400_not_a_failed_send(post_email: Any, ses: Any) -> None:
    from emails.models import Template

    Template.objects.create(slug="broken", name="Broken", subject="x", html="{% if %}")
    response = post_email({"to": "a@example.com", "templateId": "broken", "category": "system"})
    assert response.status_code == 400
    assert _details(response)[0][0] == ["content"]
    assert Message.objects.count() == 0


def test_an_idempotency_key_replays_the_first_answer_and_sends_once(post_email: Any, ses: Any) -> None:
    first = post_email(SEED_EXAMPLES["basic"], **{"Idempotency-Key": "order-1234"})
    second = post_email(SEED_EXAMPLES["basic"], **{"Idempotency-Key": "order-1234"})

    assert first.status_code == 201
    assert second.status_code == 200
    assert second.json()["data"]["messageId"] == first.json()["data"]["messageId"]
    assert second.json()["data"]["idempotentReplay"] is True
    assert Message.objects.count() == 1
    assert len(ses.sent_messages) == 1


def test_an_idempotency_key_reused_with_another_body_is_refused(post_email: Any, ses: Any) -> None:
    post_email(SEED_EXAMPLES["basic"], **{"Idempotency-Key": "k1"})
    response = post_email({**SEED_EXAMPLES["basic"], "subject": "Other"}, **{"Idempotency-Key": "k1"})
    assert response.status_code == 409
    assert Message.objects.count() == 1


def test_idempotency_keys_belong_to_one_user(post_email: Any, other_user: Any, ses: Any) -> None:
    from rest_framework.test import APIClient

    other = APIClient()
    other.force_authenticate(other_user)
    post_email(SEED_EXAMPLES["basic"], **{"Idempotency-Key": "shared"})
    response = post_email(SEED_EXAMPLES["basic"], client=other, **{"Idempotency-Key": "shared"})
    assert response.status_code == 201
    assert Message.objects.count() == 2


def test_an_expired_idempotency_key_is_a_new_send(post_email: Any, ses: Any) -> None:
    from datetime import timedelta

    from django.utils import timezone

    post_email(SEED_EXAMPLES["basic"], **{"Idempotency-Key": "old"})
    IdempotencyKey.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    response = post_email(SEED_EXAMPLES["basic"], **{"Idempotency-Key": "old"})
    assert response.status_code == 201
    assert Message.objects.count() == 2
    assert len(ses.sent_messages) == 2


def test_sending_requires_authentication(client: Any, db: Any) -> None:
    response = client.post("/api/email", SEED_EXAMPLES["basic"], content_type="application/json")
    assert response.status_code in (401, 403)
    assert response.json()["success"] is False
    assert Message.objects.count() == 0


def test_token_authentication_works(db: Any, user: Any, django_capture_on_commit_callbacks: Any, ses: Any) -> None:
    from rest_framework.authtoken.models import Token
    from rest_framework.test import APIClient

    token = Token.objects.create(user=user)
    client = APIClient()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/api/email", SEED_EXAMPLES["basic"], format="json", headers={"Authorization": f"Token {token.key}"}
        )
    assert response.status_code == 201
    assert Message.objects.get().owner == user


def test_session_authenticated_posts_need_a_csrf_token(db: Any, user: Any) -> None:
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    response = client.post("/api/email", SEED_EXAMPLES["basic"], content_type="application/json")
    assert response.status_code == 403
    assert Message.objects.count() == 0
