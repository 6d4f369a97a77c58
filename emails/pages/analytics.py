"""The analytics dashboard and its CSV exports: the same numbers as GET /api/email/analytics, for people."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any

from django.contrib.auth.decorators import login_required
from django.contrib.auth.mixins import LoginRequiredMixin
from django.http import HttpRequest, HttpResponse, QueryDict, StreamingHttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import render
from django.utils import timezone
from django.views import View

from core.errors import Unavailable
from core.http import query_without_blanks
from core.rest.errors import drf_field_errors
from core.spreadsheet import Echo, csv_cell
from emails.choices import Category
from emails.pages.forms import AnalyticsFilterForm
from emails.queries import AnalyticsQuerySerializer
from emails.selectors import (
    THRESHOLDS,
    VIEW_ALL_PERMISSION,
    account_visible_to,
    email_analytics,
    rate_level,
    ses_account,
)

PRESETS = [("Today", 1), ("7 days", 7), ("30 days", 30), ("90 days", 90)]
TIME_ZONES = ["UTC", "Europe/London", "Europe/Berlin", "Europe/Paris", "America/New_York", "America/Chicago",
              "America/Los_Angeles", "America/Sao_Paulo", "Asia/Kolkata", "Asia/Singapore", "Asia/Tokyo",
              "Australia/Sydney", "Pacific/Auckland"]  # fmt: skip
# What each table of the export holds: its rows in the analytics answer, and their columns.
EXPORTS = {
    "daily": ("daily", ["date", "emails", "recipients", "sent", "delivered", "bounced", "complained", "opened",
                        "clicked", "cost"]),
    "clients": ("byClient", ["clientId", "emails", "recipients", "sent", "delivered", "bounced", "complained", "cost"]),
    "users": ("byUser", ["userId", "username", "emails", "recipients", "sent", "delivered", "bounced", "complained",
                         "cost"]),
    "templates": ("byTemplate", ["templateId", "name", "emails", "recipients", "sent", "delivered", "bounced",
                                 "complained", "cost"]),
    "domains": ("byRecipientDomain", ["domain", "sent", "delivered", "bounced", "complained", "bounceRate",
                                      "complaintRate"]),
}  # fmt: skip


# How the page colours where a rate stands (selectors.rate_level).
LEVEL_COLOURS = {"ok": "green", "review": "amber", "pause": "red", "unjudged": "neutral"}


def _level(rate_name: str, value: float) -> str:
    return LEVEL_COLOURS[rate_level(rate_name, value)]


def _domains(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The domain table's rows, each rate with its colour."""
    return [
        {**row, "bounceLevel": _level("bounceRate", row["bounceRate"]),
         "complaintLevel": _level("complaintRate", row["complaintRate"])}
        for row in rows
    ]  # fmt: skip


def _presets(query: QueryDict, today: date, first: date, last: date) -> list[dict[str, Any]]:
    """The period links; the one that matches the period shown (30 days, by default) is marked."""
    links = []
    for label, days in PRESETS:
        start = today - timedelta(days=days - 1)
        preset = query.copy()
        preset["startDate"], preset["endDate"] = start.isoformat(), today.isoformat()
        links.append({"label": label, "query": preset.urlencode(), "current": (first, last) == (start, today)})
    return links


def _cards(rates: dict[str, Any]) -> list[dict[str, Any]]:
    cards = []
    for name, label, count in [
        ("deliveryRate", "Delivered", "delivered"),
        ("bounceRate", "Bounced", "bounced"),
        ("complaintRate", "Complained", "complained"),
        ("openRate", "Opened", "opened"),
        ("clickRate", "Clicked", "clicked"),
    ]:
        limits = THRESHOLDS.get(name)
        cards.append(
            {
                "id": name,
                "label": label,
                "value": rates[name],
                "count": rates[count],
                "sent": rates["sent"],
                "level": _level(name, rates[name]),
                "limits": limits,
            }
        )
    return cards


