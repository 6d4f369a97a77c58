"""How mail performs: totals, rates, a daily series, breakdowns by client, user, template and recipient domain.

Every figure is a GROUP BY in the database over the messages the user may
see (counters the event pipeline keeps, emails.outcomes), or over their
recipients where a figure is about addresses (domains, delivery times); a
bounded number of queries whatever the volume, and no Python object per row.
A message belongs to the day it was sent (the day it was created, if it never
was), cut in the time zone asked for: a day's rates are the fate of that
day's mail.
"""

from __future__ import annotations

import math
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.contrib.auth.models import AnonymousUser, User
from django.db import connection
from django.db.models import Avg, Count, DateTimeField, DurationField, ExpressionWrapper, F, QuerySet
from django.db.models.functions import Coalesce, TruncDate

from emails.models import Message, Recipient, Template
from emails.selectors.counting import (
    OUTCOMES,
    cost_from_units,
    message_summary,
    message_sums,
    money,
    rates_of,
    recipient_counts,
)
from emails.selectors.log import VIEW_ALL_PERMISSION, messages_visible_to

TOP_DOMAINS = 20
RECENT = 10
BREAKDOWN_COUNTS = ("emails", "recipients", "sent", "delivered", "bounced", "complained")


@dataclass(frozen=True)
class AnalyticsFilters:
    """What to count: [start, end) as aware datetimes, days cut in `zone`, and the log's filters."""

    start: datetime
    end: datetime
    zone: ZoneInfo
    category: str = ""
    priority: str = ""
    client_id: str = ""
    template: Template | None = None
    bulk_id: uuid.UUID | None = None
    owner_id: int | None = None


def activity() -> Coalesce:
    """When a message counts: the time it was sent, or it was created if it never was (index msg_activity)."""
    return Coalesce("sent_at", "created_at", output_field=DateTimeField())


def analytics_messages(*, user: User | AnonymousUser, filters: AnalyticsFilters) -> QuerySet[Message]:
    messages = messages_visible_to(user).alias(activity=activity())
    messages = messages.filter(activity__gte=filters.start, activity__lt=filters.end)
    for name, value in (
        ("category", filters.category),
        ("priority", filters.priority),
        ("client_id", filters.client_id),
    ):
        if value:
            messages = messages.filter(**{name: value})
    if filters.template is not None:
        messages = messages.filter(template=filters.template)
    if filters.bulk_id is not None:
        messages = messages.filter(bulk_id=filters.bulk_id)
    if filters.owner_id is not None:
        messages = messages.filter(owner_id=filters.owner_id)
    return messages.order_by()


def _counts(row: dict[str, Any], names: tuple[str, ...] = BREAKDOWN_COUNTS) -> dict[str, Any]:
    counts: dict[str, Any] = {name: int(row[name]) for name in names}
    counts["cost"] = money(cost_from_units(row["cost_units"]))
    return counts


