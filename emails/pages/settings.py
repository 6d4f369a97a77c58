"""A user's own settings page: default reply-to, a signature for composed mail, default category and priority."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.contrib.auth.models import User
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.views import View

from core.errors import ValidationFailed
from emails.accepting import SettingsDraft, sender_settings_get, sender_settings_save
from emails.accepting.profile import MAX_SIGNATURE
from emails.choices import Category, Priority
from emails.pages.forms import ServiceErrorsForm


class SettingsForm(ServiceErrorsForm):
    replyTo = forms.CharField(
        label="Default reply-to",
        required=False,
        help_text="Replies to what you compose go here, unless you give another one.",
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )
    signature = forms.CharField(
        label="Signature",
        required=False,
        help_text=f"Plain text, added below the body of mail you compose without a template. At most {MAX_SIGNATURE:,} "
        "characters.",
        widget=forms.Textarea(attrs={"rows": 5}),
    )
    category = forms.ChoiceField(
        label="Default category", required=False, choices=[("", "— None —"), *Category.choices]
    )
    priority = forms.ChoiceField(
        label="Default priority", required=False, choices=[("", "Normal (the default)"), *Priority.choices]
    )


class SettingsView(LoginRequiredMixin, View):
    template_name = "emails/settings.html"

    def get(self, request: HttpRequest) -> HttpResponse:
        assert isinstance(request.user, User)  # LoginRequiredMixin
        own = sender_settings_get(user=request.user)
        initial = {"replyTo": own.reply_to, "signature": own.signature, "category": own.category,
                   "priority": own.priority}  # fmt: skip
        return render(request, self.template_name, {"form": SettingsForm(initial=initial)})

    def post(self, request: HttpRequest) -> HttpResponse:
        assert isinstance(request.user, User)  # LoginRequiredMixin
        form = SettingsForm(data=request.POST)
        draft = SettingsDraft(
            reply_to=request.POST.get("replyTo", ""),
            signature=request.POST.get("signature", ""),
            category=request.POST.get("category", ""),
            priority=request.POST.get("priority", ""),
        )
        try:
            sender_settings_save(user=request.user, draft=draft)
        except ValidationFailed as exc:
            form.show_errors(exc.errors)
            return render(request, self.template_name, {"form": form})
        messages.success(request, "Your settings are saved. The composer uses them from now on.")
        return HttpResponseRedirect(reverse("emails:settings"))
