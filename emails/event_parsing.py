"""SES events, as event publishing (`eventType`) or notifications (`notificationType`) send them, made uniform."""

from __future__ import annotations

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


class NotAnSesEvent(ValueError):
    """The SNS message does not carry an SES event we know."""


def _when(value: Any, fallback: datetime) -> datetime:
    parsed = parse_datetime(value) if isinstance(value, str) else None
    return parsed if parsed is not None else fallback


def _tag(mail: dict[str, Any], name: str) -> str:
    values = (mail.get("tags") or {}).get(name) or []
    return str(values[0]) if values else ""


def event_parse(ses: dict[str, Any]) -> list[ParsedEvent]:
    """Normalise an SES event (`eventType`) or notification (`notificationType`) into per-address events."""
    kind = ses.get("eventType") or ses.get("notificationType")
    mail = ses.get("mail")
    if not isinstance(kind, str) or not isinstance(mail, dict) or not mail.get("messageId"):
        raise NotAnSesEvent("No eventType/notificationType with a mail object")
    base_time = _when(mail.get("timestamp"), timezone.now())
    destinations = [str(a) for a in mail.get("destination") or []]
    common: dict[str, Any] = {"ses_message_id": str(mail["messageId"]), "crm_message_id": _tag(mail, "crm_message_id")}

    def each(addresses: list[str], type_: str, body: dict[str, Any], **extra: Any) -> list[ParsedEvent]:
        when = _when(body.get("timestamp"), base_time)
        return [ParsedEvent(type=type_, address=a, occurred_at=when, **common, **extra) for a in addresses]

    if kind == "Send":
        return each(destinations, EventType.SEND, {}, status=RecipientStatus.SENT)
    if kind == "Delivery":
        body = ses.get("delivery") or {}
        details = {k: body[k] for k in ("smtpResponse", "reportingMTA", "processingTimeMillis") if k in body}
        return each(
            list(body.get("recipients") or destinations),
            EventType.DELIVERY,
            body,
            status=RecipientStatus.DELIVERED,
            details=details,
        )
    if kind == "Bounce":
        body = ses.get("bounce") or {}
        permanent = body.get("bounceType") == "Permanent"
        when = _when(body.get("timestamp"), base_time)
        events = []
        for item in body.get("bouncedRecipients") or []:
            details = {
                "bounceType": body.get("bounceType", ""),
                "bounceSubType": body.get("bounceSubType", ""),
                **{k: item[k] for k in ("status", "action", "diagnosticCode") if k in item},
            }
            events.append(
                ParsedEvent(
                    type=EventType.BOUNCE,
                    address=str(item.get("emailAddress", "")),
                    occurred_at=when,
                    details=details,
                    # A transient or undetermined bounce is recorded but ends nothing.
                    status=RecipientStatus.BOUNCED if permanent else None,
                    suppress=(SUPPRESSION_SCOPE_ALL, SuppressionReason.BOUNCE) if permanent else None,
                    **common,
                )
            )
        return events
    if kind == "Complaint":
        body = ses.get("complaint") or {}
        feedback = body.get("complaintFeedbackType", "")
        # "not-spam" is a recipient taking a spam verdict back, not a complaint.
        real = feedback != "not-spam"
        details = {k: body[k] for k in ("complaintFeedbackType", "complaintSubType", "userAgent") if body.get(k)}
        addresses = [str(r.get("emailAddress", "")) for r in body.get("complainedRecipients") or []]
        return each(
            addresses,
            EventType.COMPLAINT,
            body,
            details=details,
            status=RecipientStatus.COMPLAINT if real else None,
            suppress=(SUPPRESSION_SCOPE_ALL, SuppressionReason.COMPLAINT) if real else None,
        )
    if kind == "Reject":
        body = ses.get("reject") or {}
        return each(
            destinations,
            EventType.REJECT,
            {},
            status=RecipientStatus.REJECTED,
            details={"reason": body.get("reason", "")},
        )
    if kind == "DeliveryDelay":
        body = ses.get("deliveryDelay") or {}
        when = _when(body.get("timestamp"), base_time)
        return [
            ParsedEvent(
                type=EventType.DELIVERY_DELAY,
                address=str(item.get("emailAddress", "")),
                occurred_at=when,
                status=RecipientStatus.DELIVERY_DELAY,
                details={
                    "delayType": body.get("delayType", ""),
                    "expirationTime": body.get("expirationTime", ""),
                    **{k: item[k] for k in ("status", "diagnosticCode") if k in item},
                },
                **common,
            )
            for item in body.get("delayedRecipients") or []
        ]
    if kind == "Open":
        # SES reports opens and clicks per message, not per address: a call to
        # several recipients gives each of them the event.
        body = ses.get("open") or {}
        return each(
            destinations,
            EventType.OPEN,
            body,
            status=RecipientStatus.OPENED,
            details={k: body[k] for k in ("ipAddress", "userAgent") if k in body},
        )
    if kind == "Click":
        body = ses.get("click") or {}
        return each(
            destinations,
            EventType.CLICK,
            body,
            status=RecipientStatus.CLICKED,
            details={k: body[k] for k in ("link", "linkTags", "ipAddress", "userAgent") if k in body},
        )
    if kind == "Rendering Failure":
        body = ses.get("failure") or {}
        return each(
            destinations,
            EventType.RENDERING_FAILURE,
            {},
            status=RecipientStatus.FAILED,
            details={k: body[k] for k in ("errorMessage", "templateName") if k in body},
        )
    if kind == "Subscription":
        body = ses.get("subscription") or {}
        preferences = body.get("newTopicPreferences") or {}
        opted_out = bool(preferences.get("unsubscribeAll")) or any(
            t.get("subscriptionStatus") == "OptOut" for t in preferences.get("topicSubscriptionStatus") or []
        )
        return each(
            destinations,
            EventType.SUBSCRIPTION,
            body,
            details={k: body[k] for k in ("contactList", "source", "newTopicPreferences") if k in body},
            suppress=("message-category", SuppressionReason.UNSUBSCRIBE) if opted_out else None,
        )
    raise NotAnSesEvent(f"Unknown SES event type {kind!r}")
