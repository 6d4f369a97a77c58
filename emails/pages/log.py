"""The email log page, with its filters and summary, and its CSV export (the same filters as the API)."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.views import View

from core.http import query_without_blanks
from core.rest.errors import drf_field_errors
from core.spreadsheet import Echo, csv_cell
from core.text import uuid_parse
from emails.choices import Category, MessageStatus
from emails.models import Message, Recipient
from emails.pages.forms import LogFilterForm
from emails.pages.live import LivePollMixin
from emails.queries import PAGE_LIMIT_MAX, EmailQuerySerializer
from emails.selectors import VIEW_ALL_PERMISSION, email_in_flight, email_list, email_stats, messages_in_flight

SORT_COLUMNS = [
    ("subject", "Subject"),
    (None, "To"),
    ("category", "Category"),
    ("priority", "Priority"),
    ("status", "Status"),
    ("recipients", "Sent / total"),
    ("createdAt", "Created"),
    ("cost", "Cost"),
]


# A log page shows at most this many rows, so its poll asks for no more.
LIVE_ROWS_MAX = PAGE_LIMIT_MAX


@dataclass(frozen=True)
class LogRow:
    message: Message
    first_to: Recipient | None
    more: int


@dataclass(frozen=True)
class SortLink:
    key: str | None
    label: str
    active: bool
    order: str  # the order this link sorts by
    current: str  # the current order when active


def _log_row(message: Message) -> LogRow:
    recipients = list(message.recipients.all())  # prefetched, in position order
    first = next((r for r in recipients if r.kind == "to"), recipients[0] if recipients else None)
    return LogRow(message=message, first_to=first, more=max(len(recipients) - 1, 0))


def _live(rows: list[LogRow]) -> dict[str, Any]:
    """The log's poller: the shown rows whose message is in flight, asked for again until none is."""
    ids = [str(row.message.pk) for row in rows if email_in_flight(row.message)]
    query = urlencode([("id", pk) for pk in ids])
    return {
        "live_url": f"{reverse('emails:log-live')}?{query}" if ids else "",
        "live_seconds": settings.PAGES_LIVE_POLL_SECONDS,
    }


def _sort_links(sort_by: str, sort_order: str) -> list[SortLink]:
    links = []
    for key, label in SORT_COLUMNS:
        active = key == sort_by
        order = ("asc" if sort_order == "desc" else "desc") if active else ("asc" if key == "subject" else "desc")
        links.append(SortLink(key=key, label=label, active=active, order=order, current=sort_order))
    return links


def _chips(rows: list[dict[str, Any]], key: str, choices: list[tuple[str, str]]) -> list[dict[str, Any]]:
    """A stats breakdown with each value's label, for the summary's filter chips."""
    labels = dict(choices)
    return [{"value": row[key], "label": labels.get(row[key], row[key]), "count": row["count"]} for row in rows]


class LogView(LoginRequiredMixin, View):
    template_name = "emails/log.html"

    def get(self, request: HttpRequest) -> HttpResponse:
        can_view_all = request.user.has_perm(VIEW_ALL_PERMISSION)
        query = query_without_blanks(request.GET)
        serializer = EmailQuerySerializer(data=query)
        shown = query.copy()  # what the filter form shows: the query, with the page size it gets by default
        shown.setdefault("limit", str(serializer.fields["limit"].default))
        form = LogFilterForm(data=shown, show_users=can_view_all)
        context: dict[str, Any] = {
            "form": form,
            "query": query,
            "can_view_all": can_view_all,
            "page": None,
            "rows": [],
            "stats": None,
        }
        if not serializer.is_valid():
            form.show_errors(drf_field_errors(serializer.errors))
            context["sort_links"] = _sort_links("createdAt", "desc")
            return render(request, self.template_name, context)
        form.show_errors([])
        data = serializer.validated_data
        found = email_list(user=request.user, filters=serializer.to_filters())
        paginator = Paginator(found.select_related("owner").prefetch_related("recipients"), data["limit"])
        page = paginator.get_page(data["page"])
        stats = email_stats(messages=found)
        rows = [_log_row(message) for message in page.object_list]
        context.update(
            _live(rows),
            page=page,
            rows=rows,
            page_range=paginator.get_elided_page_range(page.number, on_each_side=2, on_ends=1),
            stats=stats,
            status_chips=_chips(stats["byStatus"], "status", MessageStatus.choices),
            category_chips=_chips(stats["byCategory"], "category", Category.choices),
            sort_links=_sort_links(data["sortBy"], data["sortOrder"]),
        )
        return render(request, self.template_name, context)


class LiveRowsView(LivePollMixin, View):
    """The log's poll: the asked-for rows, redrawn, and the poller again for those still in flight.

    Only these messages are read (no filter, summary or page is worked out
    again), and only those the user may see; an id that is not a message's
    is left out, as the page never sends one.
    """

    def get(self, request: HttpRequest) -> HttpResponse:
        ids = [pk for pk in (uuid_parse(value) for value in request.GET.getlist("id")[:LIVE_ROWS_MAX]) if pk]
        rows = [_log_row(message) for message in messages_in_flight(user=request.user, message_ids=ids)]
        context = {"live_rows": rows, "can_view_all": request.user.has_perm(VIEW_ALL_PERMISSION), **_live(rows)}
        return render(request, "emails/_log_live.html", context)


CSV_COLUMNS = [
    "message id",
    "created",
    "subject",
    "from",
    "to",
    "cc",
    "category",
    "priority",
    "status",
    "recipients",
    "sent",
    "failed",
    "cost",
    "client id",
]


def _csv_rows(found: Any) -> Iterator[str]:
    writer = csv.writer(Echo())
    yield writer.writerow(CSV_COLUMNS)
    for message in found.iterator(chunk_size=500):
        recipients = list(message.recipients.all())
        cells = [
            str(message.pk),
            timezone.localtime(message.created_at).isoformat(timespec="seconds"),
            message.subject,
            message.from_email,
            ", ".join(r.formatted() for r in recipients if r.kind == "to"),
            ", ".join(r.formatted() for r in recipients if r.kind == "cc"),
            message.category,
            message.priority,
            message.status,
            message.recipient_count,
            message.sent_count,
            message.failed_count,
            f"{message.cost:.6f}",
            message.client_id,
        ]
        yield writer.writerow([csv_cell(cell) for cell in cells])


@login_required
def log_export(request: HttpRequest) -> HttpResponseBase:
    serializer = EmailQuerySerializer(data=query_without_blanks(request.GET))
    if not serializer.is_valid():
        problems = "; ".join(f"{'.'.join(map(str, e.path))}: {e.message}" for e in drf_field_errors(serializer.errors))
        return HttpResponse(f"Invalid filters: {problems}", status=400, content_type="text/plain; charset=utf-8")
    found = email_list(user=request.user, filters=serializer.to_filters())
    found = found.select_related("owner").prefetch_related("recipients")
    response = StreamingHttpResponse(_csv_rows(found), content_type="text/csv; charset=utf-8")
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    response["Content-Disposition"] = f'attachment; filename="emails-{stamp}.csv"'
    return response
