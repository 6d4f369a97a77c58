"""What the SNS webhook does with a body: verify it, then store it for a worker to apply."""

from __future__ import annotations

from emails.exceptions import SnsRejected
from emails.tracking.inbound import StoreResult, notification_store
from emails.tracking.sns import sns_verify


def webhook_receive(body: bytes) -> StoreResult:
    """Verify an SNS message and keep it (a replay stores nothing); SnsRejected or SnsUnavailable otherwise."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise SnsRejected("The body is not JSON") from None  # JSON is UTF-8 (RFC 8259), and SNS sends it so
    message = sns_verify(text)
    return notification_store(message=message, body=text)
