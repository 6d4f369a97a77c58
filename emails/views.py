"""The staff's web pages: compose, the email log (and its CSV), one message.

Thin views: they parse input, call one service or selector and render. A
send is validated by EmailSendSerializer and the log's filters by
EmailQuerySerializer, exactly as the API does.
"""

from __future__ import annotations

import csv
import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from email.utils import getaddresses
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.mixins import LoginRequiredMixin
from django.contrib.auth.models import AnonymousUser
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect, QueryDict, StreamingHttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.views import View

from emails.choices import Category, MessageStatus
from emails.exceptions import EmailRenderError
from emails.forms import ComposeForm, LogFilterForm
from emails.mime import SES_MAX_ADDRESSES_PER_CALL, ses_call_count
from emails.models import Event, Message, Recipient
from emails.rendering import html_sanitise
from emails.selectors import VIEW_ALL_PERMISSION, email_get, email_list, email_stats
from emails.serializers import EmailQuerySerializer, EmailSendSerializer
from emails.services import email_queue

# --- Compose --------------------------------------------------------------


def _count_addresses(data: QueryDict) -> int:
    """Addresses typed in To, Cc and Bcc, as the serializer will split them (for the note only)."""
    raw = [value for name in ("to", "cc", "bcc") if (value := data.get(name, "").strip())]
    return sum(1 for _, address in getaddresses(raw) if address)


def _compose_payload(data: QueryDict) -> tuple[dict[str, Any], dict[str, list[str]]]:
    """The seeds' send payload built from the form's raw values, and errors of parsing it.

    Empty fields are left out, so the serializer's own rules (required,
    defaults) apply to them.
    """
    payload: dict[str, Any] = {}
    for name in ComposeForm.PLAIN_FIELDS:
        value = data.get(name, "")
        if name in ("subject", "htmlContent", "textContent"):
            payload[name] = value  # the serializer decides what an empty subject or body means
        elif value.strip():
            payload[name] = value.strip()
    errors: dict[str, list[str]] = {}
    template_data = data.get("templateData", "").strip()
    if template_data:
        try:
            payload["templateData"] = json.loads(template_data)
        except ValueError as exc:
            errors["templateData"] = [f"Enter valid JSON: {exc}."]
    # Files attached with the picker (templates/files/_attachment_picker.html), by id.
    if file_ids := [value.strip() for value in data.getlist("attachmentFileIds") if value.strip()]:
        payload["s3Attachments"] = [{"fileId": file_id} for file_id in file_ids]
    return payload, errors


class ComposeView(LoginRequiredMixin, View):
    template_name = "emails/compose.html"

    def get(self, request: HttpRequest) -> HttpResponse:
        # Other CRM pages may link here with fields filled in (?to=…&clientId=…).
        initial = {"priority": "normal"} | {
            name: request.GET[name] for name in ComposeForm.PLAIN_FIELDS if request.GET.get(name)
        }
        return self._render(request, ComposeForm(initial=initial), address_count=0)

    def post(self, request: HttpRequest) -> HttpResponse:
        form = ComposeForm(data=request.POST)
        payload, errors = _compose_payload(request.POST)
        serializer = EmailSendSerializer(data=payload, context={"request": request})
        owner = request.user
        assert not isinstance(owner, AnonymousUser)  # LoginRequiredMixin
        if serializer.is_valid() and not errors:
            try:
                result = email_queue(owner=owner, request=serializer.to_request())
            except EmailRenderError as exc:
                errors["content"] = [f"The template could not be rendered: {exc}"]
            else:
                message = result.message
                count = message.recipient_count
                note = f"Email queued for {count} recipient{'s' if count != 1 else ''}."
                calls = ses_call_count(addresses=count, category=message.category)
                if message.category == Category.MARKETING and count > 1:
                    note += " Marketing goes out as one SES message per recipient, each with its own unsubscribe link."
                elif calls > 1:
                    note += (
                        f" It goes out as {calls} SES messages of at most {SES_MAX_ADDRESSES_PER_CALL} addresses each."
                    )
                messages.success(request, note)
                return HttpResponseRedirect(reverse("emails:detail", args=[message.pk]))
        else:
            for name, detail in serializer.errors.items():
                errors.setdefault(name, []).extend(detail if isinstance(detail, list) else [detail])
        # Too many recipients is about the To/Cc/Bcc lines: shown next to To.
        if "recipients" in errors:
            errors.setdefault("to", []).extend(errors.pop("recipients"))
        form.set_errors(errors)
        return self._render(request, form, address_count=_count_addresses(request.POST))

    def _render(self, request: HttpRequest, form: ComposeForm, *, address_count: int) -> HttpResponse:
        return render(
            request,
            self.template_name,
            {
                "form": form,
                "address_count": address_count,
                # The note is about SES's 50-address limit, as the page's script counts it.
                "ses_calls": ses_call_count(addresses=address_count),
                "group_size": SES_MAX_ADDRESSES_PER_CALL,
            },
        )


