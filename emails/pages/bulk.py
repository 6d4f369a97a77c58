"""The bulk pages: start one (a CSV from your files or pasted, its columns mapped, the first messages previewed,
now or later), and follow each (a live progress bar, pause, resume, cancel, the report).

Thin: the form's fields become a BulkDraft; checking, previewing and storing are the accepting wing's.
"""

from __future__ import annotations

import uuid
from typing import Any

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect, QueryDict
from django.shortcuts import render
from django.urls import reverse
from django.utils.decorators import method_decorator
from django.views import View

from core.content_policy import csp_preview_styles
from core.errors import Conflict, ValidationFailed
from core.text import uuid_parse
from emails.accepting import (
    BulkDraft,
    TextCsvRows,
    bulk_accept,
    bulk_cancel,
    bulk_pause,
    bulk_preview,
    bulk_resume,
    bulk_retry_failed,
)
from emails.choices import BulkStatus, Category, Priority
from emails.exceptions import BulkNotFound, MessageForbidden
from emails.models import Bulk
from emails.pages.actions import local_moment
from emails.pages.forms import ServiceErrorsForm
from emails.pages.live import LivePollMixin
from emails.selectors import bulk_get, bulk_get_changeable, bulk_summary, bulks_visible_to, templates_all
from files.selectors import files_attachable

CSV_TYPES = ("text/csv", "application/csv", "text/plain")
CHANGES = {"pause": bulk_pause, "resume": bulk_resume, "cancel": bulk_cancel, "retry-failed": bulk_retry_failed}


class BulkForm(ServiceErrorsForm):
    name = forms.CharField(label="Name", required=False, help_text="What you will find it by, e.g. “January renewals”.")
    recipientsFileId = forms.ChoiceField(
        label="A CSV from your files", required=False, help_text="Its first line names the columns."
    )
    pasted = forms.CharField(
        label="Or paste the recipients",
        required=False,
        help_text="CSV with a header line, e.g. email,name,number",
        widget=forms.Textarea(attrs={"rows": 5, "class": "mono", "spellcheck": "false"}),
    )
    # Blank: the column of that name (email, name, clientId), when the file has one.
    emailColumn = forms.CharField(
        label="Email column", required=False, widget=forms.TextInput(attrs={"placeholder": "email"})
    )
    nameColumn = forms.CharField(
        label="Name column", required=False, widget=forms.TextInput(attrs={"placeholder": "name"})
    )
    clientIdColumn = forms.CharField(
        label="Client id column", required=False, widget=forms.TextInput(attrs={"placeholder": "clientId"})
    )
    templateId = forms.ChoiceField(label="Template", required=False)
    subject = forms.CharField(label="Subject", required=False, help_text="Without a template: {{ name }} and the "
                              "CSV's other columns are the variables.")  # fmt: skip
    htmlContent = forms.CharField(label="HTML body", required=False, widget=forms.Textarea(attrs={"rows": 6}))
    textContent = forms.CharField(label="Text body", required=False, widget=forms.Textarea(attrs={"rows": 3}))
    category = forms.ChoiceField(label="Category", required=False, choices=[("", "— Choose —"), *Category.choices])
    priority = forms.ChoiceField(
        label="Priority",
        required=False,
        choices=Priority.choices,
        initial=Priority.LOW,
        help_text="Urgent and high mail always goes first, whatever a bulk queued.",
    )
    sendAt = forms.DateTimeField(
        label="Send later",
        required=False,
        help_text="Leave empty to send now. In your time zone.",
        widget=forms.DateTimeInput(attrs={"type": "datetime-local", "step": 60}, format="%Y-%m-%dT%H:%M"),
    )
    tz = forms.CharField(required=False, widget=forms.HiddenInput(attrs={"data-time-zone": ""}))

    EXTRA_ERROR_KEYS = ("content",)
    ERROR_PLACES = {"recipients": "pasted", "templateData": "pasted"}

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        files = files_attachable(user=user).filter(content_type__in=CSV_TYPES).order_by("-created_at")[:100]
        choice = self.fields["recipientsFileId"]
        assert isinstance(choice, forms.ChoiceField)
        choice.choices = [("", "— None —"), *[(str(f.pk), f"{f.original_name} ({f.size:,} bytes, "
                                                         f"{f.created_at:%d %b %Y})") for f in files]]  # fmt: skip
        template = self.fields["templateId"]
        assert isinstance(template, forms.ChoiceField)
        template.choices = [("", "— No template —"), *[(t.slug, t.name) for t in templates_all()]]


