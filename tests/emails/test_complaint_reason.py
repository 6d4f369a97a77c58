"""A complaint gives its recipient a reason in words (its feedback type), as a bounce gives its diagnostic."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.test import Client

from emails.models import Message, Recipient
from tests.emails.ses_examples import ses_event

PAYLOAD = {"subject": "Hello", "textContent": "Hi there", "category": "notification"}


def _send(post_email: Any, to: list[str]) -> Message:
    response = post_email({**PAYLOAD, "to": to})
    assert response.status_code == 201, response.content
    return Message.objects.get(pk=response.json()["data"]["messageId"])


def _ses_id(message: Message) -> str:
    return str(message.recipients.values_list("ses_message_id", flat=True).first())


def _reason(message: Message, address: str) -> str:
    return Recipient.objects.get(message=message, address=address).reason


@pytest.mark.parametrize("notification", [False, True])
def test_a_complaint_records_its_feedback_type_as_the_reason(
    notification: bool, post_email: Any, ses: Any, post_sns: Any
) -> None:
    message = _send(post_email, ["angry@example.com"])

    post_sns(
        ses_event(
            "Complaint", ses_message_id=_ses_id(message), recipients=["angry@example.com"], notification=notification
        )
    )

    assert _reason(message, "angry@example.com") == "Complaint: abuse"


def test_a_complaint_without_a_feedback_report_says_so(post_email: Any, ses: Any, post_sns: Any) -> None:
    message = _send(post_email, ["angry@example.com"])
    event = ses_event("Complaint", ses_message_id=_ses_id(message), recipients=["angry@example.com"])
    del event["complaint"]["complaintFeedbackType"]

    post_sns(event)

    recipient = Recipient.objects.get(message=message)
    assert recipient.status == "complaint"
    assert recipient.reason == "Complaint (the mailbox provider gave no feedback type)"


def test_the_subtype_ses_gives_is_kept_beside_the_feedback_type(post_email: Any, ses: Any, post_sns: Any) -> None:
    message = _send(post_email, ["angry@example.com"])

    post_sns(
        ses_event(
            "Complaint",
            ses_message_id=_ses_id(message),
            recipients=["angry@example.com"],
            complaintFeedbackType="fraud",
            complaintSubType="OnAccountSuppressionList",
        )
    )

    assert _reason(message, "angry@example.com") == "Complaint: fraud (OnAccountSuppressionList)"


def test_a_not_spam_retraction_gives_no_reason(post_email: Any, ses: Any, post_sns: Any) -> None:
    message = _send(post_email, ["calm@example.com"])

    post_sns(
        ses_event(
            "Complaint",
            ses_message_id=_ses_id(message),
            recipients=["calm@example.com"],
            complaintFeedbackType="not-spam",
        )
    )

    recipient = Recipient.objects.get(message=message)
    assert recipient.status == "sent"
    assert recipient.reason == ""


def test_the_message_page_shows_the_complaint_reason_not_a_dash(
    post_email: Any, ses: Any, post_sns: Any, user: Any
) -> None:
    message = _send(post_email, ["angry@example.com", "fine@example.com"])
    post_sns(ses_event("Complaint", ses_message_id=_ses_id(message), recipients=["angry@example.com"]))
    browser = Client()
    browser.force_login(user)

    page = browser.get(f"/emails/{message.pk}").content.decode()

    reasons = re.findall(r'<td class="reason">(.*?)</td>', page, re.S)
    assert sorted(reason.strip() for reason in reasons) == ["Complaint: abuse", "—"]
