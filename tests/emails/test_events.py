"""SES events through the signed webhook: per-recipient outcomes, precedence, suppression, the guard."""

from __future__ import annotations

import email
import email.policy
from typing import Any

import pytest
from django.test import Client

from emails.models import Event, InboundNotification, Message, Recipient, ReputationHold, Suppression
from emails.suppression import reputation_resume
from emails.tracking import notification_process
from tests.emails.ses_examples import ses_event

PAYLOAD = {"subject": "Hello", "textContent": "Hi there", "category": "notification"}


def _send(post_email: Any, to: list[str] | str, **change: Any) -> Message:
    response = post_email({**PAYLOAD, "to": to, **change})
    assert response.status_code == 201, response.content
    return Message.objects.get(pk=response.json()["data"]["messageId"])


def _ses_id(message: Message) -> str:
    ids = set(message.recipients.values_list("ses_message_id", flat=True))
    assert len(ids) == 1 and "" not in ids
    return ids.pop()


def _status(message: Message, address: str) -> str:
    return Recipient.objects.get(message=message, address=address).status


# Each example from AWS's documentation: the status it leaves the recipient in.
EXPECTED = [
    ("Send", {}, "sent"),
    ("Delivery", {}, "delivered"),
    ("Bounce", {}, "bounced"),
    ("Bounce", {"bounceType": "Transient", "bounceSubType": "MailboxFull"}, "sent"),
    ("Bounce", {"bounceType": "Undetermined", "bounceSubType": "Undetermined"}, "sent"),
    ("Complaint", {}, "complaint"),
    ("Reject", {}, "rejected"),
    ("Open", {}, "opened"),
    ("Click", {}, "clicked"),
    ("Rendering Failure", {}, "failed"),
    ("DeliveryDelay", {}, "delivery_delay"),
    ("Subscription", {}, "sent"),
]


@pytest.mark.parametrize("version", ["1", "2"])
@pytest.mark.parametrize(("kind", "changes", "status"), EXPECTED)
def test_every_documented_event_type_moves_its_recipient(
    kind: str, changes: dict[str, Any], status: str, version: str, post_email: Any, ses: Any, post_sns: Any
) -> None:
    message = _send(post_email, "rcpt@example.com")
    event = ses_event(kind, ses_message_id=_ses_id(message), recipients=["rcpt@example.com"], **changes)

    response = post_sns(event, version=version)

    assert response.status_code == 200
    assert _status(message, "rcpt@example.com") == status
    stored = Event.objects.filter(message=message).exclude(inbound=None).get()
    assert stored.recipient is not None and stored.recipient.address == "rcpt@example.com"
    assert stored.type == {"Rendering Failure": "rendering_failure", "DeliveryDelay": "delivery_delay"}.get(
        kind, kind.lower()
    )
    assert InboundNotification.objects.get().processed_at is not None


@pytest.mark.parametrize("kind", ["Bounce", "Complaint", "Delivery"])
def test_the_older_notification_format_is_understood(kind: str, post_email: Any, ses: Any, post_sns: Any) -> None:
    message = _send(post_email, "rcpt@example.com")
    post_sns(ses_event(kind, ses_message_id=_ses_id(message), recipients=["rcpt@example.com"], notification=True))
    assert _status(message, "rcpt@example.com") == {"Bounce": "bounced", "Complaint": "complaint"}.get(
        kind, "delivered"
    )


def test_event_details_are_kept(post_email: Any, ses: Any, post_sns: Any) -> None:
    message = _send(post_email, "rcpt@example.com")
    ses_id = _ses_id(message)
    post_sns(ses_event("Bounce", ses_message_id=ses_id, recipients=["rcpt@example.com"]))
    post_sns(ses_event("Click", ses_message_id=ses_id, recipients=["rcpt@example.com"]))

    bounce = Event.objects.get(type="bounce")
    assert bounce.details["bounceType"] == "Permanent"
    assert bounce.details["bounceSubType"] == "General"
    assert bounce.details["diagnosticCode"] == "smtp; 550 5.1.1 user unknown"
    assert bounce.occurred_at.isoformat().startswith("2017-08-05T00:41:02")
    recipient = Recipient.objects.get(address="rcpt@example.com")
    assert recipient.reason == "smtp; 550 5.1.1 user unknown"
    click = Event.objects.get(type="click")
    assert click.details["link"] == "http://docs.aws.amazon.com/ses/latest/DeveloperGuide/send-email-smtp.html"


