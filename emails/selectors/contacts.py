"""One person as a CRM sees them: whether we would mail them, what they were sent, and what became of it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.contrib.auth.models import AnonymousUser, User
from django.db.models import Count, Max, Prefetch, QuerySet

from emails.models import Event, Recipient, Suppression
from emails.selectors.counting import recipient_counts
from emails.selectors.log import messages_visible_to


@dataclass(frozen=True)
class Contact:
    address: str
    suppressions: list[Suppression]
    stats: dict[str, Any]
    # This address's recipient rows, newest first: one per message it was on.
    deliveries: QuerySet[Recipient]
    last_sent: datetime | None = None

    @property
    def suppressed(self) -> bool:
        """Whether we would refuse to mail the address at all (an unsubscribe from one category is not that)."""
        return any(s.scope == "all" and s.lifted_at is None for s in self.suppressions)


def contact_get(*, user: User | AnonymousUser, address: str) -> Contact:
    """An address across the mail the user may see (all of it, for staff with the permission)."""
    address = address.strip().lower()
    rows = Recipient.objects.filter(address=address, message__in=messages_visible_to(user).values("pk"))
    stats = rows.aggregate(messages=Count("message", distinct=True), last_sent=Max("sent_at"), **recipient_counts())
    deliveries = (
        rows.select_related("message")
        .prefetch_related(Prefetch("events", queryset=Event.objects.order_by("occurred_at", "pk")))
        .order_by("-message__created_at", "-pk")
    )
    return Contact(
        address=address,
        suppressions=list(Suppression.objects.filter(address=address).order_by("-created_at", "-pk")),
        stats={
            "messages": stats["messages"],
            **{name: stats[name] for name in ("sent", "delivered", "bounced", "complained", "opened", "clicked")},
            "lastSentAt": _iso(stats["last_sent"]),
        },
        deliveries=deliveries,
        last_sent=stats["last_sent"],
    )


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None
