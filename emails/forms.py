"""Forms of the web pages: they render widgets and choices, and show errors.

Validation is not theirs: a send is validated by EmailSendSerializer and the
log's filters by EmailQuerySerializer, the same validators the API uses. The
fields are named as the serializers' fields (camelCase), so the posted data
is the serializer's payload and its errors land on the field of the same name.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from django import forms
from django.contrib.auth import get_user_model
from django.forms.utils import ErrorDict, ErrorList

from emails.choices import Category, MessageStatus, Priority, RecipientStatus
from emails.models import Template

ADDRESS_HELP = 'Separate several with commas. "Jane Doe <jane@example.com>" works too.'


def _blank(label: str, choices: Iterable[tuple[str, str]]) -> list[tuple[str, str]]:
    return [("", label), *choices]


def flatten_errors(detail: Any) -> list[str]:
    """A DRF error detail (string, list, or {index: [...]}) as a flat list of messages."""
    if isinstance(detail, Mapping):
        messages: list[str] = []
        for key, value in detail.items():
            for message in flatten_errors(value):
                messages.append(f"Item {int(key) + 1}: {message}" if str(key).isdigit() else message)
        return messages
    if isinstance(detail, (list, tuple)):
        return [message for item in detail for message in flatten_errors(item)]
    return [str(detail)]


class SerializerErrorsForm(forms.Form):
    """A form whose errors come from a serializer rather than from its own cleaning.

    Its fields never run Django's validation: `errors` is whatever
    `set_errors` was given (nothing until then).
    """

    # Error keys that are not fields but have their own place on the page.
    EXTRA_ERROR_KEYS: tuple[str, ...] = ()

    def set_errors(self, errors: Mapping[str, Any]) -> None:
        """Show these errors (a serializer's `errors`) on the form's fields.

        Keys that are neither a field nor in EXTRA_ERROR_KEYS become
        non-field errors, prefixed with their name.
        """
        error_dict = ErrorDict(renderer=self.renderer)

        def add(key: str, messages: list[str]) -> None:
            if key not in error_dict:
                css = None if key in self.fields else "nonfield"
                error_dict[key] = self.error_class(error_class=css, renderer=self.renderer)
            error_dict[key].extend(messages)

        for name, detail in errors.items():
            messages = flatten_errors(detail)
            if name in self.fields or name in self.EXTRA_ERROR_KEYS:
                add(name, messages)
            elif name in ("non_field_errors", "__all__"):
                add("__all__", messages)
            else:
                add("__all__", [f"{name}: {message}" for message in messages])
        self._errors = error_dict
        self.cleaned_data = {}

    def full_clean(self) -> None:
        # Never Django's validation; see the class docstring.
        if self._errors is None:
            self._errors = ErrorDict(renderer=self.renderer)
            self.cleaned_data = {}

    def extra_errors(self, name: str) -> ErrorList:
        """Errors keyed by a name that is not a field ("recipients", "content")."""
        return self.errors.get(name) or self.error_class(renderer=self.renderer)


class ComposeForm(SerializerErrorsForm):
    to = forms.CharField(
        label="To",
        required=False,
        help_text=ADDRESS_HELP,
        widget=forms.TextInput(
            attrs={"placeholder": "client@example.com", "autocomplete": "off", "data-address-field": ""}
        ),
    )
    cc = forms.CharField(
        label="Cc", required=False, widget=forms.TextInput(attrs={"autocomplete": "off", "data-address-field": ""})
    )
    bcc = forms.CharField(
        label="Bcc",
        required=False,
        help_text="Bcc addresses are never shown to anyone.",
        widget=forms.TextInput(attrs={"autocomplete": "off", "data-address-field": ""}),
    )
    subject = forms.CharField(label="Subject", required=False, widget=forms.TextInput(attrs={"maxlength": 200}))
    htmlContent = forms.CharField(
        label="HTML body",
        required=False,
        widget=forms.Textarea(
            attrs={"rows": 10, "spellcheck": "true", "class": "mono", "placeholder": "<p>Hello …</p>"}
        ),
    )
    textContent = forms.CharField(
        label="Text body",
        required=False,
        help_text="Left empty, it is derived from the HTML body.",
        widget=forms.Textarea(attrs={"rows": 6}),
    )
    templateId = forms.ModelChoiceField(
        label="Template",
        required=False,
        queryset=Template.objects.all(),
        empty_label="— No template —",
        help_text="A template supplies subject and bodies; fields filled here are ignored except the subject.",
    )
    templateData = forms.CharField(
        label="Template data (JSON)",
        required=False,
        widget=forms.Textarea(attrs={"rows": 4, "class": "mono", "placeholder": '{"name": "Jane"}'}),
    )
    category = forms.ChoiceField(
        label="Category", required=False, choices=_blank("— Choose a category —", Category.choices)
    )
    priority = forms.ChoiceField(label="Priority", required=False, choices=Priority.choices, initial=Priority.NORMAL)
    replyTo = forms.CharField(
        label="Reply-To", required=False, widget=forms.EmailInput(attrs={"placeholder": "optional"})
    )
    clientId = forms.CharField(
        label="Client id", required=False, widget=forms.TextInput(attrs={"placeholder": "optional"})
    )

    EXTRA_ERROR_KEYS = ("content",)

    # The fields whose raw text is handed to the serializer as is; the others
    # (template data) need parsing first.
    PLAIN_FIELDS = (
        "to",
        "cc",
        "bcc",
        "subject",
        "htmlContent",
        "textContent",
        "templateId",
        "category",
        "priority",
        "replyTo",
        "clientId",
    )


class LogFilterForm(SerializerErrorsForm):
    search = forms.CharField(
        label="Search",
        required=False,
        widget=forms.TextInput(attrs={"type": "search", "placeholder": "Subject, address, client id or message id"}),
    )
    status = forms.ChoiceField(label="Status", required=False, choices=_blank("Any status", MessageStatus.choices))
    category = forms.ChoiceField(label="Category", required=False, choices=_blank("Any category", Category.choices))
    priority = forms.ChoiceField(label="Priority", required=False, choices=_blank("Any priority", Priority.choices))
    recipientStatus = forms.ChoiceField(
        label="Recipient status", required=False, choices=_blank("Any recipient status", RecipientStatus.choices)
    )
    clientId = forms.CharField(label="Client id", required=False)
    startDate = forms.DateField(label="From", required=False, widget=forms.DateInput(attrs={"type": "date"}))
    endDate = forms.DateField(label="To", required=False, widget=forms.DateInput(attrs={"type": "date"}))
    userId = forms.TypedChoiceField(label="User", required=False)
    limit = forms.ChoiceField(
        label="Per page",
        required=False,
        initial="20",
        choices=[("10", "10"), ("20", "20"), ("50", "50"), ("100", "100")],
    )

    def __init__(self, *args: Any, show_users: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if show_users:
            users = get_user_model().objects.order_by("username").only("pk", "username", "first_name", "last_name")
            field = self.fields["userId"]
            assert isinstance(field, forms.ChoiceField)
            field.choices = _blank("Any user", [(str(u.pk), u.get_full_name() or u.get_username()) for u in users])
        else:
            del self.fields["userId"]
