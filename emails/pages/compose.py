"""The composer: one form, checked and queued by the same service as the API (`email_queue`).

Its script (static/js/compose.js) turns the address fields into chips and
asks two small JSON endpoints here as you type: which addresses are
suppressed, and what a chosen template needs and renders to.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from email.utils import getaddresses
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.contrib.auth.models import User
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse, QueryDict
from django.shortcuts import render
from django.urls import reverse
from django.utils.decorators import method_decorator
from django.views import View

from core.content_policy import csp_preview_styles
from core.errors import FieldError, ValidationFailed
from core.text import uuid_parse
from emails.accepting import (
    MAX_PER_FIELD,
    MAX_RECIPIENTS,
    EmailDraft,
    StoredAttachment,
    draft_plain_fields,
    email_queue,
    sender_settings_get,
    signature_append,
)
from emails.choices import Category, Priority
from emails.delivery import SES_MAX_ADDRESSES_PER_CALL, ses_call_count
from emails.exceptions import EmailRenderError, IdempotencyConflict, ProviderUnavailable
from emails.pages.actions import local_moment, zone_of
from emails.pages.forms import ComposeForm
from emails.selectors import template_by_id
from emails.senders import identities_known
from emails.suppression import SuppressionList, suppression_reason_text
from emails.templating import template_missing, template_preview

MAX_CHECKED_ADDRESSES = MAX_RECIPIENTS


def split_notice(*, addresses: int, category: str) -> str:
    """Why a send goes out as several SES messages, when it does (static/js/compose.js words it the same)."""
    calls = ses_call_count(addresses=addresses, category=category)
    if calls <= 1:
        return ""
    if category == Category.MARKETING:
        return (f"Marketing goes one recipient per call: this email is sent as {calls} separate messages, "
                "each with its own unsubscribe link.")  # fmt: skip
    return (f"More than {SES_MAX_ADDRESSES_PER_CALL} addresses: this email is sent as {calls} SES messages of at "
            f"most {SES_MAX_ADDRESSES_PER_CALL} addresses each. Each copy shows only its own group's To and Cc; "
            "Bcc is never shown.")  # fmt: skip


def _count_addresses(data: Mapping[str, Any]) -> int:
    """Addresses typed in To, Cc and Bcc (for the page's notice only; the service reads them itself)."""
    raw = [value for name in ("to", "cc", "bcc") if (value := data.get(name, "").strip())]
    return sum(1 for _, address in getaddresses(raw) if address)


def compose_draft(data: QueryDict, *, signature: str = "") -> EmailDraft:
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
        send_at=local_moment(data.get("sendAt", ""), data.get("tz", "")),
    )
    if not fields["template"]:
        fields["html"], fields["text"] = signature_append(
            html=fields.get("html", ""), text=fields.get("text", ""), signature=signature
        )
    return EmailDraft(
        **fields,
        template_data=template_data if isinstance(template_data, dict) else {},
        stored_attachments=stored,
        problems=problems,
    )


def _senders() -> list[str]:
    """Suggestions for From: the default, each verified address, and the default's name at each verified domain."""
    suggestions = [settings.DEFAULT_FROM_EMAIL]
    try:
        identities = identities_known()
    except ProviderUnavailable:
        return suggestions  # SES cannot say now; the send itself is still checked
    local = settings.DEFAULT_FROM_EMAIL.rpartition("<")[2].rstrip(">").partition("@")[0] or "noreply"
    for identity in identities:
        if identity["verified"]:
            address = identity["identity"] if identity["type"] == "email" else f"{local}@{identity['identity']}"
            if address not in suggestions:
                suggestions.append(address)
    return suggestions


