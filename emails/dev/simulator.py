"""SES's mailbox simulator, for the embedded default, where the emulated SES publishes no events.

Sending to success@, bounce@, ooto@, complaint@ or suppressionlist@
simulator.amazonses.com produces the SES event JSON that real SES would
publish, wrapped like an SNS notification and stored through the same
`notification_store` the webhook uses; the tracking wing takes it from there.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from email.utils import getaddresses
from typing import Any

from django.core.mail import EmailMessage
from django.utils import timezone

from emails.tracking import notification_store

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


@dataclass(frozen=True)
class SimulatedCall:
    """What the simulator needs of one SES call: who got it, our message id and category, SES's id."""

    ses_message_id: str
    source: str
    addresses: tuple[str, ...]
    crm_message_id: str
    category: str


def simulated_call(email: EmailMessage, ses_message_id: str) -> SimulatedCall:
    """Read a sent message's recipients and our tags (the X-SES-MESSAGE-TAGS header delivery sets)."""
    tags: dict[str, str] = {}
    for part in str(email.extra_headers.get("X-SES-MESSAGE-TAGS", "")).split(","):
        name, _, value = part.strip().partition("=")
        tags[name] = value
    return SimulatedCall(
        ses_message_id=ses_message_id,
        source=str(email.from_email),
        addresses=tuple(address.lower() for _, address in getaddresses(email.recipients()) if address),
        crm_message_id=tags.get("crm_message_id", ""),
        category=tags.get("category", ""),
    )


def simulator_events(*, call: SimulatedCall, address: str) -> list[dict[str, Any]]:
    """The SES events (event publishing format) that the simulator address would produce."""
    local, _, domain = address.partition("@")
    mailbox = local.split("+", 1)[0]
    if domain != SIMULATOR_DOMAIN or mailbox not in _OUTCOMES:
        return []
    now = timezone.now().isoformat().replace("+00:00", "Z")
    mail = {
        "timestamp": now,
        "source": call.source,
        "messageId": call.ses_message_id,
        "destination": [address],
        "tags": {"crm_message_id": [call.crm_message_id], "category": [call.category]},
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


def simulator_publish(calls: Sequence[SimulatedCall]) -> None:
    """Store the simulator's events for these SES calls as if SNS had posted them."""
    for call in calls:
        for address in call.addresses:
            for event in simulator_events(call=call, address=address):
                envelope = {
                    "Type": "Notification",
                    "MessageId": str(uuid.uuid4()),
                    "TopicArn": SIMULATOR_TOPIC,
                    "Message": json.dumps(event),
                    "Timestamp": event["mail"]["timestamp"],
                }
                notification_store(message=envelope, body=json.dumps(envelope))
