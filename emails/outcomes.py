"""What a recipient's events add up to, and what a message's recipients add up to: precedence, counts, status.

Shared ground of the delivery and tracking wings: the worker finishes a
message with `message_counts_apply` and the event pipeline derives it again
with the same function, so a message's status and counts are derived in one
place only (DESIGN.md, "Recipient status precedence").
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

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
    {
        MessageStatus.SCHEDULED,
        MessageStatus.QUEUED,
        MessageStatus.SENDING,
        MessageStatus.CANCELLED,
        MessageStatus.HELD,
        MessageStatus.PAUSED,
    }
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


# What a recipient's first outcome times say, per count: the flags an SES event sets (tracking.apply).
# Delivery, and also an open, a click or a complaint, which SES reports only of delivered mail.
REACHED_FLAGS = ("delivered_at", "opened_at", "clicked_at", "complained_at")
FLAG_COUNTS = {
    "delivered_count": REACHED_FLAGS,
    "opened_count": ("opened_at",),
    "clicked_count": ("clicked_at",),
    "complaint_count": ("complained_at",),
    "bounced_count": ("bounced_at",),
}


@dataclass(frozen=True)
class Tally:
    """A message's recipients, counted: how many are in each status, and how many have each outcome.

    The event pipeline counts outcomes from the recipients' first-event
    times (`flags`); a worker finishing a send knows only statuses, from
    which it reads the outcomes they imply.
    """

    statuses: Counter[str]
    flags: dict[str, int] | None = None

    def outcome(self, count: str) -> int:
        if self.flags is not None:
            return self.flags.get(count, 0)
        reached = sum(self.statuses[s] for s in REACHED)
        by_status = {
            "delivered_count": reached + self.statuses[RecipientStatus.COMPLAINT],
            "opened_count": self.statuses[RecipientStatus.OPENED] + self.statuses[RecipientStatus.CLICKED],
            "clicked_count": self.statuses[RecipientStatus.CLICKED],
            "complaint_count": self.statuses[RecipientStatus.COMPLAINT],
            "bounced_count": self.statuses[RecipientStatus.BOUNCED],
        }
        return by_status[count]


def message_counts_apply(message: Message, tally: Tally | Counter[str] | Iterable[str]) -> None:
    """Set a message's counts from its recipients and, out of its lifecycle, its status (derived here only)."""
    if not isinstance(tally, Tally):
        tally = Tally(statuses=tally if isinstance(tally, Counter) else Counter(tally))
    statuses = tally.statuses
    message.sent_count = sum(statuses[s] for s in ACCEPTED)
    message.failed_count = sum(statuses[s] for s in REFUSED)
    message.suppressed_count = statuses[RecipientStatus.SUPPRESSED]
    for count in FLAG_COUNTS:
        setattr(message, count, tally.outcome(count))
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
