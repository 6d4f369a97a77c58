"""The template pages: the team's templates, and an editor with a live preview, versions, a test send and delete.

Thin: each view reads its form, calls one templating service (or the test
send), and renders. Every rule of a template is the templating wing's
(`template_save`); the preview as you type is `source_preview`, answered as
JSON to static/js/template-editor.js. Who may do what is the Django model
permissions, as for the API.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.mixins import PermissionRequiredMixin
from django.contrib.auth.models import User
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.decorators import method_decorator
from django.views import View

from core.content_policy import csp_preview_styles
from core.errors import FieldError, ValidationFailed
from emails.accepting import template_test_send
from emails.choices import Category
from emails.exceptions import TemplateEditConflict, TemplateNotFound, TemplateProtected
from emails.models import Template
from emails.pages.forms import ServiceErrorsForm
from emails.selectors import templates_all
from emails.templating import (
    TemplateDraft,
    source_preview,
    source_variables,
    template_delete,
    template_get,
    template_restore,
    template_save,
    template_versions,
)

VIEW = "emails.view_template"
ADD = "emails.add_template"
CHANGE = "emails.change_template"
DELETE = "emails.delete_template"

SOURCE_FIELDS = ("subject", "html", "text")
# The fields whose errors the live preview finds again as you type: syntax, and the sample data's JSON.
LIVE_FIELDS = (*SOURCE_FIELDS, "sampleData")


class TemplateForm(ServiceErrorsForm):
    slug = forms.CharField(
        label="Slug",
        required=False,
        help_text="What a send names the template by: lower-case letters, digits, - and _. It cannot change later.",
        widget=forms.TextInput(
            attrs={"autocomplete": "off", "spellcheck": "false", "autocapitalize": "none", "placeholder": "invoice-due"}
        ),
    )
    name = forms.CharField(label="Name", required=False, widget=forms.TextInput(attrs={"maxlength": 200}))
    category = forms.ChoiceField(
        label="Category", required=False, choices=[("", "— Choose a category —"), *Category.choices]
    )
    subject = forms.CharField(
        label="Subject",
        required=False,
        widget=forms.TextInput(attrs={"class": "mono", "spellcheck": "false", "placeholder": "Invoice {{ number }}"}),
    )
    html = forms.CharField(
        label="HTML body",
        required=False,
        help_text="Django template syntax: {{ name }}, {% if note %}…{% endif %}, {{ name|default:'there' }}. "
        "Values are HTML-escaped.",
        widget=forms.Textarea(attrs={"rows": 14, "class": "mono", "spellcheck": "false"}),
    )
    text = forms.CharField(
        label="Text body",
        required=False,
        help_text="Left empty, mail carries the HTML body's text.",
        widget=forms.Textarea(attrs={"rows": 6, "class": "mono", "spellcheck": "false"}),
    )
    sampleData = forms.CharField(
        label="Sample data",
        required=False,
        help_text="A JSON object of the variables' values, for the preview and the test send. Never saved.",
        widget=forms.Textarea(attrs={"rows": 7, "class": "mono", "spellcheck": "false"}),
    )

    def __init__(self, *args: Any, creating: bool = False, read_only: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.live_errors: dict[str, list[str]] = {name: [] for name in LIVE_FIELDS}
        if not creating:
            # Sends name the template by its slug: it is shown, never posted back.
            self.fields["slug"].widget.attrs["readonly"] = True
            self.fields["slug"].help_text = "What a send names the template by; it cannot change."
        if read_only:
            for name in ("name", *SOURCE_FIELDS):
                self.fields[name].widget.attrs["readonly"] = True
            self.fields["category"].widget.attrs["disabled"] = True
        self._describe()

    def show_errors(self, errors: Iterable[FieldError]) -> None:
        """Syntax and sample-data errors go where the live preview puts them, so they are not shown twice."""
        errors = list(errors)
        live = [e for e in errors if e.path and e.path[0] in LIVE_FIELDS and _is_live(e)]
        super().show_errors([e for e in errors if e not in live])
        for error in live:
            self.live_errors[str(error.path[0])].append(error.message)
        self._describe()

    def error_summary(self) -> list[tuple[str, str, str]]:
        rows = [("", "", str(message)) for message in self.non_field_errors()]
        for name, field in self.fields.items():
            messages_ = [str(m) for m in self.errors.get(name, [])] + self.live_errors.get(name, [])
            rows += [(str(self[name].auto_id), str(field.label), message) for message in messages_]
        return rows

    def _describe(self) -> None:
        """`aria-describedby` names the field's errors, live errors and help: only the ids the page has."""
        for name, field in self.fields.items():
            bound = self[name]
            ids = [f"{bound.auto_id}_errors"] if name in (self._errors or {}) else []
            ids += [f"{bound.auto_id}_live"] if self.live_errors.get(name) else []
            ids += [f"{bound.auto_id}_helptext"] if field.help_text else []
            if ids:
                field.widget.attrs["aria-describedby"] = " ".join(ids)
            if name in (self._errors or {}) or self.live_errors.get(name):
                field.widget.attrs["aria-invalid"] = "true"


