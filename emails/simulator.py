"""SES's mailbox simulator, for the embedded default, where the emulated SES publishes no events.

Sending to success@, bounce@, ooto@, complaint@ or suppressionlist@
simulator.amazonses.com produces the SES event JSON that real SES would
publish, wrapped like an SNS notification and stored through the same
`notification_store` the webhook uses; processing takes it from there.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.utils import timezone

from emails.events import notification_store

if TYPE_CHECKING:
    from emails.models import Message, Recipient

SIMULATOR_DOMAIN = "simulator.amazonses.com"
SIMULATOR_TOPIC = "arn:aws:sns:local:000000000000:ses-simulator"


def _bounce(diagnostic: str, sub_type: str) -> dict[str, Any]:
    return {"bounceType": "Permanent", "bounceSubType": sub_type, "diagnosticCode": diagnostic}


# What each simulator mailbox answers, after SES accepted the message.
_OUTCOMES: dict[str, list[str | dict[str, Any]]] = {
    "success": ["Delivery"],
    "ooto": ["Delivery"],
    "complaint": ["Delivery", "Complaint"],
    "bounce": [_bounce("smtp; 550 5.1.1 user unknown", "General")],
    "suppressionlist": [
        _bounce(
            "Amazon SES did not send the message: on the account-level suppression list", "OnAccountSuppressionList"
        )
    ],
}


def simulator_events(*, message: Message, address: str, ses_message_id: str) -> list[dict[str, Any]]:
    """The SES events (event publishing format) that the simulator address would produce."""
    local, _, domain = address.partition("@")
    mailbox = local.split("+", 1)[0]
    if domain != SIMULATOR_DOMAIN or mailbox not in _OUTCOMES:
        return []
    now = timezone.now().isoformat().replace("+00:00", "Z")
    mail = {
        "timestamp": now,
        "source": message.from_email,
        "messageId": ses_message_id,
        "destination": [address],
        "tags": {"crm_message_id": [str(message.pk)], "category": [message.category]},
    }
    events: list[dict[str, Any]] = []
    for outcome in _OUTCOMES[mailbox]:
        if outcome == "Delivery":
            events.append(
                {
                    "eventType": "Delivery",
                    "mail": mail,
                    "delivery": {
                        "timestamp": now,
                        "recipients": [address],
                        "smtpResponse": "250 2.6.0 Message received",
                        "reportingMTA": "a8-70.smtp-out.amazonses.com",
                        "processingTimeMillis": 120,
                    },
                }
            )
        elif outcome == "Complaint":
            events.append(
                {
                    "eventType": "Complaint",
                    "mail": mail,
                    "complaint": {
                        "timestamp": now,
                        "complainedRecipients": [{"emailAddress": address}],
                        "complaintFeedbackType": "abuse",
                        "feedbackId": str(uuid.uuid4()),
                    },
                }
            )
        elif isinstance(outcome, dict):
            events.append(
                {
                    "eventType": "Bounce",
                    "mail": mail,
                    "bounce": {
                        "timestamp": now,
                        "bounceType": outcome["bounceType"],
                        "bounceSubType": outcome["bounceSubType"],
                        "feedbackId": str(uuid.uuid4()),
                        "bouncedRecipients": [
                            {
                                "emailAddress": address,
                                "action": "failed",
                                "status": "5.1.1",
                                "diagnosticCode": outcome["diagnosticCode"],
                            }
                        ],
                    },
                }
            )
    return events


def simulator_feed(calls: Sequence[tuple[Message, Sequence[Recipient], str]]) -> None:
    """Store the simulator's events for these SES calls as if SNS had posted them."""
    if not settings.SES_EMULATED:
        return
    for message, group, ses_message_id in calls:
        for recipient in group:
            for event in simulator_events(message=message, address=recipient.address, ses_message_id=ses_message_id):
                envelope = {
                    "Type": "Notification",
                    "MessageId": str(uuid.uuid4()),
                    "TopicArn": SIMULATOR_TOPIC,
                    "Message": json.dumps(event),
                    "Timestamp": event["mail"]["timestamp"],
                }
                notification_store(message=envelope, body=json.dumps(envelope))