def test_a_mixed_outcome_is_kept_per_recipient(post_email: Any, ses: Any, post_sns: Any) -> None:
    to = ["a@example.com", "b@example.com", "c@example.com"]
    message = _send(post_email, to)
    ses_id = _ses_id(message)

    post_sns(ses_event("Delivery", ses_message_id=ses_id, recipients=to[:2]))
    post_sns(ses_event("Bounce", ses_message_id=ses_id, recipients=to[2:]))

    message.refresh_from_db()
    assert [_status(message, a) for a in to] == ["delivered", "delivered", "bounced"]
    assert (message.sent_count, message.delivered_count, message.bounced_count) == (3, 2, 1)
    assert message.status == "bounced"  # problems first, with the counts beside it


def test_all_delivered_makes_the_message_delivered(post_email: Any, ses: Any, post_sns: Any) -> None:
    to = ["a@example.com", "b@example.com"]
    message = _send(post_email, to)
    post_sns(ses_event("Delivery", ses_message_id=_ses_id(message), recipients=to))
    message.refresh_from_db()
    assert message.status == "delivered" and message.delivered_count == 2


def test_events_out_of_order_never_move_a_recipient_back(post_email: Any, ses: Any, post_sns: Any) -> None:
    message = _send(post_email, ["a@example.com", "b@example.com"])
    ses_id = _ses_id(message)

    post_sns(ses_event("Complaint", ses_message_id=ses_id, recipients=["a@example.com"]))
    post_sns(ses_event("Delivery", ses_message_id=ses_id, recipients=["a@example.com"]))
    post_sns(ses_event("Click", ses_message_id=ses_id, recipients=["b@example.com"]))
    post_sns(ses_event("Open", ses_message_id=ses_id, recipients=["b@example.com"]))
    post_sns(ses_event("Delivery", ses_message_id=ses_id, recipients=["b@example.com"]))

    assert _status(message, "a@example.com") == "complaint"
    assert _status(message, "b@example.com") == "clicked"
    # Every event is still recorded, in the order SES says they happened.
    assert Event.objects.filter(message=message).exclude(inbound=None).count() == 5
    message.refresh_from_db()
    assert message.status == "complaint"
    assert (message.complaint_count, message.clicked_count, message.opened_count) == (1, 1, 1)


def test_a_complaint_wins_over_a_bounce(post_email: Any, ses: Any, post_sns: Any) -> None:
    message = _send(post_email, "a@example.com")
    ses_id = _ses_id(message)
    post_sns(ses_event("Complaint", ses_message_id=ses_id, recipients=["a@example.com"]))
    post_sns(ses_event("Bounce", ses_message_id=ses_id, recipients=["a@example.com"]))
    assert _status(message, "a@example.com") == "complaint"
    post_sns(ses_event("Bounce", ses_message_id=ses_id, recipients=["a@example.com"]))
    assert _status(message, "a@example.com") == "complaint"


def test_an_event_for_an_unknown_message_is_stored_unmatched(post_sns: Any, db: Any) -> None:
    response = post_sns(ses_event("Delivery", ses_message_id="not-ours", recipients=["x@example.com"]))

    assert response.status_code == 200
    event = Event.objects.get()
    assert event.message is None and event.recipient is None
    assert event.address == "x@example.com" and event.ses_message_id == "not-ours"


def test_a_replayed_notification_applies_nothing_twice(post_email: Any, ses: Any, post_sns: Any) -> None:
    message = _send(post_email, "a@example.com")
    event = ses_event("Delivery", ses_message_id=_ses_id(message), recipients=["a@example.com"])

    first = post_sns(event, message_id="sns-0001")
    again = post_sns(event, message_id="sns-0001")

    assert first.status_code == again.status_code == 200
    assert InboundNotification.objects.count() == 1
    assert Event.objects.filter(type="delivery").count() == 1


