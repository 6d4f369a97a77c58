"""The composer: one form, checked and queued by the same service as the API (`email_queue`)."""

from __future__ import annotations

import json
from email.utils import getaddresses

from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.contrib.auth.models import User
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, QueryDict
from django.shortcuts import render
from django.urls import reverse
from django.views import View

from core.errors import FieldError, ValidationFailed
from core.text import uuid_parse
from emails.accepting import MAX_RECIPIENTS, EmailDraft, StoredAttachment, draft_plain_fields, email_queue
from emails.choices import Category, Priority
from emails.delivery import SES_MAX_ADDRESSES_PER_CALL, ses_call_count
from emails.pages.forms import ComposeForm


def _count_addresses(data: QueryDict) -> int:
    """Addresses typed in To, Cc and Bcc (for the page's note only; the service reads them itself)."""
    raw = [value for name in ("to", "cc", "bcc") if (value := data.get(name, "").strip())]
    return sum(1 for _, address in getaddresses(raw) if address)


def compose_draft(data: QueryDict) -> EmailDraft:
    """The send a posted composer form asks for; what cannot be read (bad JSON) goes along as a problem."""
    problems: list[FieldError] = []
    template_data: object = {}
    if raw := data.get("templateData", "").strip():
        try:
            template_data = json.loads(raw)
        except ValueError as exc:
            problems.append(FieldError(path=("templateData",), message=f"Enter valid JSON: {exc}."))
        else:
            if not isinstance(template_data, dict):
                problems.append(
                    FieldError(path=("templateData",), message='Enter a JSON object, like {"name": "Jane"}.')
                )
                template_data = {}
    stored = []
    # Files attached with the picker (templates/files/_attachment_picker.html), by id.
    for index, value in enumerate(v for v in data.getlist("attachmentFileIds") if v.strip()):
        file_id = uuid_parse(value.strip())
        if file_id is None:
            problems.append(FieldError(path=("attachments", index), message="Not one of your files."))
        else:
            stored.append(StoredAttachment(file_id=file_id))
    fields = draft_plain_fields(data)
    # The form's choices come back blank or padded where the API's would be absent.
    fields.update(
        template=data.get("templateId", "").strip(),
        category=data.get("category", "").strip(),
        priority=data.get("priority", "").strip() or Priority.NORMAL,
    )
    return EmailDraft(
        **fields,
        template_data=template_data if isinstance(template_data, dict) else {},
        stored_attachments=stored,
        problems=problems,
    )


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
        assert isinstance(request.user, User)  # LoginRequiredMixin
        try:
            result = email_queue(owner=request.user, draft=compose_draft(request.POST))
        except ValidationFailed as exc:
            form.show_errors(exc.errors)
            return self._render(request, form, address_count=_count_addresses(request.POST))
        message = result.message
        count = message.recipient_count
        note = f"Email queued for {count} recipient{'s' if count != 1 else ''}."
        calls = ses_call_count(addresses=count, category=message.category)
        if message.category == Category.MARKETING and count > 1:
            note += " Marketing goes out as one SES message per recipient, each with its own unsubscribe link."
        elif calls > 1:
            note += f" It goes out as {calls} SES messages of at most {SES_MAX_ADDRESSES_PER_CALL} addresses each."
        messages.success(request, note)
        return HttpResponseRedirect(reverse("emails:detail", args=[message.pk]))

    def _render(self, request: HttpRequest, form: ComposeForm, *, address_count: int) -> HttpResponse:
        return render(
            request,
            self.template_name,
            {
                "form": form,
                "address_count": address_count,
                "max_recipients": MAX_RECIPIENTS,
                # The note is about SES's 50-address limit, as the page's script counts it.
                "ses_calls": ses_call_count(addresses=address_count),
                "group_size": SES_MAX_ADDRESSES_PER_CALL,
            },
        )