@method_decorator(csp_preview_styles, name="dispatch")  # its preview: an email's style attributes
class ComposeView(LoginRequiredMixin, View):
    template_name = "emails/compose.html"

    def get(self, request: HttpRequest) -> HttpResponse:
        assert isinstance(request.user, User)  # LoginRequiredMixin
        own = sender_settings_get(user=request.user)
        defaults = {"priority": own.priority or Priority.NORMAL, "category": own.category, "replyTo": own.reply_to}
        # Other CRM pages may link here with fields filled in (?to=…&clientId=…).
        given = {name: request.GET[name] for name in ComposeForm.PLAIN_FIELDS if request.GET.get(name)}
        initial = {**defaults, **given, "idempotencyKey": str(uuid.uuid4())}
        return self._render(request, ComposeForm(initial=initial, senders=_senders()), signature=own.signature)

    def post(self, request: HttpRequest) -> HttpResponse:
        assert isinstance(request.user, User)  # LoginRequiredMixin
        own = sender_settings_get(user=request.user)
        form = ComposeForm(data=request.POST, senders=_senders())
        try:
            result = email_queue(
                owner=request.user,
                draft=compose_draft(request.POST, signature=own.signature),
                idempotency_key=request.POST.get("idempotencyKey", "").strip(),
            )
        except ValidationFailed as exc:
            form.show_errors(exc.errors)
            return self._render(request, form, signature=own.signature)
        except IdempotencyConflict:
            # This form already sent a different email (Back, then edited): a new key makes the next click a new send.
            data = request.POST.copy()
            data["idempotencyKey"] = str(uuid.uuid4())
            form = ComposeForm(data=data, senders=_senders())
            form.show_errors([FieldError(path=(), message="This form already sent an email. Check this one and send "
                                         "again to send it as a new email.")])  # fmt: skip
            return self._render(request, form, signature=own.signature)
        message = result.message
        if not result.created:
            messages.info(request, "This email was already sent from this form: here it is.")
            return HttpResponseRedirect(reverse("emails:detail", args=[message.pk]))
        count = message.recipient_count
        plural = "s" if count != 1 else ""
        split = split_notice(addresses=count, category=message.category)
        if message.send_after and message.status == "scheduled":
            when = message.send_after.astimezone(zone_of(request.POST.get("tz", ""))).strftime("%-d %b %Y, %H:%M %Z")
            note = f"Email scheduled for {count} recipient{plural}, to go at {when}."
        else:
            note = f"Email queued for {count} recipient{plural}."
        messages.success(request, f"{note} {split}".strip())
        return HttpResponseRedirect(reverse("emails:detail", args=[message.pk]))

    def _render(self, request: HttpRequest, form: ComposeForm, *, signature: str) -> HttpResponse:
        return render(
            request,
            self.template_name,
            {
                "form": form,
                "max_recipients": MAX_RECIPIENTS,
                "max_per_field": MAX_PER_FIELD,
                "group_size": SES_MAX_ADDRESSES_PER_CALL,
                "signature": signature,
                "marketing": Category.MARKETING,
                "split_notice": split_notice(
                    addresses=_count_addresses(form.data) if form.is_bound else 0,
                    category=str(form.data.get("category", "")) if form.is_bound else "",
                ),
                "can_preview": request.user.has_perm("emails.view_template"),
                "can_lift": _can_lift(request),
            },
        )


def _can_lift(request: HttpRequest) -> bool:
    """Who the composer lets lift a suppression from its chip: whom DELETE /api/email/suppressions/<id> lets."""
    return bool(request.user.is_staff and request.user.has_perm("emails.change_suppression"))


class RecipientCheckView(LoginRequiredMixin, View):
    """`?address=a&address=b`: which of these addresses are suppressed, why and since when (for the chips)."""

    def get(self, request: HttpRequest) -> JsonResponse:
        addresses = [a.strip().lower() for a in request.GET.getlist("address") if a.strip()][:MAX_CHECKED_ADDRESSES]
        category = request.GET.get("category", "")
        found = SuppressionList.of(addresses)
        can_lift = _can_lift(request)
        answer: dict[str, Any] = {}
        for address in addresses:
            suppression = found.matching(address, category) if category else None
            if suppression is None and not category:
                suppression = next(iter(found.by_address.get(address, ())), None)
            if suppression is not None:
                answer[address] = {"reason": suppression_reason_text(suppression), "scope": suppression.scope}
                if can_lift:  # the suppression's id is for those who may lift it
                    answer[address]["id"] = suppression.pk
        return JsonResponse({"suppressed": answer})


class TemplateCheckView(LoginRequiredMixin, View):
    """POST templateId and templateData: the template's variables, what is missing, and its rendered preview."""

    def post(self, request: HttpRequest) -> JsonResponse:
        if not request.user.has_perm("emails.view_template"):
            return JsonResponse({"error": "You may not view templates."}, status=403)
        template_id = uuid_parse(request.POST.get("templateId", "").strip())
        template = template_by_id(template_id)
        if template is None:
            return JsonResponse({"error": "No such template."}, status=404)
        try:
            data = json.loads(request.POST.get("templateData", "") or "{}")
        except ValueError:
            data = None
        if not isinstance(data, dict):
            return JsonResponse({"error": "The template data is not a JSON object."}, status=400)
        try:
            rendered = template_preview(subject=template.subject, html=template.html, text=template.text, data=data)
        except EmailRenderError as exc:
            return JsonResponse({"error": f"The template could not be rendered: {exc}"}, status=400)
        return JsonResponse(
            {
                "subject": rendered.subject,
                "templateSubject": template.subject,
                "category": template.category,
                "html": rendered.html,
                "text": rendered.text,
                "variables": template.variables,
                "missing": template_missing(template=template, data=data),
            }
        )
