"""Stored templates: saving one (every rule at once, its syntax checked, its variables found), its versions, previews.

Whoever edits a template (the API, the editor page, the admin) saves it
through `template_save`; nothing else writes a template's content. Every
save keeps a TemplateVersion, and a restore is a save of an old version's
content, so the history only grows.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth.models import User
from django.db import IntegrityError, transaction

from core.errors import FieldError, FieldErrors
from core.text import text_problem
from emails.choices import Category
from emails.exceptions import EmailRenderError, TemplateEditConflict, TemplateNotFound, TemplateProtected
from emails.models import Template, TemplateVersion
from emails.templating.rendering import Rendered, email_render, html_sanitise
from emails.templating.source import SourceError, Variable, source_compile, variables_of

MAX_SLUG = 100
MAX_NAME = 200
MAX_SUBJECT = 200
MAX_BODY = 50_000
REQUIRED = "This field is required."
_SLUG = re.compile(r"^[a-z0-9]+(?:[-_][a-z0-9]+)*$")
# Paths of the template pages (/templates/new) that a slug would hide.
RESERVED_SLUGS = frozenset({"new"})
CONTENT = ("name", "subject", "html", "text", "category")


@dataclass(frozen=True)
class TemplateDraft:
    """A template as its editor asked for it; a field left None keeps what the template has (a PATCH)."""

    slug: str | None = None
    name: str | None = None
    subject: str | None = None
    html: str | None = None
    text: str | None = None
    category: str | None = None
    problems: Sequence[FieldError] = field(default=())


def template_get(*, slug: str) -> Template:
    template = Template.objects.select_related("updated_by").filter(slug=slug).first()
    if template is None:
        raise TemplateNotFound(f"No template {slug[:MAX_SLUG]!r}.")
    return template


def template_check(
    *, draft: TemplateDraft, template: Template | None = None, partial: bool = False
) -> tuple[str, dict[str, str], list[dict[str, Any]]]:
    """Every rule of a save, nothing written: (slug, the content fields, the variables); ValidationFailed otherwise.

    A full save (PUT, the editor) needs every field; a partial one (PATCH)
    keeps the fields it leaves out. The slug is what sends name, so it is
    set once: a different one on an update is refused.
    """
    errors = FieldErrors(draft.problems)
    current: dict[str, str] = {name: getattr(template, name) for name in CONTENT} if template is not None else {}
    values: dict[str, str] = {}
    for name in CONTENT:
        given = getattr(draft, name)
        if given is None and partial and template is not None:
            values[name] = current[name]
        else:
            values[name] = given if given is not None else ""
    slug = _slug(errors, draft.slug, template)
    _line(errors, "name", values["name"].strip(), MAX_NAME)
    _line(errors, "subject", values["subject"].strip(), MAX_SUBJECT)
    for name in ("html", "text"):
        if not errors.has(name) and (problem := text_problem(values[name]) or _too_long(values[name], MAX_BODY)):
            errors.add((name,), problem)
    if not values["html"].strip() and not values["text"].strip() and not errors.has("html") and not errors.has("text"):
        errors.add(("html",), "Give the template an HTML body, a text body, or both.", "content_missing")
    if not errors.has("category") and values["category"] not in Category.values:
        message = REQUIRED if not values["category"] else f'"{values["category"][:100]}" is not a valid choice.'
        errors.add(("category",), message, "choice_invalid")
    variables = _compiled_variables(errors, values)
    errors.raise_any()
    values["name"], values["subject"] = values["name"].strip(), values["subject"].strip()
    return slug, values, [v.as_dict() for v in variables]


def template_save(
    *,
    draft: TemplateDraft,
    by: User | None,
    template: Template | None = None,
    partial: bool = False,
    note: str = "",
    expected_version: int | None = None,
) -> Template:
    """Create a template (`template` None) or save a new version of one, by `template_check`'s rules.

    An update locks the template's row first and checks against it, so two
    saves at once each build on the other (a PATCH keeps what the other just
    wrote). With `expected_version` (the version the editor started from),
    a save over someone else's newer version is a TemplateEditConflict.
    """
    with transaction.atomic():
        if template is not None:
            template = Template.objects.select_for_update().get(pk=template.pk)
            if expected_version is not None and expected_version != template.version:
                raise TemplateEditConflict(
                    f"{template.name!r} was saved as version {template.version} since you opened version "
                    f"{expected_version}: reload it, then make your change again."
                )
        slug, values, variables_data = template_check(draft=draft, template=template, partial=partial)
        if template is None:
            template = Template(slug=slug, version=1)
            note = note or "Created"
        else:
            template.version += 1
            note = note or "Edited"
        for name, value in values.items():
            setattr(template, name, value)
        template.variables = variables_data
        template.updated_by = by
        try:
            with transaction.atomic():
                template.save()
        except IntegrityError:
            # Another editor created the same slug a moment ago.
            FieldErrors([FieldError(("slug",), "A template with this slug already exists.", "unique")]).raise_any()
        TemplateVersion.objects.create(
            template=template, number=template.version, variables=variables_data, note=note, created_by=by, **values
        )
    return template


def template_restore(*, template: Template, number: int, by: User | None) -> Template:
    """Save an old version's content as the newest version."""
    version = TemplateVersion.objects.filter(template=template, number=number).first()
    if version is None:
        raise TemplateNotFound(f"Template {template.slug!r} has no version {number}.")
    draft = TemplateDraft(**{name: getattr(version, name) for name in CONTENT})
    return template_save(draft=draft, by=by, template=template, note=f"Restored version {number}")


