"""Reads of bulks: whose, how far along (counted by the database over its messages), and the per-recipient report."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.contrib.auth.models import AnonymousUser, User
from django.db.models import Count, Max, Min, OuterRef, QuerySet, Subquery

from emails.choices import BulkStatus, MessageStatus
from emails.exceptions import BulkNotFound, MessageForbidden
from emails.models import Bulk, Event, Recipient
from emails.selectors.log import CHANGE_ALL_PERMISSION, VIEW_ALL_PERMISSION

# A message in these has not gone out yet.
WAITING = {MessageStatus.SCHEDULED, MessageStatus.QUEUED, MessageStatus.SENDING, MessageStatus.HELD,
           MessageStatus.PAUSED}  # fmt: skip
# The report's counts, by message status.
COUNTED = {
    MessageStatus.SENT: "sent",
    MessageStatus.DELIVERED: "delivered",
    MessageStatus.BOUNCED: "bounced",
    MessageStatus.COMPLAINT: "complained",
    MessageStatus.FAILED: "failed",
    MessageStatus.SUPPRESSED: "suppressed",
    MessageStatus.CANCELLED: "cancelled",
}


def bulks_visible_to(user: User | AnonymousUser) -> QuerySet[Bulk]:
    if not user.is_authenticated:
        return Bulk.objects.none()
    if user.has_perm(VIEW_ALL_PERMISSION):
        return Bulk.objects.all()
    return Bulk.objects.filter(owner=user)


def bulk_get(*, user: User | AnonymousUser, bulk_id: uuid.UUID) -> Bulk:
    bulk = bulks_visible_to(user).select_related("owner").filter(pk=bulk_id).first()
    if bulk is None:
        raise BulkNotFound("Bulk not found")
    return bulk


def bulk_get_changeable(*, user: User | AnonymousUser, bulk_id: uuid.UUID) -> Bulk:
    """A bulk the user may pause, resume, cancel or retry: their own, or anyone's with change_all_messages."""
    bulk = bulk_get(user=user, bulk_id=bulk_id)
    if not (bulk.owner_id == user.pk or user.has_perm(CHANGE_ALL_PERMISSION)):
        raise MessageForbidden("You may see this bulk but not change it: it is another user's.")
    return bulk


@dataclass(frozen=True)
class BulkSummary:
    bulk: Bulk
    status: str
    counts: dict[str, int]
    progress: int
    started_at: datetime | None
    finished_at: datetime | None

    def as_dict(self) -> dict[str, Any]:
        bulk = self.bulk
        return {
            "bulkId": str(bulk.pk),
            "name": bulk.name,
            "status": self.status,
            "total": bulk.total,
            "accepted": bulk.accepted,
            "counts": self.counts,
            "progress": self.progress,
            "sendAt": bulk.send_at.isoformat() if bulk.send_at else None,
            "createdAt": bulk.created_at.isoformat(),
            "startedAt": self.started_at.isoformat() if self.started_at else None,
            "finishedAt": self.finished_at.isoformat() if self.finished_at else None,
        }


def bulk_summary(bulk: Bulk) -> BulkSummary:
    """Its status, counts and progress, from one GROUP BY over its messages."""
    by_status = {row["status"]: row["n"] for row in bulk.messages.values("status").annotate(n=Count("pk")).order_by()}
    times = bulk.messages.aggregate(first=Min("sent_at"), last=Max("sent_at"))
    waiting = sum(n for message_status, n in by_status.items() if message_status in WAITING)
    counts = {"queued": waiting, **dict.fromkeys(COUNTED.values(), 0), "skipped": len(bulk.skipped)}
    for message_status, name in COUNTED.items():
        counts[name] += by_status.get(message_status, 0)
    messages = sum(by_status.values())
    progress = 100 if not messages else int(100 * (messages - waiting) / messages)
    status: str
    if bulk.stopped == BulkStatus.CANCELLED:
        status = BulkStatus.CANCELLED
    elif not waiting:
        status = BulkStatus.DONE
    elif bulk.stopped == BulkStatus.PAUSED or by_status.get(MessageStatus.HELD):
        status = BulkStatus.PAUSED  # asked for, or the reputation guard holds its category
    elif by_status.get(MessageStatus.SCHEDULED) and messages == by_status[MessageStatus.SCHEDULED]:
        status = BulkStatus.SCHEDULED
    elif waiting == messages and not by_status.get(MessageStatus.SENDING):
        status = BulkStatus.QUEUED
    else:
        status = BulkStatus.SENDING
    return BulkSummary(
        bulk=bulk,
        status=status,
        counts=counts,
        progress=progress,
        started_at=times["first"],
        finished_at=times["last"] if status in (BulkStatus.DONE, BulkStatus.CANCELLED) and not waiting else None,
    )


REPORT_COLUMNS = ["index", "address", "name", "status", "reason", "sesMessageId", "lastEvent", "lastEventAt",
                  "messageId"]  # fmt: skip


REPORT_FIELDS = ("message__bulk_index", "address", "display_name", "status", "reason", "ses_message_id",
                 "last_event_type", "last_event_at", "message_id")  # fmt: skip


def bulk_report_rows(bulk: Bulk) -> Iterator[list[Any]]:
    """Every row of the bulk's request, in its order: each recipient's status, reason, SES id and last event, and
    the skipped rows (status `skipped`, with why) where they were. Read in chunks; memory stays flat."""
    last_event = Event.objects.filter(recipient=OuterRef("pk")).order_by("-occurred_at", "-id").values("type")[:1]
    rows = (
        Recipient.objects.filter(message__bulk=bulk)
        .annotate(last_event_type=Subquery(last_event))
        .order_by("message__bulk_index")
        .values_list(*REPORT_FIELDS)
    )
    skipped = iter(sorted(bulk.skipped, key=lambda s: s["index"]))
    waiting = next(skipped, None)
    for index, address, name, status, reason, ses_id, event, when, message_id in rows.iterator(chunk_size=2000):
        while waiting is not None and waiting["index"] < index:
            yield _skipped_row(waiting)
            waiting = next(skipped, None)
        yield [
            index,
            address,
            name,
            status,
            reason,
            ses_id,
            event or "",
            when.isoformat() if when else "",
            str(message_id),
        ]
    while waiting is not None:
        yield _skipped_row(waiting)
        waiting = next(skipped, None)


def _skipped_row(skipped: dict[str, Any]) -> list[Any]:
    return [skipped["index"], skipped["to"], "", "skipped", skipped["reason"], "", "", "", ""]