def email_analytics(*, user: User | AnonymousUser, filters: AnalyticsFilters) -> dict[str, Any]:
    """The analytics answer, but `recentEmails` (a queryset, for the caller to shape as the log does)."""
    messages = analytics_messages(user=user, filters=filters)
    sums = message_sums()
    summary = message_summary(messages)
    outcomes = summary.outcomes()
    category_units = {row["category"]: summary.cost_units(category=row["category"]) for row in summary.by("category")}
    cost_by_category = [
        {"category": category, "cost": money(cost_from_units(units))}
        for category, units in sorted(category_units.items(), key=lambda kv: (-kv[1], kv[0]))
    ]
    days = messages.annotate(day=TruncDate(activity(), tzinfo=filters.zone)).values("day")
    daily = [
        {"date": row["day"].isoformat(), **_counts(row, ("emails", "recipients", *OUTCOMES[:6]))}
        for row in days.annotate(**sums).order_by("day")
    ]
    by_client = [
        {"clientId": row["client_id"], **_counts(row)}
        for row in messages.values("client_id").annotate(**sums).order_by("-sent", "-emails", "client_id")
    ]
    by_user: list[dict[str, Any]] = []
    if user.has_perm(VIEW_ALL_PERMISSION):
        rows = messages.values("owner_id", "owner__username").annotate(**sums).order_by("-sent", "-emails", "owner_id")
        by_user = [{"userId": row["owner_id"], "username": row["owner__username"], **_counts(row)} for row in rows]
    rows = messages.values("template_id", "template__name").annotate(**sums).order_by("-sent", "-emails")
    by_template = [
        {"templateId": str(row["template_id"]) if row["template_id"] else None, "name": row["template__name"] or "",
         **_counts(row)}
        for row in rows
    ]  # fmt: skip
    recipients = Recipient.objects.filter(message__in=messages.values("pk"))
    domains = recipients.values("domain").annotate(**recipient_counts()).order_by("-sent", "domain")[:TOP_DOMAINS]
    by_domain = [
        {
            "domain": row["domain"],
            **{name: row[name] for name in ("sent", "delivered", "bounced", "complained")},
            "bounceRate": rates_of(row)["bounceRate"],
            "complaintRate": rates_of(row)["complaintRate"],
        }
        for row in domains
    ]
    return {
        "stats": summary.stats(),
        "rates": {**outcomes, **rates_of(outcomes)},
        "costByCategory": cost_by_category,
        "daily": daily,
        "byClient": by_client,
        "byUser": by_user,
        "byTemplate": by_template,
        "byRecipientDomain": by_domain,
        "deliveryTime": delivery_time(recipients),
        "recentEmails": messages_visible_to(user)
        .filter(pk__in=messages.values("pk"))
        .order_by("-created_at", "-pk")
        .prefetch_related("recipients")[:RECENT],
    }


def delivery_time(recipients: QuerySet[Recipient]) -> dict[str, float | None]:
    """Seconds from SES accepting a recipient to its Delivery event: mean, median and 95th percentile."""
    delivered = recipients.filter(delivered_at__isnull=False, sent_at__isnull=False).annotate(
        took=ExpressionWrapper(F("delivered_at") - F("sent_at"), output_field=DurationField())
    )
    if connection.vendor == "postgresql":
        return _delivery_time_postgres(delivered)
    summary = delivered.aggregate(n=Count("pk"), mean=Avg("took"))
    n = summary["n"]
    if not n:
        return {"avgSeconds": None, "p50Seconds": None, "p95Seconds": None}

    def at(fraction: float) -> float:
        # As PostgreSQL's percentile_disc: the first value whose share of the rows reaches `fraction`.
        took = delivered.order_by("took").values_list("took", flat=True)[max(math.ceil(fraction * n) - 1, 0)]
        return _seconds(took)

    return {"avgSeconds": _seconds(summary["mean"]), "p50Seconds": at(0.5), "p95Seconds": at(0.95)}


def _delivery_time_postgres(delivered: QuerySet[Recipient]) -> dict[str, float | None]:
    """On PostgreSQL, the mean and both percentiles in one pass (percentile_disc over the same rows)."""
    sql, params = delivered.values_list("took").query.sql_with_params()  # type: ignore[misc]  # an annotation
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT AVG(EXTRACT(EPOCH FROM took)), "  # noqa: S608 (the queryset's own SQL and parameters)
            "percentile_disc(ARRAY[0.5, 0.95]) WITHIN GROUP (ORDER BY EXTRACT(EPOCH FROM took)) "
            f"FROM ({sql}) AS delivered",
            params,
        )
        mean, percentiles = cursor.fetchone()
    if mean is None:
        return {"avgSeconds": None, "p50Seconds": None, "p95Seconds": None}
    p50, p95 = (float(value) for value in percentiles)
    return {"avgSeconds": round(float(mean), 3), "p50Seconds": p50, "p95Seconds": p95}


def _seconds(value: timedelta | float | None) -> float:
    if isinstance(value, timedelta):
        return round(value.total_seconds(), 3)
    return round(float(value or 0) / 1_000_000, 3)  # SQLite's AVG of durations: microseconds