def template_delete(*, template: Template) -> None:
    """Delete a template and its history; mail already sent keeps its content. System templates stay."""
    if template.is_system:
        raise TemplateProtected(f"{template.name!r} is a system template: it can be edited, not deleted.")
    template.delete()


def template_versions(*, template: Template) -> list[TemplateVersion]:
    return list(TemplateVersion.objects.filter(template=template).select_related("created_by").order_by("-number"))


def template_missing(*, template: Template, data: Mapping[str, Any]) -> list[str]:
    """The required variables `data` leaves out (absent, None or blank), in the template's order."""
    missing = []
    for variable in template.variables or []:
        if not isinstance(variable, dict) or not variable.get("required"):
            continue
        name = str(variable.get("name", ""))
        value = data.get(name)
        if value is None or (isinstance(value, str) and not value.strip()):
            missing.append(name)
    return missing


def template_preview(*, subject: str, html: str, text: str, data: dict[str, Any]) -> Rendered:
    """A template rendered as it would be sent, the HTML sanitised as the message page shows it."""
    rendered = email_render(subject=subject, html=html, text=text, data=data)
    return Rendered(subject=rendered.subject, html=html_sanitise(rendered.html), text=rendered.text)


def source_preview(
    *, subject: str, html: str, text: str, data: dict[str, Any]
) -> tuple[Rendered | None, list[FieldError]]:
    """An unsaved source's preview (the editor, as you type) and its syntax problems, each at its field."""
    errors = FieldErrors()
    _compiled_variables(errors, {"subject": subject, "html": html, "text": text})
    if len(errors):
        return None, list(errors)
    try:
        return template_preview(subject=subject, html=html, text=text, data=data), []
    except EmailRenderError as exc:
        return None, [FieldError(("html",), str(exc), "render_failed")]


def source_variables(*, subject: str, html: str, text: str) -> list[Variable]:
    """The variables of an unsaved source (none where it does not compile)."""
    return _compiled_variables(FieldErrors(), {"subject": subject, "html": html, "text": text})


def _compiled_variables(errors: FieldErrors, values: Mapping[str, str]) -> list[Variable]:
    compiled = []
    for name in ("subject", "html", "text"):
        if errors.has(name) or not values.get(name):
            continue
        result = source_compile(values[name])
        if isinstance(result, SourceError):
            errors.add((name,), f"Template syntax error: {result}", "template_syntax")
        else:
            compiled.append(result)
    return variables_of(compiled)


def _slug(errors: FieldErrors, given: str | None, template: Template | None) -> str:
    if template is not None:
        if given is not None and given != template.slug and not errors.has("slug"):
            errors.add(("slug",), "The slug cannot change: sends name the template by it.", "slug_fixed")
        return template.slug
    slug = (given or "").strip()
    if errors.has("slug"):
        return slug
    if not slug:
        errors.add(("slug",), REQUIRED, "required")
    elif len(slug) > MAX_SLUG:
        errors.add(("slug",), f"Ensure this field has no more than {MAX_SLUG} characters.")
    elif not _SLUG.match(slug):
        errors.add(("slug",), "Use lower-case letters, digits, and single hyphens or underscores between them.")
    elif slug in RESERVED_SLUGS:
        errors.add(("slug",), f"“{slug}” is reserved: choose another slug.")
    elif Template.objects.filter(slug=slug).exists():
        errors.add(("slug",), "A template with this slug already exists.", "unique")
    return slug


def _line(errors: FieldErrors, name: str, value: str, limit: int) -> None:
    if errors.has(name):
        return
    if not value:
        errors.add((name,), REQUIRED, "required")
    elif problem := text_problem(value, single_line=True) or _too_long(value, limit):
        errors.add((name,), problem)


def _too_long(value: str, limit: int) -> str | None:
    return f"Ensure this field has no more than {limit} characters." if len(value) > limit else None
