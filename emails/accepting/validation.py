"""Every rule a send must pass, whoever asks for it: the API, the composer, a command, a bulk send.

`email_request_check` reads an EmailDraft and either returns the checked
EmailRequest that `email_queue` stores, or raises ValidationFailed with every
problem it found at once, each at its field's path in the seeds' request
vocabulary (`to`, `htmlContent`, `s3Attachments`, ...). Rendering the
template is part of the check, so a broken template is a field error too.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth.models import User
from django.utils import timezone

from core.errors import FieldErrors
from core.text import json_problems, text_problem, uuid_parse
from emails.accepting.addresses import Address, address_entries, address_parse, reply_to_problem
from emails.accepting.attachment_checks import attachments_check, raw_size_check
from emails.accepting.attachments import AttachmentSpec
from emails.accepting.draft import EmailDraft, Recipients
from emails.choices import Category, Priority
from emails.exceptions import EmailRenderError
from emails.models import Template
from emails.senders import sender_check
from emails.templating import Rendered, email_render, template_missing

MAX_PER_FIELD = 50
MAX_RECIPIENTS = 100
MAX_SUBJECT = 200
MAX_BODY = 50_000
MAX_TEMPLATE_ID = 100
MAX_CLIENT_ID = 100
MAX_TAGS = 50
MAX_TAG_LENGTH = 256
MAX_IDEMPOTENCY_KEY = 255
MAX_SCHEDULE_AHEAD = timedelta(days=90)
REQUIRED = "This field is required."


def _too_long(limit: int) -> str:
    return f"Ensure this field has no more than {limit} characters."


@dataclass(frozen=True)
class EmailRequest:
    """A send that passed every rule, rendered: what `email_queue` stores. Made by `email_request_check` only."""

    to: list[Address]
    cc: list[Address]
    bcc: list[Address]
    rendered: Rendered
    template: Template | None
    template_data: dict[str, Any]
    category: str
    priority: str
    reply_to: str
    from_email: str
    send_at: datetime | None
    client_id: str
    tags: dict[str, str]
    custom_data: dict[str, Any]
    attachments: list[AttachmentSpec]

    @property
    def recipient_count(self) -> int:
        return len(self.to) + len(self.cc) + len(self.bcc)

    def fingerprint(self) -> str:
        """What an Idempotency-Key's replay compares: the same checked request, however it was spelled."""
        data = {
            "recipients": [[(a.address, a.name) for a in kind] for kind in (self.to, self.cc, self.bcc)],
            "rendered": [self.rendered.subject, self.rendered.html, self.rendered.text],
            "template": str(self.template.pk) if self.template else None,
            "template_data": self.template_data,
            "fields": [self.category, self.priority, self.reply_to, self.from_email, self.client_id],
            "send_at": self.send_at.isoformat() if self.send_at else None,
            "tags": self.tags,
            "custom_data": self.custom_data,
            "attachments": [str(spec) for spec in self.attachments],
        }
        return hashlib.sha256(json.dumps(data, sort_keys=True, default=str).encode()).hexdigest()


def email_request_check(*, owner: User, draft: EmailDraft, files_of: User | None = None) -> EmailRequest:
    """The checked, rendered request; ValidationFailed with every problem of the draft otherwise.

    Stored attachments are the owner's (or public) files, or `files_of`'s
    when a resend attaches its original's.
    """
    errors = FieldErrors(draft.problems)
    to, cc, bcc = (_recipients(errors, name, value) for name, value in (("to", draft.to), ("cc", draft.cc),
                                                                          ("bcc", draft.bcc)))  # fmt: skip
    if not to and not errors.has("to"):
        errors.add(("to",), REQUIRED, "required")
    if len(to) + len(cc) + len(bcc) > MAX_RECIPIENTS:
        errors.add(("recipients",), f"Total recipients cannot exceed {MAX_RECIPIENTS}.", "recipients_too_many")
    to, cc, bcc = _dedupe(to, cc, bcc)

    template = _template(errors, draft.template)
    subject = _single_line(errors, "subject", draft.subject.strip(), MAX_SUBJECT)
    if not subject and not draft.template and not errors.has("subject"):
        errors.add(("subject",), REQUIRED, "required")
    html = _body(errors, "htmlContent", draft.html)
    text = _body(errors, "textContent", draft.text)
    if (
        not (draft.html or draft.text or draft.template)
        and not errors.has("htmlContent")
        and not errors.has("textContent")
    ):
        errors.add(
            ("content",), "Either htmlContent or textContent (or a templateId) must be provided.", "content_missing"
        )
    template_data = _data(errors, "templateData", draft.template_data)
    custom_data = _data(errors, "customData", draft.custom_data)
    tags = _tags(errors, draft.tags)
    category = _choice(errors, "category", draft.category, Category.values, required=True)
    priority = _choice(errors, "priority", draft.priority or Priority.NORMAL, Priority.values)
    reply_to = _reply_to(errors, draft.reply_to)
    from_email = _from(errors, draft.from_email)
    send_at = _send_at(errors, draft.send_at)
    client_id = _single_line(errors, "clientId", draft.client_id.strip(), MAX_CLIENT_ID)
    attachments = attachments_check(errors, owner=files_of or owner, draft=draft)
    if attachments:
        raw_size_check(errors, draft=draft, template=template, template_data=template_data, attachments=attachments)

    rendered = None
    content_fields = ("subject", "htmlContent", "textContent", "templateId", "templateData", "content")
    if template is not None and not errors.has("templateData"):
        for name in template_missing(template=template, data=template_data):
            errors.add(("templateData", name), f"The template {template.slug!r} needs {name!r}.", "variable_missing")
    if not any(errors.has(name) for name in content_fields):
        rendered = _render(errors, subject, html, text, template, template_data)
    errors.raise_any()
    assert rendered is not None  # no error, so rendering ran and succeeded
    return EmailRequest(
        to=to, cc=cc, bcc=bcc, rendered=rendered, template=template, template_data=template_data,
        category=category, priority=priority, reply_to=reply_to.lower(), from_email=from_email, send_at=send_at,
        client_id=client_id, tags=tags,
        custom_data=custom_data, attachments=attachments,
    )  # fmt: skip