def test_reprocessing_a_stored_notification_appends_nothing(post_email: Any, ses: Any, post_sns: Any) -> None:
    message = _send(post_email, ["a@example.com", "b@example.com"])
    post_sns(ses_event("Bounce", ses_message_id=_ses_id(message), recipients=["a@example.com", "b@example.com"]))
    notification = InboundNotification.objects.get()

    notification_process(notification_id=notification.pk)
    notification_process(notification_id=notification.pk)

    assert Event.objects.filter(type="bounce").count() == 2
    assert Suppression.objects.count() == 2
    message.refresh_from_db()
    assert message.bounced_count == 2


def test_an_event_that_outruns_its_message_id_is_matched_by_our_tag(post_email: Any, ses: Any, post_sns: Any) -> None:
    message = _send(post_email, "a@example.com")
    Recipient.objects.update(ses_message_id="")  # as if the worker had not written it yet
    event = ses_event("Delivery", ses_message_id="ses-late", recipients=["a@example.com"])
    event["mail"]["tags"]["crm_message_id"] = [str(message.pk)]

    post_sns(event)

    assert _status(message, "a@example.com") == "delivered"


def test_a_test_message_that_is_not_an_ses_event_is_kept_with_an_error(post_sns: Any, db: Any) -> None:
    response = post_sns("Successfully validated SNS topic for Amazon SES event publishing.")
    assert response.status_code == 200
    notification = InboundNotification.objects.get()
    assert notification.processed_at is not None and "not an SES event" in notification.error
    assert Event.objects.count() == 0


# --- Suppression ------------------------------------------------------------


def test_a_permanent_bounce_suppresses_and_a_later_send_skips_the_address(
    post_email: Any, ses: Any, post_sns: Any
) -> None:
    first = _send(post_email, "gone@example.com")
    post_sns(ses_event("Bounce", ses_message_id=_ses_id(first), recipients=["gone@example.com"]))
    suppression = Suppression.objects.get()
    assert (suppression.address, suppression.scope, suppression.reason) == ("gone@example.com", "all", "bounce")
    assert suppression.event is not None and suppression.event.type == "bounce"
    calls_before = len(ses.sent_messages)

    later = _send(post_email, ["gone@example.com", "ok@example.com"])

    assert _status(later, "gone@example.com") == "suppressed"
    assert (
        "Suppressed for all mail: permanent bounce"
        in Recipient.objects.get(message=later, address="gone@example.com").reason
    )
    assert _status(later, "ok@example.com") == "sent"
    assert len(ses.sent_messages) == calls_before + 1
    assert "gone@example.com" not in ses.sent_messages[-1].destinations
    later.refresh_from_db()
    assert (later.status, later.sent_count, later.suppressed_count) == ("sent", 1, 1)


def test_a_message_whose_recipients_are_all_suppressed_makes_no_ses_call(
    post_email: Any, ses: Any, post_sns: Any
) -> None:
    first = _send(post_email, "angry@example.com")
    post_sns(ses_event("Complaint", ses_message_id=_ses_id(first), recipients=["angry@example.com"]))
    calls_before = len(ses.sent_messages)

    later = _send(post_email, "Angry@Example.com")

    later.refresh_from_db()
    assert later.status == "suppressed"
    assert "suppression list" in later.status_reason
    assert len(ses.sent_messages) == calls_before
    (event,) = Event.objects.filter(message=later, type="suppressed")
    recipient = later.recipients.get()
    assert (event.recipient, event.address) == (recipient, "angry@example.com")
    assert event.details == {"reason": recipient.reason} and "complaint" in recipient.reason.lower()


def test_a_transient_bounce_does_not_suppress(post_email: Any, ses: Any, post_sns: Any) -> None:
    message = _send(post_email, "full@example.com")
    post_sns(
        ses_event("Bounce", ses_message_id=_ses_id(message), recipients=["full@example.com"], bounceType="Transient")
    )
    assert Suppression.objects.count() == 0
    assert Event.objects.filter(type="bounce").count() == 1


