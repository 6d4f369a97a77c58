"""What a recipient's events add up to, and what a message's recipients add up to: precedence, counts, status.

Shared ground of the delivery and tracking wings: the worker finishes a
message with `message_counts_apply` and the event pipeline derives it again
with the same function, so a message's status and counts are derived in one
place only (DESIGN.md, "Recipient status precedence").
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

from emails.choices import MessageStatus, RecipientStatus
from emails.models import Message

# The delivery chain climbs; terminal outcomes win over all of it, and a
# complaint wins over a bounce.
RECIPIENT_RANK: dict[str, int] = {
    RecipientStatus.QUEUED: 0,
    RecipientStatus.SENT: 1,
    RecipientStatus.DELIVERY_DELAY: 2,
    RecipientStatus.DELIVERED: 3,
    RecipientStatus.OPENED: 4,
    RecipientStatus.CLICKED: 5,
    RecipientStatus.FAILED: 10,
    RecipientStatus.REJECTED: 10,
    RecipientStatus.SUPPRESSED: 10,
    RecipientStatus.BOUNCED: 11,
    RecipientStatus.COMPLAINT: 12,
}


def recipient_status_after(current: str, proposed: str) -> str:
    """The status a recipient ends with when `proposed` arrives: it only ever moves up."""
    return proposed if RECIPIENT_RANK[proposed] > RECIPIENT_RANK[current] else current


def statuses_below(status: str) -> list[str]:
    """The statuses `status` moves a recipient up from: a conditional UPDATE's `status IN (...)`."""
    return [s for s in RECIPIENT_RANK if recipient_status_after(s, status) == status and s != status]


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


# Which counts each recipient status adds to (a click was also an open and a delivery).
_COUNTED_AS: dict[str, tuple[str, ...]] = {status: () for status in RecipientStatus}
for _status in ACCEPTED:
    _COUNTED_AS[_status] += ("sent_count",)
for _status in REFUSED:
    _COUNTED_AS[_status] += ("failed_count",)
for _status in REACHED:
    _COUNTED_AS[_status] += ("delivered_count",)
_COUNTED_AS[RecipientStatus.BOUNCED] += ("bounced_count",)
_COUNTED_AS[RecipientStatus.COMPLAINT] += ("complaint_count",)
_COUNTED_AS[RecipientStatus.OPENED] += ("opened_count",)
_COUNTED_AS[RecipientStatus.CLICKED] += ("opened_count", "clicked_count")
_COUNTED_AS[RecipientStatus.SUPPRESSED] += ("suppressed_count",)
del _status


def message_counts_apply(message: Message, statuses: Iterable[str] | Counter[str]) -> None:
    """Set a message's per-outcome counts from its recipients' statuses and, out of its lifecycle, its status."""
    counts = statuses if isinstance(statuses, Counter) else Counter(statuses)
    totals = dict.fromkeys(COUNT_FIELDS, 0)
    for status, n in counts.items():
        for name in _COUNTED_AS.get(status, ()):
            totals[name] += n
    for name, total in totals.items():
        setattr(message, name, total)
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