@dataclass(frozen=True)
class SharedFields:
    """The fields a bulk shares across its messages, checked by the same rules as one send's."""

    template: Template | None
    category: str
    priority: str
    reply_to: str
    from_email: str
    send_at: datetime | None
    tags: dict[str, str]


def shared_fields_check(
    errors: FieldErrors,
    *,
    template: str,
    category: str,
    priority: str,
    reply_to: str,
    from_email: str,
    send_at: str,
    tags: dict[str, Any],
) -> SharedFields:
    """A bulk's common fields, each problem added to `errors` at its path (the caller raises)."""
    return SharedFields(
        template=_template(errors, template),
        category=_choice(errors, "category", category, Category.values, required=True),
        priority=_choice(errors, "priority", priority or Priority.NORMAL, Priority.values) or Priority.NORMAL,
        reply_to=_reply_to(errors, reply_to).lower(),
        from_email=_from(errors, from_email),
        send_at=_send_at(errors, send_at),
        tags=_tags(errors, tags),
    )


def row_problems(*, client_id: str, tags: dict[str, Any], template_data: dict[str, Any]) -> list[str]:
    """What is wrong with one bulk row's own fields (its client id, tags and data), in words; [] if nothing."""
    errors = FieldErrors()
    if client_id:  # most rows have neither, and need no call for them
        _single_line(errors, "clientId", client_id.strip(), MAX_CLIENT_ID)
    if tags:
        _tags(errors, tags)
    _data(errors, "templateData", template_data)
    return [f"{'.'.join(map(str, e.path))}: {e.message}" for e in errors] if errors else []


def body_check(errors: FieldErrors, name: str, value: str, *, single_line: bool = False) -> str:
    """A subject or body given inline (a bulk's), by one send's rules."""
    if single_line:
        return _single_line(errors, name, value.strip(), MAX_SUBJECT)
    return _body(errors, name, value)


def idempotency_key_check(key: str) -> None:
    errors = FieldErrors()
    if len(key) > MAX_IDEMPOTENCY_KEY:
        errors.add(("Idempotency-Key",), f"At most {MAX_IDEMPOTENCY_KEY} characters.")
    elif problem := text_problem(key, single_line=True):
        errors.add(("Idempotency-Key",), problem)
    errors.raise_any()


def _recipients(errors: FieldErrors, name: str, value: Recipients) -> list[Address]:
    if errors.has(name):
        return []
    if isinstance(value, str):
        entries: list[tuple[tuple[str | int, ...], str]] = [((name,), entry) for entry in address_entries(value)]
    else:
        entries = [((name, index), item) for index, item in enumerate(value)]
    found = []
    for path, entry in entries:
        try:
            found.append(address_parse(entry))
        except ValueError as exc:
            errors.add(path, str(exc), "address_invalid")
    if len(found) > MAX_PER_FIELD:
        errors.add((name,), f"At most {MAX_PER_FIELD} addresses.", "field_too_many")
    return found


def _dedupe(*fields: list[Address]) -> list[list[Address]]:
    """An address given twice gets one copy, in the first field it appears in (To, then Cc, then Bcc)."""
    seen: set[str] = set()
    result = []
    for addresses in fields:
        kept = []
        for item in addresses:
            if item.address not in seen:
                seen.add(item.address)
                kept.append(item)
        result.append(kept)
    return result


def _single_line(errors: FieldErrors, name: str, value: str, limit: int) -> str:
    if errors.has(name):
        return ""
    if problem := text_problem(value, single_line=True):
        errors.add((name,), problem)
    elif len(value) > limit:
        errors.add((name,), _too_long(limit))
    return value