def _charts(data: dict[str, Any], account: dict[str, Any] | None) -> dict[str, Any]:
    """What the page's script draws; the same numbers are in the tables beside each chart."""
    daily = data["daily"]
    charts: dict[str, Any] = {
        "daily": {
            "labels": [day["date"] for day in daily],
            "delivered": [day["delivered"] - day["complained"] for day in daily],
            "complained": [day["complained"] for day in daily],
            "bounced": [day["bounced"] for day in daily],
            "pending": [max(day["sent"] - day["delivered"] - day["bounced"], 0) for day in daily],
            "opened": [day["opened"] for day in daily],
            "clicked": [day["clicked"] for day in daily],
        },
        "cost": {"labels": [day["date"] for day in daily], "cost": [day["cost"] for day in daily]},
    }
    if account is not None:
        days = account["statistics"]
        charts["ses"] = {
            "labels": [day["date"] for day in days],
            **{name: [day[name] for day in days] for name in ("deliveryAttempts", "bounces", "complaints", "rejects")},
        }
    return charts


class AnalyticsView(LoginRequiredMixin, View):
    template_name = "emails/analytics.html"

    def get(self, request: HttpRequest) -> HttpResponse:
        can_view_all = request.user.has_perm(VIEW_ALL_PERMISSION)
        query = query_without_blanks(request.GET)
        serializer = AnalyticsQuerySerializer(data=query, context={"user": request.user})
        form = AnalyticsFilterForm(data=query, show_users=can_view_all)
        context: dict[str, Any] = {"form": form, "query": query, "can_view_all": can_view_all,
                                   "time_zones": TIME_ZONES, "data": None}  # fmt: skip
        if not serializer.is_valid():
            form.show_errors(drf_field_errors(serializer.errors))
            return render(request, self.template_name, context)
        form.show_errors([])
        filters = serializer.to_filters()
        data = email_analytics(user=request.user, filters=filters)
        account, account_error, show_account = None, "", account_visible_to(request.user)
        if show_account:
            try:
                account = ses_account()
            except Unavailable as exc:
                account_error = exc.public_message
        categories = dict(Category.choices)
        first_day = filters.start.astimezone(filters.zone).date()
        last_day = (filters.end - timedelta(microseconds=1)).astimezone(filters.zone).date()
        today = timezone.localtime(timezone.now(), filters.zone).date()
        context.update(
            data=data,
            filters=filters,
            first_day=first_day,
            last_day=last_day,
            presets=_presets(query, today, first_day, last_day),
            cards=_cards(data["rates"]),
            domains=_domains(data["byRecipientDomain"]),
            charts=_charts(data, account),
            account=account,
            account_error=account_error,
            show_account=show_account,
            cost_by_category=[
                {"label": categories.get(row["category"], row["category"]), **row} for row in data["costByCategory"]
            ],
            exports={name: f"?{query.urlencode()}&table={name}" if query else f"?table={name}" for name in EXPORTS},
        )
        return render(request, self.template_name, context)


def _csv_rows(rows: list[dict[str, Any]], columns: list[str]) -> Iterator[str]:
    writer = csv.writer(Echo())
    yield writer.writerow(columns)
    for row in rows:
        yield writer.writerow([csv_cell(row.get(column)) for column in columns])


@login_required
def analytics_export(request: HttpRequest) -> HttpResponseBase:
    """One table of the dashboard (?table=daily|clients|users|templates|domains) as CSV, with its filters."""
    query = query_without_blanks(request.GET)
    table = query.pop("table", ["daily"])[-1]
    serializer = AnalyticsQuerySerializer(data=query, context={"user": request.user})
    if table not in EXPORTS:
        reason = f"Unknown table {table[:40]!r}; one of {', '.join(EXPORTS)}."
        return HttpResponse(f"Invalid request: {reason}", status=400, content_type="text/plain; charset=utf-8")
    if not serializer.is_valid():
        problems = "; ".join(f"{'.'.join(map(str, e.path))}: {e.message}" for e in drf_field_errors(serializer.errors))
        return HttpResponse(f"Invalid request: {problems}", status=400, content_type="text/plain; charset=utf-8")
    key, columns = EXPORTS[table]
    data = email_analytics(user=request.user, filters=serializer.to_filters())
    response = StreamingHttpResponse(_csv_rows(data[key], columns), content_type="text/csv; charset=utf-8")
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    response["Content-Disposition"] = f'attachment; filename="analytics-{table}-{stamp}.csv"'
    return response
