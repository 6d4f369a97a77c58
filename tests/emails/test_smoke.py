from __future__ import annotations

from typing import Any

from emails.models import Message


def test_a_posted_email_reaches_ses(post_email: Any, ses: Any) -> None:
    response = post_email(
        {"to": "user@example.com", "subject": "Test Email", "htmlContent": "<p>Hello</p>", "category": "notification"}
    )
    assert response.status_code == 201, response.content
    message = Message.objects.get(pk=response.json()["data"]["messageId"])
    assert message.status == "sent"
    assert len(ses.sent_messages) == 1
