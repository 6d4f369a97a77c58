"""Forms of the web pages: they render widgets and choices, and show the errors the services found.

Validation is not theirs: a send is checked by the accepting wing
(`email_queue`) and the log's filters by EmailQuerySerializer, as for the
API. The fields are named as the request's fields (camelCase), so an error's
path names the field it is shown on. A page words some rules for people
(`PAGE_WORDS`, by the rule's code): its text never names an API field.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from django import forms
from django.contrib.auth import get_user_model
from django.forms.utils import ErrorDict, ErrorList

from core.errors import FieldError
from emails.choices import Category, MessageStatus, Priority, RecipientStatus
from emails.models import Template

ADDRESS_HELP = 'Separate several with commas. "Jane Doe <jane@example.com>" works too.'

# What a rule says on a page, where its API message names API fields.
PAGE_WORDS = {
    "content_missing": "Write an HTML body or a text body, or choose a template.",
    "date_range_reversed": "Must not be before the \u201cFrom\u201d date.",
}


def _blank(label: str, choices: Iterable[tuple[str, str]]) -> list[tuple[str, str]]:
    return [("", label), *choices]


def _where(rest: tuple[str | int, ...]) -> str:
    """The part of a field an error is about, in words: "Item 2", or the keys of a JSON value."""
    words = [f"Item {part + 1}" if isinstance(part, int) else str(part) for part in rest]
    return " \u203a ".join(words)


class ServiceErrorsForm(forms.Form):
    """A form whose errors come from a service (or a query serializer) rather than from its own cleaning.

    Its fields never run Django's validation: `errors` is whatever
    `show_errors` was given (nothing until then). A field with errors gets
    `aria-describedby` naming its error list and its help, so a screen
    reader reads both.
    """

    # Error keys that are not fields but have their own place on the page.
    EXTRA_ERROR_KEYS: tuple[str, ...] = ()
    # Error keys shown on another key's place ("recipients" beside To).
    ERROR_PLACES: Mapping[str, str] = {}
    # Places that list items, and what one item is called on the page.
    ITEMS: Mapping[str, str] = {}

    def show_errors(self, errors: Iterable[FieldError]) -> None:
        """Show these errors on their fields; keys that are not a field or a place become form-wide errors."""
        error_dict = ErrorDict(renderer=self.renderer)

        def add(key: str, message: str) -> None:
            if key not in error_dict:
                css = None if key in self.fields else "nonfield"
                error_dict[key] = self.error_class(error_class=css, renderer=self.renderer)
            error_dict[key].append(message)

        for error in errors:
            message = PAGE_WORDS.get(error.code, error.message)
            name = str(error.path[0]) if error.path else "__all__"
            name = self.ERROR_PLACES.get(name, name)
            if name in self.ITEMS and len(error.path) > 1 and isinstance(error.path[1], int):
                # "Attachment 2: ...": the item, never the API's name of its part.
                message = f"{self.ITEMS[name]} {error.path[1] + 1}: {message}"
            elif len(error.path) > 1:
                message = f"{_where(error.path[1:])}: {message}"
            if name in self.fields or name in self.EXTRA_ERROR_KEYS or name == "__all__":
                add(name, message)
            else:  # a field this form leaves out (the user filter, for a user who may not choose one): its label
                field = self.base_fields.get(name)
                add("__all__", f"{field.label if field is not None and field.label else name}: {message}")
        self._errors = error_dict
        self.cleaned_data = {}
        for name in error_dict:
            if name in self.fields:
                bound = self[name]
                ids = [f"{bound.auto_id}_errors"] + ([f"{bound.auto_id}_helptext"] if bound.help_text else [])
                self.fields[name].widget.attrs["aria-describedby"] = " ".join(ids)

    def full_clean(self) -> None:
        # Never Django's validation; see the class docstring.
        if self._errors is None:
            self._errors = ErrorDict(renderer=self.renderer)
            self.cleaned_data = {}

    # Places that are not fields: the id the summary links to and their label, and the field they follow.
    PLACE_LABELS: Mapping[str, tuple[str, str]] = {}
    PLACE_AFTER: Mapping[str, str] = {}

    def error_summary(self) -> list[tuple[str, str, str]]:
        """(anchor id, label, message) of every error, in the form's order: the summary above the form."""
        rows = [("", "", str(message)) for message in self.non_field_errors()]
        for name, field in self.fields.items():
            rows += [(str(self[name].auto_id), str(field.label), str(m)) for m in self.errors.get(name, [])]
            for place, after in self.PLACE_AFTER.items():
                if after == name:
                    anchor, label = self.PLACE_LABELS[place]
                    rows += [(anchor, label, str(m)) for m in self.errors.get(place, [])]
        return rows

    def extra_errors(self, name: str) -> ErrorList:
        """Errors keyed by a name that is not a field ("content", "attachments")."""
        return self.errors.get(name) or self.error_class(renderer=self.renderer)


