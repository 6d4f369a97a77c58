"""The sender identities page (staff): what SES lets us send from, and adding a domain or an address to it."""

from __future__ import annotations

import re
from typing import Any

from django import forms
from django.contrib.auth.mixins import LoginRequiredMixin, UserPassesTestMixin
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views import View

from core.errors import Unavailable, ValidationFailed
from emails.pages.forms import ServiceErrorsForm
from emails.senders import Identity, Verification, identities_list, identity_verify

# SES's statuses, as the page's badges show them: (badge, words).
STATUS_BADGES = {
    "Success": ("delivered", "Verified"),
    "Pending": ("sending", "Pending"),
    "TemporaryFailure": ("delivery_delay", "Temporary failure"),
    "Failed": ("failed", "Failed"),
    "NotStarted": ("suppressed", "Not started"),
}


def _badge(status: str) -> dict[str, str]:
    badge, label = STATUS_BADGES.get(status, ("queued", status))
    return {"badge": badge, "label": label}


def _breakable(text: str) -> list[str]:
    """A DNS name or address in parts ending at "." or "@": a line may break there (<wbr>), not inside a label."""
    return [part for part in re.split(r"(?<=[.@])", text) if part]


class IdentityForm(ServiceErrorsForm):
    identity = forms.CharField(
        label="Domain or address",
        required=False,
        help_text="A domain (crm.example.com) lets you send from any address at it; an address, from that one only.",
        widget=forms.TextInput(
            attrs={
                "placeholder": "crm.example.com",
                "autocomplete": "off",
                "spellcheck": "false",
                "autocapitalize": "none",
                "aria-describedby": "id_identity_helptext",
            }
        ),
    )

    def show_errors(self, errors: Any) -> None:
        super().show_errors(errors)
        if "identity" in self.errors:
            # The field the error is on takes the focus when the page comes back.
            self.fields["identity"].widget.attrs["autofocus"] = True


class IdentitiesView(LoginRequiredMixin, UserPassesTestMixin, View):
    template_name = "emails/identities.html"

    def test_func(self) -> bool:
        return bool(self.request.user.is_staff)

    def get(self, request: HttpRequest) -> HttpResponse:
        return self._render(request, IdentityForm())

    def post(self, request: HttpRequest) -> HttpResponse:
        form = IdentityForm(data=request.POST)
        verification: Verification | None = None
        add_error = ""
        try:
            verification = identity_verify(request.POST.get("identity", ""))
        except ValidationFailed as exc:
            form.show_errors(exc.errors)
        except Unavailable as exc:
            add_error = exc.public_message
        if verification is not None:
            form = IdentityForm()
        status = 400 if form.errors else 503 if add_error else 200
        return self._render(request, form, verification=verification, add_error=add_error, status=status)

    def _render(
        self,
        request: HttpRequest,
        form: IdentityForm,
        *,
        verification: Verification | None = None,
        add_error: str = "",
        status: int = 200,
    ) -> HttpResponse:
        identities: list[Identity] = []
        list_error = ""
        try:
            identities = identities_list()
        except Unavailable as exc:
            list_error = exc.public_message
        rows = [
            {**identity, "parts": _breakable(identity["identity"]), "badge": _badge(identity["status"]),
             "dkimBadge": _badge(identity["dkim"]["status"])}
            for identity in identities
        ]  # fmt: skip
        records = [
            {**record, "nameParts": _breakable(record["name"]), "valueParts": _breakable(record["value"])}
            for record in (verification["records"] if verification else [])
        ]
        context: dict[str, Any] = {
            "form": form,
            "rows": rows,
            "list_error": list_error,
            "add_error": add_error,
            "verification": verification,
            "records": records,
        }
        return render(request, self.template_name, context, status=status)
