"""SES events, as event publishing (`eventType`) or notifications (`notificationType`) send them, made uniform.

What SES sends is read defensively: a shape nobody documented (tags as a
list, a recipient that is not an object) is skipped or refused as this
notification's error, never a crash of the batch; and what is kept is
storable (no NUL, no lone surrogate, which PostgreSQL's jsonb refuses).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.utils import timezone
from django.utils.dateparse import parse_datetime

from emails.choices import SUPPRESSION_SCOPE_ALL, EventType, RecipientStatus, SuppressionReason


@dataclass(frozen=True)
class ParsedEvent:
    """One SES event for one address, normalised across event publishing and notifications."""

    type: str
    address: str
    ses_message_id: str
    occurred_at: datetime
    details: dict[str, Any] = field(default_factory=dict)
    # The status this event proposes for the recipient; None records only.
    status: str | None = None
    # A suppression this event calls for: (scope, reason).
    suppress: tuple[str, str] | None = None
    crm_message_id: str = ""
    # Why the recipient got `status`, in words, when SES's details do not say it as one field.
    reason: str = ""


class NotAnSesEvent(ValueError):
    """The SNS message does not carry an SES event we know."""


def _when(value: Any, fallback: datetime) -> datetime:
    parsed = parse_datetime(value) if isinstance(value, str) else None
    return parsed if parsed is not None else fallback


def _tag(mail: dict[str, Any], name: str) -> str:
    tags = mail.get("tags")
    values = tags.get(name) if isinstance(tags, dict) else None
    if isinstance(values, list) and values:
        return str(values[0])
    return str(values) if isinstance(values, str) else ""


_MAX_DETAIL_DEPTH = 8


def storable(value: Any, depth: int = 0) -> Any:
    """`value` with NUL and lone surrogates removed from every string and key; nesting cut at a few levels."""
    if isinstance(value, str):
        return "".join(ch for ch in value if ch != "\x00" and not "\ud800" <= ch <= "\udfff")
    if depth >= _MAX_DETAIL_DEPTH:
        return None
    if isinstance(value, dict):
        return {storable(str(k)): storable(v, depth + 1) for k, v in value.items()}
    if isinstance(value, list):
        return [storable(v, depth + 1) for v in value]
    return value


def _objects(value: Any) -> list[dict[str, Any]]:
    """The objects of a list SES sends (bouncedRecipients, ...), skipping anything else."""
    return [item for item in value if isinstance(item, dict)] if isinstance(value, list) else []


def _address(value: Any) -> str:
    return str(storable(str(value))).strip().lower()


def notification_events(body: str) -> tuple[list[ParsedEvent], dict[str, Any] | None]:
    """The events a stored SNS message carries, or the SubscriptionConfirmation to confirm."""
    payload = json.loads(body)
    if not isinstance(payload, dict):
        raise NotAnSesEvent("The stored body is not an SNS message")
    if payload.get("Type") == "SubscriptionConfirmation":
        return [], payload
    if payload.get("Type") != "Notification":
        return [], None
    message = payload.get("Message")
    try:
        ses = json.loads(message) if isinstance(message, str) else None
    except (ValueError, RecursionError):
        ses = None
    if not isinstance(ses, dict):
        # SES posts a plain-text test message when a topic is first set up.
        raise NotAnSesEvent("The notification's Message is not an SES event")
    return event_parse(ses), None


def _obj(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _strings(value: Any) -> list[str]:
    return [_address(item) for item in value if isinstance(item, str)] if isinstance(value, list) else []


def _pick(body: dict[str, Any], *keys: str) -> dict[str, Any]:
    return {k: storable(body[k]) for k in keys if k in body}


def complaint_reason(body: dict[str, Any]) -> str:
    """A complaint's reason as the message page shows it: "Complaint: abuse", with SES's subtype when it gave one.

    Many mailbox providers send no feedback report, so the type may be missing.
    """
    feedback = str(storable(str(body.get("complaintFeedbackType") or ""))).strip()
    sub_type = str(storable(str(body.get("complaintSubType") or ""))).strip()
    reason = f"Complaint: {feedback}" if feedback else "Complaint (the mailbox provider gave no feedback type)"
    return f"{reason} ({sub_type})" if sub_type else reason


def event_parse(ses: dict[str, Any]) -> list[ParsedEvent]:
    """Normalise an SES event (`eventType`) or notification (`notificationType`) into per-address events."""
    kind = ses.get("eventType") or ses.get("notificationType")
    mail = ses.get("mail")
    if not isinstance(kind, str) or not isinstance(mail, dict) or not mail.get("messageId"):
        raise NotAnSesEvent("No eventType/notificationType with a mail object")
    base_time = _when(mail.get("timestamp"), timezone.now())
    destinations = _strings(mail.get("destination"))
    common: dict[str, Any] = {
        "ses_message_id": str(storable(str(mail["messageId"]))),
        "crm_message_id": _tag(mail, "crm_message_id"),
    }

    def each(addresses: list[str], type_: str, body: dict[str, Any], **extra: Any) -> list[ParsedEvent]:
        when = _when(body.get("timestamp"), base_time)
        return [ParsedEvent(type=type_, address=a, occurred_at=when, **common, **extra) for a in addresses if a]

    if kind == "Send":
        return each(destinations, EventType.SEND, {}, status=RecipientStatus.SENT)
    if kind == "Delivery":
        body = _obj(ses.get("delivery"))
        return each(
            _strings(body.get("recipients")) or destinations,
            EventType.DELIVERY,
            body,
            status=RecipientStatus.DELIVERED,
            details=_pick(body, "smtpResponse", "reportingMTA", "processingTimeMillis"),
        )
    if kind == "Bounce":
        body = _obj(ses.get("bounce"))
        permanent = body.get("bounceType") == "Permanent"
        when = _when(body.get("timestamp"), base_time)
        return [
            ParsedEvent(
                type=EventType.BOUNCE,
                address=_address(item.get("emailAddress", "")),
                occurred_at=when,
                details={
                    "bounceType": storable(body.get("bounceType", "")),
                    "bounceSubType": storable(body.get("bounceSubType", "")),
                    **_pick(item, "status", "action", "diagnosticCode"),
                },
                # A transient or undetermined bounce is recorded but ends nothing.
                status=RecipientStatus.BOUNCED if permanent else None,
                suppress=(SUPPRESSION_SCOPE_ALL, SuppressionReason.BOUNCE) if permanent else None,
                **common,
            )
            for item in _objects(body.get("bouncedRecipients"))
            if item.get("emailAddress")
        ]
    if kind == "Complaint":
        body = _obj(ses.get("complaint"))
        # "not-spam" is a recipient taking a spam verdict back, not a complaint.
        real = body.get("complaintFeedbackType", "") != "not-spam"
        return each(
            [_address(r.get("emailAddress", "")) for r in _objects(body.get("complainedRecipients"))],
            EventType.COMPLAINT,
            body,
            details={
                k: v for k, v in _pick(body, "complaintFeedbackType", "complaintSubType", "userAgent").items() if v
            },
            status=RecipientStatus.COMPLAINT if real else None,
            suppress=(SUPPRESSION_SCOPE_ALL, SuppressionReason.COMPLAINT) if real else None,
            reason=complaint_reason(body) if real else "",
        )
    if kind == "Reject":
        body = _obj(ses.get("reject"))
        return each(
            destinations,
            EventType.REJECT,
            {},
            status=RecipientStatus.REJECTED,
            details={"reason": storable(body.get("reason", ""))},
        )
    if kind == "DeliveryDelay":
        body = _obj(ses.get("deliveryDelay"))
        when = _when(body.get("timestamp"), base_time)
        return [
            ParsedEvent(
                type=EventType.DELIVERY_DELAY,
                address=_address(item.get("emailAddress", "")),
                occurred_at=when,
                status=RecipientStatus.DELIVERY_DELAY,
                details={
                    "delayType": storable(body.get("delayType", "")),
                    "expirationTime": storable(body.get("expirationTime", "")),
                    **_pick(item, "status", "diagnosticCode"),
                },
                **common,
            )
            for item in _objects(body.get("delayedRecipients"))
            if item.get("emailAddress")
        ]
    if kind == "Open":
        # SES reports opens and clicks per message, not per address: a call to
        # several recipients gives each of them the event.
        body = _obj(ses.get("open"))
        return each(
            destinations,
            EventType.OPEN,
            body,
            status=RecipientStatus.OPENED,
            details=_pick(body, "ipAddress", "userAgent"),
        )
    if kind == "Click":
        body = _obj(ses.get("click"))
        return each(
            destinations,
            EventType.CLICK,
            body,
            status=RecipientStatus.CLICKED,
            details=_pick(body, "link", "linkTags", "ipAddress", "userAgent"),
        )
    if kind == "Rendering Failure":
        body = _obj(ses.get("failure"))
        return each(
            destinations,
            EventType.RENDERING_FAILURE,
            {},
            status=RecipientStatus.FAILED,
            details=_pick(body, "errorMessage", "templateName"),
        )
    if kind == "Subscription":
        body = _obj(ses.get("subscription"))
        preferences = _obj(body.get("newTopicPreferences"))
        opted_out = bool(preferences.get("unsubscribeAll")) or any(
            t.get("subscriptionStatus") == "OptOut" for t in _objects(preferences.get("topicSubscriptionStatus"))
        )
        return each(
            destinations,
            EventType.SUBSCRIPTION,
            body,
            details=_pick(body, "contactList", "source", "newTopicPreferences"),
            suppress=("message-category", SuppressionReason.UNSUBSCRIBE) if opted_out else None,
        )
    raise NotAnSesEvent(f"Unknown SES event type {storable(kind)[:100]!r}")