class ComposeForm(ServiceErrorsForm):
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
    sendAt = forms.DateTimeField(
        label="Send later",
        required=False,
        help_text="Leave empty to send now. In your time zone; at most 90 days ahead.",
        widget=forms.DateTimeInput(attrs={"type": "datetime-local", "step": 60}, format="%Y-%m-%dT%H:%M"),
    )
    tz = forms.CharField(required=False, widget=forms.HiddenInput(attrs={"data-time-zone": ""}))
    # One send per click: a second post with the same key answers with the first message.
    idempotencyKey = forms.CharField(required=False, widget=forms.HiddenInput())

    EXTRA_ERROR_KEYS = ("content", "attachments")
    # Too many recipients is about the To/Cc/Bcc lines: shown next to To.
    ERROR_PLACES = {"recipients": "to", "s3Attachments": "attachments", "Idempotency-Key": "__all__"}
    ITEMS = {"attachments": "Attachment"}
    PLACE_LABELS = {"content": ("field-content", "Body"), "attachments": ("attachments-card", "Attachments")}
    PLACE_AFTER = {"content": "textContent", "attachments": "sendAt"}

    def __init__(self, *args: Any, senders: Iterable[str] = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # `from` is a keyword, so the field is added here; its suggestions are the verified identities.
        self.fields["from"] = forms.CharField(
            label="From",
            required=False,
            help_text="Leave empty for the default sender. Any address at a verified domain works.",
            widget=forms.TextInput(attrs={"list": "from-identities", "autocomplete": "off", "spellcheck": "false"}),
        )
        self.order_fields(["to", "cc", "bcc", "subject", "htmlContent", "textContent", "from"])
        self.senders = list(senders)

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
        "from",
    )


class LogFilterForm(ServiceErrorsForm):
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
    templateId = forms.ChoiceField(label="Template", required=False)
    limit = forms.ChoiceField(
        label="Per page",
        required=False,
        initial="20",
        choices=[("10", "10"), ("20", "20"), ("50", "50"), ("100", "100")],
    )

    def __init__(self, *args: Any, show_users: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _choices_of_people_and_templates(self, show_users=show_users)


def _choices_of_people_and_templates(form: forms.Form, *, show_users: bool) -> None:
    """The user filter for those who see everyone's mail (gone for the others), and the template filter."""
    if show_users:
        users = get_user_model().objects.order_by("username").only("pk", "username", "first_name", "last_name")
        field = form.fields["userId"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = _blank("Any user", [(str(u.pk), u.get_full_name() or u.get_username()) for u in users])
    else:
        del form.fields["userId"]
    templates = form.fields["templateId"]
    assert isinstance(templates, forms.ChoiceField)
    templates.choices = _blank("Any template", [(str(t.pk), t.name) for t in Template.objects.only("pk", "name")])


class AnalyticsFilterForm(ServiceErrorsForm):
    """The dashboard's controls: a period (presets are links) and the log's filters."""

    startDate = forms.DateField(label="From", required=False, widget=forms.DateInput(attrs={"type": "date"}))
    endDate = forms.DateField(label="To", required=False, widget=forms.DateInput(attrs={"type": "date"}))
    tz = forms.CharField(
        label="Time zone",
        required=False,
        help_text="Days are cut in this zone.",
        widget=forms.TextInput(attrs={"list": "time-zones", "autocomplete": "off", "spellcheck": "false"}),
    )
    category = forms.ChoiceField(label="Category", required=False, choices=_blank("Any category", Category.choices))
    priority = forms.ChoiceField(label="Priority", required=False, choices=_blank("Any priority", Priority.choices))
    clientId = forms.CharField(label="Client id", required=False)
    templateId = forms.ChoiceField(label="Template", required=False)
    userId = forms.TypedChoiceField(label="User", required=False)

    def __init__(self, *args: Any, show_users: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _choices_of_people_and_templates(self, show_users=show_users)