def _is_live(error: FieldError) -> bool:
    return error.code == "template_syntax" or error.path[0] == "sampleData"


def _value(data: Mapping[str, Any], name: str) -> str:
    # Browsers post a textarea's line breaks as CRLF; the template keeps what was typed.
    return str(data.get(name, "")).replace("\r\n", "\n")


def _draft(data: QueryDict, *, creating: bool) -> TemplateDraft:
    return TemplateDraft(
        slug=data.get("slug", "") if creating else None,
        name=_value(data, "name"),
        category=data.get("category", ""),
        subject=_value(data, "subject"),
        html=_value(data, "html"),
        text=_value(data, "text"),
    )


def sample_data_parse(raw: str) -> tuple[dict[str, Any], list[FieldError]]:
    """The sample data typed as JSON, or why it cannot be used (an error on its field)."""
    if not raw.strip():
        return {}, []
    try:
        value = json.loads(raw)
    except ValueError as exc:
        return {}, [FieldError(("sampleData",), f"Enter valid JSON: {exc}.", "json_invalid")]
    if not isinstance(value, dict):
        return {}, [FieldError(("sampleData",), 'Enter a JSON object, like {"name": "Jane"}.', "json_object")]
    return value, []


def sample_data_for(variables: Sequence[Mapping[str, Any]]) -> str:
    """Sample data to start from: each variable with a placeholder that shows where it lands ("[name]")."""
    names = [str(v["name"]) for v in variables if isinstance(v, Mapping) and v.get("name")]
    return json.dumps({name: f"[{name}]" for name in names}, indent=2, ensure_ascii=False)


def _template(slug: str) -> Template:
    try:
        return template_get(slug=slug)
    except TemplateNotFound:
        raise Http404("No such template.") from None


def _user(request: HttpRequest) -> User:
    assert isinstance(request.user, User)  # PermissionRequiredMixin let only a signed-in user in
    return request.user


class TemplateListView(PermissionRequiredMixin, View):
    permission_required = VIEW

    def get(self, request: HttpRequest) -> HttpResponse:
        templates = templates_all()
        context = {"templates": templates, "can_add": request.user.has_perm(ADD)}
        return render(request, "emails/templates_list.html", context)


def editor_render(
    request: HttpRequest, form: TemplateForm, *, template: Template | None, status: int = 200, refused: str = ""
) -> HttpResponse:
    """The editor page; its variables panel shows the source as the form holds it, `refused` heads its errors."""
    if form.is_bound:
        source = {name: _value(form.data, name) for name in SOURCE_FIELDS}
        variables = [v.as_dict() for v in source_variables(**source)]
    else:
        variables = list(template.variables or []) if template is not None else []
    context = {
        "form": form,
        "template": template,
        "variables": variables,
        "versions": template_versions(template=template) if template is not None else [],
        "can_save": request.user.has_perm(CHANGE if template is not None else ADD),
        "can_delete": template is not None and not template.is_system and request.user.has_perm(DELETE),
        "test_address": _user(request).email,
        "refused": refused or ("Nothing was saved." if template is not None else "The template was not created."),
    }
    return render(request, "emails/template_edit.html", context, status=status)


@method_decorator(csp_preview_styles, name="dispatch")  # its preview: an email's style attributes
class TemplateNewView(PermissionRequiredMixin, View):
    permission_required = ADD

    def get(self, request: HttpRequest) -> HttpResponse:
        return editor_render(request, TemplateForm(creating=True, initial={"sampleData": "{}"}), template=None)

    def post(self, request: HttpRequest) -> HttpResponse:
        form = TemplateForm(data=request.POST, creating=True)
        try:
            template = template_save(draft=_draft(request.POST, creating=True), by=_user(request))
        except ValidationFailed as exc:
            form.show_errors(exc.errors)
            return editor_render(request, form, template=None, status=400)
        messages.success(request, f"Template \u201c{template.name}\u201d created (version 1).")
        return redirect("emails:template-edit", slug=template.slug)


@method_decorator(csp_preview_styles, name="dispatch")  # its preview: an email's style attributes
class TemplateEditView(PermissionRequiredMixin, View):
    def get_permission_required(self) -> Sequence[str]:
        return (VIEW, CHANGE) if self.request.method == "POST" else (VIEW,)

    def get(self, request: HttpRequest, slug: str) -> HttpResponse:
        template = _template(slug)
        initial = {name: getattr(template, name) for name in ("slug", "name", "category", *SOURCE_FIELDS)}
        initial["sampleData"] = sample_data_for(template.variables or [])
        form = TemplateForm(initial=initial, read_only=not request.user.has_perm(CHANGE))
        return editor_render(request, form, template=template)

    def post(self, request: HttpRequest, slug: str) -> HttpResponse:
        template = _template(slug)
        form = TemplateForm(data=_with_slug(request.POST, template))
        edited_from = request.POST.get("version", "")
        try:
            saved = template_save(
                draft=_draft(request.POST, creating=False),
                by=_user(request),
                template=template,
                expected_version=int(edited_from) if edited_from.isdigit() else None,
            )
        except ValidationFailed as exc:
            form.show_errors(exc.errors)
            return editor_render(request, form, template=template, status=400)
        except TemplateEditConflict as exc:
            # Someone saved meanwhile: the page keeps what was typed and says so; a second save builds on theirs.
            form.show_errors([FieldError(path=(), message=str(exc))])
            return editor_render(request, form, template=_template(slug), status=409)
        messages.success(request, f"Saved as version {saved.version}.")
        return redirect("emails:template-edit", slug=saved.slug)