# --- The log --------------------------------------------------------------

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


def _clean_query(data: QueryDict) -> QueryDict:
    """The query string without empty values, so page and sort links stay short."""
    query = QueryDict(mutable=True)
    for key, values in data.lists():
        kept = [value for value in values if value.strip()]
        if kept:
            query.setlist(key, kept)
    return query


def _log_row(message: Message) -> LogRow:
    recipients = list(message.recipients.all())  # prefetched, in position order
    first = next((r for r in recipients if r.kind == "to"), recipients[0] if recipients else None)
    return LogRow(message=message, first_to=first, more=max(len(recipients) - 1, 0))


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
        query = _clean_query(request.GET)
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
            form.set_errors(serializer.errors)
            context["sort_links"] = _sort_links("createdAt", "desc")
            return render(request, self.template_name, context)
        form.set_errors({})
        data = serializer.validated_data
        found = email_list(user=request.user, filters=serializer.to_filters())
        paginator = Paginator(found.select_related("owner").prefetch_related("recipients"), data["limit"])
        page = paginator.get_page(data["page"])
        stats = email_stats(messages=found)
        context.update(
            page=page,
            rows=[_log_row(message) for message in page.object_list],
            page_range=paginator.get_elided_page_range(page.number, on_each_side=2, on_ends=1),
            stats=stats,
            status_chips=_chips(stats["byStatus"], "status", MessageStatus.choices),
            category_chips=_chips(stats["byCategory"], "category", Category.choices),
            sort_links=_sort_links(data["sortBy"], data["sortOrder"]),
        )
        return render(request, self.template_name, context)


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
# A spreadsheet runs a cell starting with one of these as a formula.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value: Any) -> Any:
    """A cell that a spreadsheet shows as text, never runs as a formula."""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


class _Echo:
    """A file-like object whose write returns the line, for csv.writer in a stream."""

    def write(self, value: str) -> str:
        return value


def _csv_rows(found: Any) -> Iterator[str]:
    writer = csv.writer(_Echo())
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
    serializer = EmailQuerySerializer(data=_clean_query(request.GET))
    if not serializer.is_valid():
        return HttpResponse(
            "Invalid filters: " + json.dumps(serializer.errors), status=400, content_type="text/plain; charset=utf-8"
        )
    found = email_list(user=request.user, filters=serializer.to_filters())
    found = found.select_related("owner").prefetch_related("recipients")
    response = StreamingHttpResponse(_csv_rows(found), content_type="text/csv; charset=utf-8")
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    response["Content-Disposition"] = f'attachment; filename="emails-{stamp}.csv"'
    return response


# --- One message ----------------------------------------------------------


@dataclass(frozen=True)
class RecipientRow:
    recipient: Recipient
    last_event: Event | None


class DetailView(LoginRequiredMixin, View):
    template_name = "emails/detail.html"

    def get(self, request: HttpRequest, message_id: uuid.UUID) -> HttpResponse:
        try:
            message = email_get(user=request.user, message_id=message_id)
        except Message.DoesNotExist:
            raise Http404("No such message.") from None
        recipients = list(message.recipients.all())
        events = list(message.events.all())
        last_event = {event.recipient_id: event for event in events if event.recipient_id}
        ses_ids = sorted({r.ses_message_id for r in recipients if r.ses_message_id})
        context = {
            "message": message,
            "recipients": [RecipientRow(r, last_event.get(r.pk)) for r in recipients],
            "events": events,
            "ses_ids": ses_ids,
            # Once sent, the SES calls made; before, the calls it will take.
            "ses_calls": len(ses_ids) or ses_call_count(addresses=len(recipients), category=message.category),
            "group_size": SES_MAX_ADDRESSES_PER_CALL,
            "html_preview": html_sanitise(message.html_body) if message.html_body else "",
        }
        return render(request, self.template_name, context)