def _body(errors: FieldErrors, name: str, value: str) -> str:
    if errors.has(name):
        return ""
    if problem := text_problem(value):
        errors.add((name,), problem)
    elif len(value) > MAX_BODY:
        errors.add((name,), _too_long(MAX_BODY))
    return value


def _template(errors: FieldErrors, value: str) -> Template | None:
    if not value or errors.has("templateId"):
        return None
    if len(value) > MAX_TEMPLATE_ID or text_problem(value, single_line=True):
        errors.add(("templateId",), f"No template {value[:MAX_TEMPLATE_ID]!r}.")
        return None
    lookup = {"pk": value} if uuid_parse(value) is not None else {"slug": value}
    template = Template.objects.filter(**lookup).first()
    if template is None:
        errors.add(("templateId",), f"No template {value!r}.", "template_unknown")
    return template


def _data(errors: FieldErrors, name: str, value: dict[str, Any]) -> dict[str, Any]:
    if errors.has(name):
        return {}
    for path, problem in json_problems(
        value, max_bytes=settings.EMAIL_DATA_MAX_BYTES, max_depth=settings.EMAIL_DATA_MAX_DEPTH
    ):
        errors.add((name, *path), problem)
    return value


def _tags(errors: FieldErrors, value: dict[str, Any]) -> dict[str, str]:
    if errors.has("tags"):
        return {}
    if len(value) > MAX_TAGS:
        errors.add(("tags",), f"At most {MAX_TAGS} tags.")
        return {}
    tags: dict[str, str] = {}
    for key, tag in value.items():
        if text_problem(str(key), single_line=True):
            errors.add(("tags",), "A tag's name must be one line, without control characters or unpaired surrogates.")
        elif not isinstance(tag, str):
            errors.add(("tags", key), "Not a valid string.")
        elif problem := text_problem(tag):
            errors.add(("tags", key), problem)
        elif len(tag) > MAX_TAG_LENGTH:
            errors.add(("tags", key), _too_long(MAX_TAG_LENGTH))
        else:
            tags[str(key)] = tag
    return tags


def _choice(errors: FieldErrors, name: str, value: str, choices: Sequence[str], *, required: bool = False) -> str:
    if errors.has(name):
        return ""
    if not value:
        if required:
            errors.add((name,), REQUIRED, "required")
        return value
    if value not in choices:
        errors.add((name,), f'"{value[:100]}" is not a valid choice.', "choice_invalid")
    return value


def _reply_to(errors: FieldErrors, value: str) -> str:
    value = value.strip()
    if value and not errors.has("replyTo") and (problem := reply_to_problem(value)):
        errors.add(("replyTo",), problem, "address_invalid")
    return value


def _from(errors: FieldErrors, value: str) -> str:
    if errors.has("from"):
        return ""
    if value.strip() == settings.DEFAULT_FROM_EMAIL:
        return settings.DEFAULT_FROM_EMAIL  # the configured sender, as a resend carries it over
    sender, problem = sender_check(value)
    if problem:
        errors.add(("from",), problem, "sender_unverified")
    return sender


def send_at_parse(value: str) -> datetime:
    """A reschedule's new time, by the same rule as a send's `sendAt`; ValidationFailed otherwise."""
    errors = FieldErrors()
    when = _send_at(errors, value)
    if when is None and not errors.has("sendAt"):
        errors.add(("sendAt",), REQUIRED, "required")
    errors.raise_any()
    assert when is not None
    return when


def _send_at(errors: FieldErrors, value: str) -> datetime | None:
    """When a scheduled send is due: ISO 8601 with an offset or Z, in the future, at most 90 days ahead."""
    value = value.strip()
    if not value or errors.has("sendAt"):
        return None
    try:
        when = datetime.fromisoformat(value)
    except ValueError:
        errors.add(("sendAt",), "Enter a date and time in ISO 8601, with an offset or Z (2026-12-24T09:00:00+01:00).")
        return None
    if when.tzinfo is None or when.utcoffset() is None:
        errors.add(("sendAt",), "Give the time's offset or Z, so it names one moment (2026-12-24T09:00:00Z).")
        return None
    now = timezone.now()
    if when <= now:
        errors.add(("sendAt",), "This time has passed: give a time in the future.", "send_at_past")
    elif when > now + MAX_SCHEDULE_AHEAD:
        errors.add(("sendAt",), f"At most {MAX_SCHEDULE_AHEAD.days} days ahead.", "send_at_too_far")
    return when


def _render(
    errors: FieldErrors, subject: str, html: str, text: str, template: Template | None, data: dict[str, Any]
) -> Rendered | None:
    try:
        if template is not None:
            return email_render(subject=subject or template.subject, html=template.html, text=template.text, data=data)
        return email_render(subject=subject, html=html, text=text)
    except EmailRenderError as exc:
        errors.add(("content",), f"The template could not be rendered: {exc}", "render_failed")
        return None
