"""A message's counts and status, derived from its recipients' statuses."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

from emails.choices import MessageStatus, RecipientStatus
from emails.models import Message

# Lifecycle states the worker owns; recipients' outcomes do not move these.
LIFECYCLE = frozenset(
    {MessageStatus.SCHEDULED, MessageStatus.QUEUED, MessageStatus.SENDING, MessageStatus.CANCELLED, MessageStatus.HELD}
)
REACHED = frozenset({RecipientStatus.DELIVERED, RecipientStatus.OPENED, RecipientStatus.CLICKED})
# Everything SES accepted, whatever happened to it afterwards.
ACCEPTED = REACHED | {
    RecipientStatus.SENT,
    RecipientStatus.DELIVERY_DELAY,
    RecipientStatus.BOUNCED,
    RecipientStatus.COMPLAINT,
}
REFUSED = frozenset({RecipientStatus.FAILED, RecipientStatus.REJECTED})
COUNT_FIELDS = [
    "sent_count", "failed_count", "delivered_count", "bounced_count", "complaint_count",
    "opened_count", "clicked_count", "suppressed_count",
]  # fmt: skip


def message_counts_apply(message: Message, statuses: Iterable[str] | Counter[str]) -> None:
    """Set a message's per-outcome counts and, once sent, its status from its recipients'."""
    counts = statuses if isinstance(statuses, Counter) else Counter(statuses)
    message.sent_count = sum(counts[s] for s in ACCEPTED)
    message.failed_count = sum(counts[s] for s in REFUSED)
    message.delivered_count = sum(counts[s] for s in REACHED)
    message.bounced_count = counts[RecipientStatus.BOUNCED]
    message.complaint_count = counts[RecipientStatus.COMPLAINT]
    message.opened_count = counts[RecipientStatus.OPENED] + counts[RecipientStatus.CLICKED]
    message.clicked_count = counts[RecipientStatus.CLICKED]
    message.suppressed_count = counts[RecipientStatus.SUPPRESSED]
    if message.status in LIFECYCLE:
        return
    message.status = message_status_derive(message)


def message_status_derive(message: Message) -> str:
    """Problems first, so a log filtered by status shows them: complaint, bounced; then delivered, sent."""
    if not message.sent_count:
        everyone_suppressed = message.suppressed_count and message.suppressed_count == message.recipient_count
        return MessageStatus.SUPPRESSED if everyone_suppressed else MessageStatus.FAILED
    if message.complaint_count:
        return MessageStatus.COMPLAINT
    if message.bounced_count:
        return MessageStatus.BOUNCED
    if message.delivered_count == message.sent_count:
        return MessageStatus.DELIVERED
    return MessageStatus.SENT
