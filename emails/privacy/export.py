"""Everything held about one address, for the person it belongs to (GET /api/email/contacts/<address>/export).

Every row of every kind that names the address, found as `holdings` says,
up to EMAIL_EXPORT_MAX_ROWS of each kind; a kind cut there is named in
`truncated`. An erased address is found nowhere: its rows hold only the
hash, which nothing here looks for.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings

from emails.models import Bulk, Event, InboundNotification, Recipient, Suppression
from emails.privacy.address import contact_address
from emails.privacy.holdings import bulks_mentioning, events_of, notifications_of
from emails.suppression import CHOOSABLE, preferences_of


@dataclass(frozen=True)
class BulkRows:
    """A bulk the address was in: its rows for it (index, message) and its skipped rows naming it."""

    bulk: Bulk
    rows: list[tuple[int | None, uuid.UUID]] = field(default_factory=list)
    skipped: list[dict[str, Any]] = field(default_factory=list)


@dataclass(frozen=True)
class ContactExport:
    address: str
    recipients: list[Recipient]
    events: list[Event]
    suppressions: list[Suppression]
    # The preference centre's choices: each choosable category, whether the address receives it.
    receives: dict[str, bool]
    blocked: bool  # a suppression of all mail (a bounce, a complaint, staff)
    notifications: list[InboundNotification]
    bulks: list[BulkRows]
    truncated: list[str]


def contact_export(*, address: str) -> ContactExport:
    """What we hold about `address`; ValidationFailed when it is not one valid address."""
    address = contact_address(address)
    limit = settings.EMAIL_EXPORT_MAX_ROWS
    truncated: list[str] = []

    def cut(name: str, rows: list[Any]) -> list[Any]:
        if len(rows) > limit:
            truncated.append(name)
        return rows[:limit]

    rows = Recipient.objects.filter(address=address)
    # Every row's keys (small), to find the rest by; the rows themselves up to the limit.
    keys = list(rows.values_list("pk", "message_id", "ses_message_id", "message__bulk_id", "message__bulk_index"))
    recipients = list(
        rows.select_related("message", "message__owner").order_by("-message__created_at", "pk")[: limit + 1]
    )
    events = events_of(
        address=address,
        recipient_ids=[k[0] for k in keys],
        message_ids=sorted({k[1] for k in keys}),
        limit=limit,
    )
    notifications = notifications_of(address=address, events=events.values(), ses_ids={k[2] for k in keys}, limit=limit)
    preferences = preferences_of(address=address)
    in_bulks = [(bulk_id, index, message_id) for _, message_id, _, bulk_id, index in keys if bulk_id is not None]
    return ContactExport(
        address=address,
        recipients=cut("recipients", recipients),
        events=cut("events", sorted(events.values(), key=lambda e: (e.occurred_at, e.pk))),
        suppressions=cut(
            "suppressions", list(Suppression.objects.filter(address=address).order_by("created_at", "pk"))
        ),
        receives={str(category): preferences.receives[category] for category in CHOOSABLE},
        blocked=preferences.blocked is not None,
        notifications=cut("notifications", notifications),
        bulks=cut("bulks", _bulks(address, in_bulks)),
        truncated=truncated,
    )


def _bulks(address: str, in_bulks: list[tuple[uuid.UUID, int | None, uuid.UUID]]) -> list[BulkRows]:
    rows: dict[uuid.UUID, list[tuple[int | None, uuid.UUID]]] = defaultdict(list)
    for bulk_id, index, message_id in in_bulks:
        rows[bulk_id].append((index, message_id))
    skipped: dict[uuid.UUID, list[dict[str, Any]]] = {}
    for bulk in bulks_mentioning(address).only("pk", "skipped"):
        skipped[bulk.pk] = [row for row in bulk.skipped if isinstance(row, dict) and _names(row, address)]
    bulks = Bulk.objects.filter(pk__in={*rows, *skipped}).order_by("created_at", "pk")
    return [
        BulkRows(bulk=b, rows=sorted(rows.get(b.pk, []), key=_by_index), skipped=skipped.get(b.pk, [])) for b in bulks
    ]


def _by_index(row: tuple[int | None, uuid.UUID]) -> tuple[bool, int]:
    return row[0] is None, row[0] or 0


def _names(row: dict[str, Any], address: str) -> bool:
    return address in str(row.get("to", "")).lower()