def _with_slug(data: QueryDict, template: Template) -> QueryDict:
    """The posted form with the template's own slug (a read-only field a page may have altered)."""
    data = data.copy()
    data["slug"] = template.slug
    return data


class TemplatePreviewView(PermissionRequiredMixin, View):
    """The editor's preview as you type: an unsaved source rendered with the sample data, as JSON."""

    permission_required = VIEW
    # The page's script asks: refuse it plainly rather than answer with the login page.
    raise_exception = True
    http_method_names = ["post"]

    def post(self, request: HttpRequest) -> JsonResponse:
        source = {name: _value(request.POST, name) for name in SOURCE_FIELDS}
        data, problems = sample_data_parse(request.POST.get("sampleData", ""))
        rendered, errors = source_preview(**source, data=data)
        errors += problems
        shown = rendered if rendered is not None and not errors else None
        return JsonResponse(
            {
                "subject": shown.subject if shown else None,
                "html": shown.html if shown else None,
                "text": shown.text if shown else None,
                "variables": [v.as_dict() for v in source_variables(**source)],
                "errors": [{"field": str(e.path[0]) if e.path else "", "message": e.message} for e in errors],
            }
        )


class TemplateRestoreView(PermissionRequiredMixin, View):
    permission_required = (VIEW, CHANGE)
    http_method_names = ["post"]

    def post(self, request: HttpRequest, slug: str) -> HttpResponse:
        template = _template(slug)
        number = request.POST.get("version", "")
        if not number.isdigit():
            raise Http404("No such version.")
        try:
            restored = template_restore(template=template, number=int(number), by=_user(request))
        except TemplateNotFound:
            raise Http404("No such version.") from None
        except ValidationFailed as exc:  # an old version may break a rule made since
            messages.error(request, f"Version {number} cannot be restored: {_sentence(exc.errors)}")
        else:
            messages.success(request, f"Version {number} restored as version {restored.version}.")
        return redirect("emails:template-edit", slug=template.slug)


@method_decorator(csp_preview_styles, name="dispatch")  # its preview: an email's style attributes
class TemplateTestView(PermissionRequiredMixin, View):
    """A test send of the saved template to oneself; the editor comes back as posted, unsaved edits and all."""

    permission_required = VIEW
    http_method_names = ["post"]

    def post(self, request: HttpRequest, slug: str) -> HttpResponse:
        template = _template(slug)
        user = _user(request)
        form = TemplateForm(data=_with_slug(request.POST, template), read_only=not user.has_perm(CHANGE))
        data, problems = sample_data_parse(request.POST.get("sampleData", ""))
        if problems:
            form.show_errors(problems)
            return editor_render(request, form, template=template, status=400, refused="The test was not sent.")
        try:
            template_test_send(owner=user, template=template, data=data)
        except ValidationFailed as exc:
            messages.error(request, f"The test was not sent. {_sentence(exc.errors)}")
            return editor_render(request, form, template=template, status=400)
        messages.success(request, f"A test of version {template.version} is queued to {user.email}.")
        return editor_render(request, form, template=template)


def _sentence(errors: Sequence[FieldError]) -> str:
    """A test send's or a restore's problems for people: missing variables named, the rest as the service says."""
    missing = [str(e.path[1]) for e in errors if e.code == "variable_missing" and len(e.path) > 1]
    parts = [e.message for e in errors if not (e.code == "variable_missing" and len(e.path) > 1)]
    if missing:
        names = ", ".join(f"\u201c{name}\u201d" for name in missing)
        noun = "a value" if len(missing) == 1 else "values"
        parts.insert(0, f"The sample data needs {noun} for {names} (required by the template).")
    return " ".join(part if part.endswith(".") else f"{part}." for part in parts)


class TemplateDeleteView(PermissionRequiredMixin, View):
    permission_required = (VIEW, DELETE)
    http_method_names = ["post"]

    def post(self, request: HttpRequest, slug: str) -> HttpResponse:
        template = _template(slug)
        try:
            template_delete(template=template)
        except TemplateProtected as exc:
            messages.error(request, str(exc))
            return redirect("emails:template-edit", slug=template.slug)
        messages.success(request, f"Template \u201c{template.name}\u201d deleted.")
        return redirect(reverse("emails:templates"))
