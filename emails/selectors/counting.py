"""How outcomes are counted, once for every read: the log's summary, analytics, a contact, the account panel.

DESIGN.md, "Counting outcomes": each recipient counts once in each count;
`sent` is what SES accepted; `delivered` is what SES reported delivered,
whatever came later (an open, a click or a complaint implies it); `bounced`
is permanent bounces; `complained`, `opened`, `clicked` are recipients with at
least one such event; `suppressed` and `failed` were never sent; rates divide
by `sent`. Over messages the counts are sums of the counters the event
pipeline derives (emails.outcomes); over recipients they are counted from the
same first-outcome times, so the two agree.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db.models import BigIntegerField, Count, F, Q, QuerySet, Sum
from django.db.models.functions import Coalesce, Round

from emails.choices import RecipientStatus
from emails.models import Message
from emails.outcomes import ACCEPTED, FLAG_COUNTS, REFUSED

# The counts of a set of messages, by the name the API gives them, from each message's counter.
MESSAGE_COUNTERS = {
    "sent": "sent_count",
    "delivered": "delivered_count",
    "bounced": "bounced_count",
    "complained": "complaint_count",
    "opened": "opened_count",
    "clicked": "clicked_count",
    "suppressed": "suppressed_count",
    "failed": "failed_count",
}
OUTCOMES = tuple(MESSAGE_COUNTERS)
RATES = {
    "deliveryRate": "delivered",
    "bounceRate": "bounced",
    "complaintRate": "complained",
    "openRate": "opened",
    "clickRate": "clicked",
}
# Cost is kept to 8 decimals; summed as whole hundred-millionths it stays exact on every database
# (SQLite keeps decimals as floats, whose sum is not).
COST_UNITS = 10**8


def cost_sum(field: str = "cost") -> Coalesce:
    units: BigIntegerField[int, int] = BigIntegerField()
    return Coalesce(Sum(Round(F(field) * COST_UNITS), output_field=units), 0, output_field=units)


def cost_from_units(units: int | None) -> Decimal:
    return Decimal(units or 0) / COST_UNITS


def message_sums(prefix: str = "") -> dict[str, Any]:
    """Aggregates over messages (or, with `prefix`, over a relation's messages): emails, recipients, outcomes, cost."""
    sums: dict[str, Any] = {
        "emails": Count(f"{prefix}pk"),
        "recipients": Coalesce(Sum(f"{prefix}recipient_count"), 0),
    }
    sums |= {name: Coalesce(Sum(f"{prefix}{counter}"), 0) for name, counter in MESSAGE_COUNTERS.items()}
    sums["cost_units"] = cost_sum(f"{prefix}cost")
    return sums


@dataclass(frozen=True)
class Summary:
    """A set of messages rolled up from one GROUP BY (status, category, priority).

    At most 11 x 5 x 4 groups come back, however many messages there are:
    one scan instead of one per breakdown.
    """

    groups: list[dict[str, Any]]

    def total(self, name: str) -> int:
        return sum(int(g[name]) for g in self.groups)

    def cost_units(self, **where: str) -> int:
        return sum(int(g["cost_units"]) for g in self.groups if all(g[k] == v for k, v in where.items()))

    def by(self, key: str, count: str = "emails") -> list[dict[str, Any]]:
        """The groups summed by one of their keys, the largest first."""
        counts: dict[str, int] = {}
        for g in self.groups:
            counts[g[key]] = counts.get(g[key], 0) + int(g[count])
        return [{key: value, "count": n} for value, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))]

    def stats(self) -> dict[str, Any]:
        """The seeds' `stats`: totals, exact cost, average size, and counts by status, category and priority."""
        emails = self.total("emails")
        return {
            "totalEmails": emails,
            "totalRecipients": self.total("recipients"),
            "totalCost": money(cost_from_units(self.cost_units())),
            "avgSize": round(self.total("size") / emails) if emails else 0,
            "byStatus": self.by("status"),
            "byCategory": self.by("category"),
            "byPriority": self.by("priority"),
        }

    def outcomes(self) -> dict[str, int]:
        return {name: self.total(name) for name in OUTCOMES}


def message_summary(messages: QuerySet[Message]) -> Summary:
    groups = messages.order_by().values("status", "category", "priority")
    return Summary(list(groups.annotate(size=Coalesce(Sum("size"), 0), **message_sums())))


def _reached() -> Q:
    condition = Q()
    for name in FLAG_COUNTS["delivered_count"]:
        condition |= Q(**{f"{name}__isnull": False})
    return condition


def recipient_counts() -> dict[str, Count]:
    """Aggregates over recipients, one per outcome, by the same definitions as the message counters."""
    return {
        "sent": Count("pk", filter=Q(status__in=ACCEPTED)),
        "delivered": Count("pk", filter=_reached()),
        "bounced": Count("pk", filter=Q(bounced_at__isnull=False)),
        "complained": Count("pk", filter=Q(complained_at__isnull=False)),
        "opened": Count("pk", filter=Q(opened_at__isnull=False)),
        "clicked": Count("pk", filter=Q(clicked_at__isnull=False)),
        "suppressed": Count("pk", filter=Q(status=RecipientStatus.SUPPRESSED)),
        "failed": Count("pk", filter=Q(status__in=REFUSED)),
    }


def rate(count: int, sent: int) -> float:
    """A count over `sent`, a fraction in [0, 1]; 0 when nothing was sent."""
    return round(count / sent, 6) if sent else 0.0


def rates_of(counts: dict[str, Any]) -> dict[str, float]:
    sent = int(counts.get("sent") or 0)
    return {name: rate(int(counts.get(count) or 0), sent) for name, count in RATES.items()}


def money(value: Decimal) -> float:
    """A cost for JSON: exact to its 8 decimals, so it reads 0.0014, not 0.00140001441687346."""
    return float(round(value, 8))