def bulk_page_draft(data: QueryDict) -> BulkDraft:
    """The bulk a posted page asks for: a stored file's rows, or the pasted CSV, and the form's fields."""
    columns = {role: data.get(f"{role}Column", "").strip() for role in ("email", "name", "clientId")}
    file_id = uuid_parse(data.get("recipientsFileId", "").strip())
    pasted = data.get("pasted", "").strip()
    return BulkDraft(
        name=data.get("name", ""),
        template=data.get("templateId", "").strip(),
        subject=data.get("subject", ""),
        html=data.get("htmlContent", ""),
        text=data.get("textContent", ""),
        category=data.get("category", "").strip(),
        priority=data.get("priority", "").strip() or Priority.LOW,
        send_at=local_moment(data.get("sendAt", ""), data.get("tz", "")),
        rows=TextCsvRows(pasted, columns={k: v for k, v in columns.items() if v}) if pasted and not file_id else None,
        recipients_file_id=file_id,
        columns={k: v for k, v in columns.items() if v},
    )


@method_decorator(csp_preview_styles, name="dispatch")  # its preview: an email's style attributes
class BulkListView(LoginRequiredMixin, View):
    template_name = "emails/bulk_list.html"

    def get(self, request: HttpRequest) -> HttpResponse:
        assert isinstance(request.user, User)
        return self._render(request, BulkForm(user=request.user))

    def post(self, request: HttpRequest) -> HttpResponse:
        assert isinstance(request.user, User)
        form = BulkForm(data=request.POST, user=request.user)
        draft = bulk_page_draft(request.POST)
        try:
            if request.POST.get("action") == "preview":
                return self._render(request, form, preview=bulk_preview(owner=request.user, draft=draft))
            bulk = bulk_accept(owner=request.user, draft=draft)
        except ValidationFailed as exc:
            form.show_errors(exc.errors)
            return self._render(request, form)
        skipped = f"; {len(bulk.skipped):,} skipped (see the report)" if bulk.skipped else ""
        messages.success(request, f"{bulk.accepted:,} of {bulk.total:,} recipients accepted{skipped}.")
        return HttpResponseRedirect(reverse("emails:bulk-detail", args=[bulk.pk]))

    def _render(self, request: HttpRequest, form: BulkForm, *, preview: Any = None) -> HttpResponse:
        bulks = list(bulks_visible_to(request.user).order_by("-created_at")[:20])
        return render(request, self.template_name, {
            "form": form, "preview": preview, "summaries": [bulk_summary(b) for b in bulks],
        })  # fmt: skip


def _bulk(request: HttpRequest, bulk_id: uuid.UUID) -> Bulk:
    try:
        return bulk_get(user=request.user, bulk_id=bulk_id)
    except BulkNotFound:
        raise Http404("No such bulk.") from None


def bulk_context(request: HttpRequest, bulk: Bulk) -> dict[str, Any]:
    summary = bulk_summary(bulk)
    # Asked again only while it moves: not while it waits for its time, is paused, or is over.
    live = summary.status in (BulkStatus.QUEUED, BulkStatus.SENDING)
    return {
        "summary": summary,
        "bulk": bulk,
        "can_change": bulk.owner_id == request.user.pk or request.user.has_perm("emails.change_all_messages"),
        "live_url": reverse("emails:bulk-live", args=[bulk.pk]) if live else "",
        "live_seconds": settings.PAGES_LIVE_POLL_SECONDS,
    }


class BulkDetailView(LoginRequiredMixin, View):
    def get(self, request: HttpRequest, bulk_id: uuid.UUID) -> HttpResponse:
        bulk = _bulk(request, bulk_id)
        return render(request, "emails/bulk_detail.html", bulk_context(request, bulk))


class BulkLiveView(LivePollMixin, View):
    """The bulk page's progress, for its poll."""

    def get(self, request: HttpRequest, bulk_id: uuid.UUID) -> HttpResponse:
        bulk = _bulk(request, bulk_id)
        return render(request, "emails/_bulk_live.html", bulk_context(request, bulk))


class BulkChangeView(LoginRequiredMixin, View):
    def post(self, request: HttpRequest, bulk_id: uuid.UUID, change: str) -> HttpResponse:
        if change not in CHANGES:
            raise Http404("No such change.")
        try:
            bulk = bulk_get_changeable(user=request.user, bulk_id=bulk_id)
        except BulkNotFound:
            raise Http404("No such bulk.") from None
        except MessageForbidden as exc:
            raise PermissionDenied(str(exc)) from None
        try:
            moved = CHANGES[change](bulk=bulk)
        except Conflict as exc:
            messages.error(request, str(exc))
        else:
            done = {"pause": "paused", "resume": "resumed", "cancel": "cancelled", "retry-failed": "queued again"}
            messages.success(request, f"{moved:,} message{'s' if moved != 1 else ''} {done[change]}.")
        return HttpResponseRedirect(reverse("emails:bulk-detail", args=[bulk.pk]))