def test_a_lifted_suppression_lets_mail_through_again(
    post_email: Any, ses: Any, post_sns: Any, staff_user: Any
) -> None:
    from emails.suppression import suppression_lift

    first = _send(post_email, "back@example.com")
    post_sns(ses_event("Bounce", ses_message_id=_ses_id(first), recipients=["back@example.com"]))
    suppression_lift(suppression=Suppression.objects.get(), by=staff_user)

    later = _send(post_email, "back@example.com")

    assert _status(later, "back@example.com") == "sent"
    assert Suppression.objects.get().lifted_by == staff_user


# --- One-click unsubscribe --------------------------------------------------


def _unsubscribe_link(ses: Any) -> tuple[str, str]:
    raw = ses.sent_messages[-1].raw_data
    parsed = email.message_from_string(raw if isinstance(raw, str) else raw.decode(), policy=email.policy.default)
    header = str(parsed["List-Unsubscribe"]).strip()
    assert header.startswith("<http") and header.endswith(">")
    return header[1:-1], str(parsed["List-Unsubscribe-Post"])


def test_marketing_mail_carries_a_one_click_unsubscribe_per_recipient(post_email: Any, ses: Any) -> None:
    _send(post_email, ["a@example.com", "b@example.com"], category="marketing")

    assert len(ses.sent_messages) == 2  # one call per recipient, each with its own link
    links = set()
    for sent in ses.sent_messages:
        raw = sent.raw_data if isinstance(sent.raw_data, str) else sent.raw_data.decode()
        parsed = email.message_from_string(raw, policy=email.policy.default)
        assert parsed["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        links.add(str(parsed["List-Unsubscribe"]))
    assert len(links) == 2


def test_transactional_mail_has_no_unsubscribe_header(post_email: Any, ses: Any) -> None:
    _send(post_email, "a@example.com", category="auth")
    raw = ses.sent_messages[-1].raw_data
    assert "List-Unsubscribe" not in (raw if isinstance(raw, str) else raw.decode())


def test_the_unsubscribe_post_suppresses_that_category_only(post_email: Any, ses: Any) -> None:
    _send(post_email, "reader@example.com", category="marketing")
    link, _ = _unsubscribe_link(ses)
    path = link.split("://", 1)[1].split("/", 1)[1]
    anonymous = Client(enforce_csrf_checks=True)  # mail providers send no CSRF token

    first = anonymous.post(f"/{path}", {"List-Unsubscribe": "One-Click"})
    again = anonymous.post(f"/{path}", {"List-Unsubscribe": "One-Click"})

    assert first.status_code == again.status_code == 200
    suppression = Suppression.objects.get()  # idempotent: one row
    assert (suppression.address, suppression.scope, suppression.reason) == (
        "reader@example.com",
        "marketing",
        "unsubscribe",
    )
    newsletter = _send(post_email, "reader@example.com", category="marketing")
    receipt = _send(post_email, "reader@example.com", category="auth")
    assert _status(newsletter, "reader@example.com") == "suppressed"
    assert _status(receipt, "reader@example.com") == "sent"


def test_the_unsubscribe_get_only_asks(post_email: Any, ses: Any) -> None:
    _send(post_email, "reader@example.com", category="marketing")
    link, _ = _unsubscribe_link(ses)
    path = "/" + link.split("://", 1)[1].split("/", 1)[1]

    page = Client().get(path)

    assert page.status_code == 200
    assert b'<form method="post"' in page.content and b"reader@example.com" in page.content
    assert Suppression.objects.count() == 0


def test_a_tampered_unsubscribe_link_is_refused(post_email: Any, ses: Any) -> None:
    _send(post_email, "reader@example.com", category="marketing")
    link, _ = _unsubscribe_link(ses)
    path = "/" + link.split("://", 1)[1].split("/", 1)[1]

    response = Client().post(path[:-3] + "abc")

    assert response.status_code == 400
    assert Suppression.objects.count() == 0


# --- Reputation guard -------------------------------------------------------


def test_the_reputation_guard_holds_marketing_but_not_auth_mail(
    post_email: Any, ses: Any, post_sns: Any, settings: Any, staff_user: Any
) -> None:
    settings.REPUTATION_MIN_SENT = 10
    to = [f"u{i}@example.com" for i in range(10)]
    batch = _send(post_email, to)
    # One bounce in ten: 10%, over the 5% limit.
    post_sns(ses_event("Bounce", ses_message_id=_ses_id(batch), recipients=[to[0]]))
    hold = ReputationHold.objects.get()
    assert "bounce rate 10.00%" in hold.reason

    newsletter = _send(post_email, "fan@example.com", category="marketing")
    receipt = _send(post_email, "buyer@example.com", category="auth")

    newsletter.refresh_from_db()
    receipt.refresh_from_db()
    assert newsletter.status == "held" and "bounce rate" in newsletter.status_reason
    assert receipt.status == "sent"
    assert "fan@example.com" not in {d for s in ses.sent_messages for d in s.destinations}

    from django.test import TestCase

    with TestCase.captureOnCommitCallbacks(execute=True):
        assert reputation_resume(hold=hold, by=staff_user) == 1
    newsletter.refresh_from_db()
    assert newsletter.status == "sent"


def test_the_guard_counts_complaints_at_a_tenth_of_a_percent(
    post_email: Any, ses: Any, post_sns: Any, settings: Any
) -> None:
    settings.REPUTATION_MIN_SENT = 1
    message = _send(post_email, ["a@example.com", "b@example.com"])
    post_sns(ses_event("Complaint", ses_message_id=_ses_id(message), recipients=["a@example.com"]))
    assert "complaint rate 50.00%" in ReputationHold.objects.get().reason


def test_the_guard_waits_for_enough_volume(post_email: Any, ses: Any, post_sns: Any, settings: Any) -> None:
    settings.REPUTATION_MIN_SENT = 100
    message = _send(post_email, "a@example.com")
    post_sns(ses_event("Bounce", ses_message_id=_ses_id(message), recipients=["a@example.com"]))
    assert ReputationHold.objects.count() == 0


# --- The mailbox simulator of the embedded default --------------------------


@pytest.mark.parametrize(
    ("mailbox", "status", "suppressed"),
    [
        ("success", "delivered", False),
        ("ooto", "delivered", False),
        ("bounce", "bounced", True),
        ("complaint", "complaint", True),
        ("suppressionlist", "bounced", True),
    ],
)
def test_the_simulator_answers_like_ses_in_the_embedded_default(
    mailbox: str, status: str, suppressed: bool, post_email: Any, ses: Any, settings: Any, monkeypatch: Any
) -> None:
    # The embedded default's backend (its own moto server shares the `ses` fixture's moto state).
    settings.EMAIL_BACKEND = "emails.dev.backend.EmulatedSESBackend"
    address = f"{mailbox}@simulator.amazonses.com"

    message = _send(post_email, [address, "someone@example.com"])

    assert _status(message, address) == status
    assert _status(message, "someone@example.com") == "sent"  # only simulator mailboxes answer
    assert Suppression.objects.filter(address=address).exists() is suppressed
    assert InboundNotification.objects.filter(topic_arn__contains="simulator").count() >= 1


def test_the_simulator_is_off_with_real_ses(post_email: Any, ses: Any, settings: Any) -> None:
    assert settings.EMAIL_BACKEND == "emails.ses.SESBackend"
    message = _send(post_email, "bounce@simulator.amazonses.com")
    assert _status(message, "bounce@simulator.amazonses.com") == "sent"
    assert InboundNotification.objects.count() == 0


# --- One poison notification never stalls the pipeline (D5) ---------------------


def _tags_as_a_list(event: dict[str, Any]) -> None:
    event["mail"]["tags"] = ["not", "an", "object"]


def _nul_in_the_diagnostic(event: dict[str, Any]) -> None:
    # PostgreSQL's jsonb refuses \u0000: the whole batch's transaction failed.
    event["bounce"]["bouncedRecipients"][0]["diagnosticCode"] = "smtp; 550 \u0000 gone"


def _recipients_not_a_list(event: dict[str, Any]) -> None:
    event["bounce"]["bouncedRecipients"] = "not a list"


@pytest.mark.parametrize("poison", [_tags_as_a_list, _nul_in_the_diagnostic, _recipients_not_a_list])
def test_a_poison_notification_fails_alone_and_the_next_one_is_applied(
    poison: Any, post_email: Any, ses: Any, post_sns: Any
) -> None:
    message = _send(post_email, ["a@example.com", "b@example.com"])
    bad = ses_event("Bounce", ses_message_id=_ses_id(message), recipients=["a@example.com"])
    poison(bad)
    good = ses_event("Delivery", ses_message_id=_ses_id(message), recipients=["b@example.com"])

    assert post_sns(bad).status_code == 200
    assert post_sns(good).status_code == 200

    assert _status(message, "b@example.com") == "delivered"
    stored_bad, stored_good = InboundNotification.objects.order_by("pk")
    assert stored_good.processed_at is not None and stored_good.error == ""
    # The poison one is done with, not retried by every drain; what is wrong with it is kept, for events_replay.
    assert stored_bad.processed_at is not None
    assert Message.objects.get(pk=message.pk).delivered_count == 1


def test_nul_in_an_event_is_stripped_from_what_is_stored(post_email: Any, ses: Any, post_sns: Any) -> None:
    message = _send(post_email, "a@example.com")
    event = ses_event("Bounce", ses_message_id=_ses_id(message), recipients=["a@example.com"])
    event["bounce"]["bouncedRecipients"][0]["diagnosticCode"] = "smtp; 550\u0000 user unknown"

    post_sns(event)

    stored = Event.objects.get(type="bounce")
    assert stored.details["diagnosticCode"] == "smtp; 550 user unknown"
    assert _status(message, "a@example.com") == "bounced"
    assert Recipient.objects.get(address="a@example.com").reason == "smtp; 550 user unknown"


def test_a_notification_the_database_refuses_fails_alone_within_its_batch(
    post_email: Any, ses: Any, sns: None, monkeypatch: Any
) -> None:
    """Whatever fails in one notification's writes (here, its suppression) rolls back that one alone."""
    import json

    from django.db import DataError

    from emails.tracking import apply as tracking_apply
    from emails.tracking import notification_store, notifications_drain
    from tests.sns_signing import sns_envelope

    message = _send(post_email, ["a@example.com", "b@example.com", "c@example.com"])
    ses_id = _ses_id(message)
    events = [
        ses_event("Delivery", ses_message_id=ses_id, recipients=["a@example.com"]),
        ses_event("Bounce", ses_message_id=ses_id, recipients=["b@example.com"]),
        ses_event("Delivery", ses_message_id=ses_id, recipients=["c@example.com"]),
    ]
    for event in events:  # stored together, applied by one drain, as a burst would be
        envelope = sns_envelope(event)
        notification_store(message=envelope, body=json.dumps(envelope))
    real_add = tracking_apply.suppression_add

    def refused(**kwargs: Any) -> Any:
        if kwargs["address"] == "b@example.com":
            raise DataError("value refused by the database")
        return real_add(**kwargs)

    monkeypatch.setattr(tracking_apply, "suppression_add", refused)

    assert notifications_drain() == 3

    assert _status(message, "a@example.com") == "delivered"
    assert _status(message, "c@example.com") == "delivered"
    assert _status(message, "b@example.com") == "sent"  # its bounce rolled back with it
    failed = InboundNotification.objects.exclude(error="").get()
    assert failed.processed_at is not None
    assert failed.error == "Could not be applied: DataError: value refused by the database"
    assert json.loads(json.loads(failed.body)["Message"])["eventType"] == "Bounce"
    assert not Suppression.objects.filter(address="b@example.com").exists()
