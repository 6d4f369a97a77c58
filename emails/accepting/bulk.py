"""Accepting a bulk: one request to many people becomes one stored, queued message per person, personalised.

The request as a whole is checked first, by the same rules as one send
(category, priority, reply-to, from, sendAt, tags, the template or the
inline content); a request bad as a whole stores nothing. Then each row:
a bad address, a missing required variable, a duplicate or bad data skips
that row, reported by its index, and never the others. The template is
compiled once for the whole bulk (`Compiled`), and rows are rendered and
written in chunks, one transaction per chunk, so memory stays flat however
many rows come (a CSV file is read as a stream).

Suppressed addresses are accepted: the worker ends them `suppressed`, as for
any send, so the report shows them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, NamedTuple

from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone

from core.errors import FieldErrors
from core.ids import uuid7_many
from core.sql import RowsWriter
from core.text import text_problem
from emails.accepting.addresses import address_parse
from emails.accepting.bulk_csv import csv_header_problem, csv_rows
from emails.accepting.draft import BulkDraft, BulkRow
from emails.accepting.validation import SharedFields, body_check, row_problems, shared_fields_check
from emails.choices import MessageStatus, RecipientKind
from emails.exceptions import EmailRenderError
from emails.models import Bulk, Message, Recipient
from emails.scheduling import email_drain_schedule
from emails.templating import Compiled, Rendered, html_sanitise

MAX_BULK_RECIPIENTS = 100_000
MAX_NAME = 200
MAX_SUBJECT = 200
CHUNK = 1_000


@dataclass(frozen=True)
class Skipped:
    index: int
    to: str
    reason: str

    def as_dict(self) -> dict[str, Any]:
        return {"index": self.index, "to": self.to, "reason": self.reason}


@dataclass(frozen=True)
class _Checked:
    name: str
    shared: SharedFields
    compiled: Compiled
    rows: Iterable[BulkRow]
    count: int


def _check(owner: User, draft: BulkDraft) -> _Checked:
    """Every rule of the bulk as a whole; ValidationFailed with all its problems."""
    errors = FieldErrors(draft.problems)
    name = draft.name.strip()
    if not name:
        errors.add(("name",), "This field is required.", "required")
    elif len(name) > MAX_NAME:
        errors.add(("name",), f"Ensure this field has no more than {MAX_NAME} characters.")
    shared = shared_fields_check(
        errors, template=draft.template, category=draft.category, priority=draft.priority, reply_to=draft.reply_to,
        from_email=draft.from_email, send_at=draft.send_at, tags=draft.tags,
    )  # fmt: skip
    compiled = _compiled(errors, draft, shared.template)
    rows = _rows(errors, owner, draft)
    count = _row_count(errors, rows)
    errors.raise_any()
    assert compiled is not None and rows is not None  # no error, so both are there
    return _Checked(name=name, shared=shared, compiled=compiled, rows=rows, count=count)


@dataclass(frozen=True)
class PreviewRow:
    index: int
    to: str
    subject: str = ""
    html: str = ""
    text: str = ""
    skipped: str = ""  # why the row would be skipped


def bulk_preview(*, owner: User, draft: BulkDraft, rows: int = 3) -> list[PreviewRow]:
    """The first rows as they would go out (or why they would be skipped); nothing is stored. The bulk page's."""
    checked = _check(owner, draft)
    seen: set[str] = set()
    shown: list[PreviewRow] = []
    for index, row in enumerate(checked.rows):
        if index >= rows:
            break
        problem, built = _row(index, row, seen, checked.compiled, bodies=True)
        if problem is not None:
            shown.append(PreviewRow(index=index, to=problem.to, skipped=problem.reason))
            continue
        assert built is not None
        to = Recipient(address=built.address, display_name=built.name).formatted()
        # Sanitised as the message page shows HTML: a preview is a page, and the data is anyone's CSV.
        shown.append(PreviewRow(index=index, to=to, subject=built.subject, html=html_sanitise(built.html),
                                text=built.text))  # fmt: skip
    return shown


def bulk_accept(*, owner: User, draft: BulkDraft, progress: Callable[[int, int], None] | None = None) -> Bulk:
    """Check the bulk, then store one queued (or scheduled) message per good row; ValidationFailed if bad as a whole.

    `progress(done, total)` is told after each chunk (a command's progress bar).
    """
    checked = _check(owner, draft)
    name, shared, compiled, rows, count = checked.name, checked.shared, checked.compiled, checked.rows, checked.count
    template = shared.template
    # Bodies that are the data's alone are rendered again when read, not stored 100,000 times (templating.bodies).
    store_bodies = not compiled.bodies_repeatable
    subject_source, html_source, text_source = compiled.sources
    bulk = Bulk.objects.create(
        owner=owner, name=name, template=template, template_version=template.version if template else None,
        category=shared.category, priority=shared.priority, send_at=shared.send_at, total=count,
        subject_source=subject_source, html_source=html_source, text_source=text_source, provided=compiled.provided,
        bodies_stored=store_bodies,
    )  # fmt: skip
    status = MessageStatus.SCHEDULED if shared.send_at else MessageStatus.QUEUED
    base = Message(
        bulk=bulk, owner=owner, from_email=shared.from_email, reply_to=shared.reply_to, category=shared.category,
        priority=shared.priority, status=status, send_after=shared.send_at, template=template,
        template_version=bulk.template_version, recipient_count=1,
    )  # fmt: skip
    messages = RowsWriter(Message, base, varying=MESSAGE_VARYING)
    recipients = RowsWriter(Recipient, Recipient(message=base, kind=RecipientKind.TO, position=0),
                            varying=("message_id", "address", "domain", "display_name"))  # fmt: skip
    seen: set[str] = set()
    skipped: list[Skipped] = []
    accepted = 0
    for chunk in _chunks(enumerate(rows), CHUNK):
        # A time per row, a microsecond apart, so workers take the bulk in its order (oldest first); time-ordered
        # ids (core.ids), so the chunk's keys are appended to the primary key's index, not scattered through it.
        start = timezone.now()
        message_rows: list[list[Any]] = []
        recipient_rows: list[list[Any]] = []
        ids = iter(uuid7_many(len(chunk)))
        for index, row in chunk:
            problem, built = _row(index, row, seen, compiled, bodies=store_bodies)
            if problem is not None:
                skipped.append(problem)
                continue
            assert built is not None
            message_id, created = next(ids), start + timedelta(microseconds=len(message_rows))
            tags = {**shared.tags, **built.tags} if built.tags else shared.tags
            message_rows.append(messages.row((message_id, built.subject, built.html, built.text, built.data,
                                              built.client_id, tags, built.size, index, created, created)))  # fmt: skip
            recipient_rows.append(recipients.row((message_id, built.address, built.domain, built.name)))
        with transaction.atomic():
            messages.write(message_rows)
            recipients.write(recipient_rows)
            if message_rows and status == MessageStatus.QUEUED:
                # Workers drain what is queued, urgent and high mail first (delivery.claim).
                email_drain_schedule()
        accepted += len(message_rows)
        if progress is not None:
            progress(chunk[-1][0] + 1, count)
    Bulk.objects.filter(pk=bulk.pk).update(accepted=accepted, skipped=[s.as_dict() for s in skipped])
    bulk.refresh_from_db()
    return bulk


def _compiled(errors: FieldErrors, draft: BulkDraft, template: Any) -> Compiled | None:
    """The bulk's template, or its inline subject and bodies, compiled once; the problems at their fields."""
    if draft.template:
        if template is None:
            return None  # the template's own error is already there
        subject = body_check(errors, "subject", draft.subject, single_line=True) or template.subject
        sources = (subject, template.html, template.text)
    else:
        subject = body_check(errors, "subject", draft.subject, single_line=True)
        html = body_check(errors, "htmlContent", draft.html)
        text = body_check(errors, "textContent", draft.text)
        if not subject and not errors.has("subject"):
            errors.add(("subject",), "Give a subject, or a templateId.", "required")
        if not html and not text and not errors.has("htmlContent") and not errors.has("textContent"):
            errors.add(("content",), "Either htmlContent or textContent (or a templateId) must be provided.",
                       "content_missing")  # fmt: skip
        sources = (subject, html, text)
    if any(errors.has(name) for name in ("subject", "htmlContent", "textContent", "content", "templateId")):
        return None
    try:
        return Compiled(subject=sources[0], html=sources[1], text=sources[2])
    except EmailRenderError as exc:
        errors.add(("content",), f"The template could not be compiled: {exc}", "render_failed")
        return None


def _rows(errors: FieldErrors, owner: User, draft: BulkDraft) -> Iterable[BulkRow] | None:
    if draft.recipients_file_id is not None:
        if draft.rows is not None:
            errors.add(("recipientsFileId",), "Give recipients or a recipientsFileId, not both.", "recipients_both")
            return None
        return csv_rows(errors, owner=owner, file_id=draft.recipients_file_id, columns=draft.columns)
    header = getattr(draft.rows, "header", None)  # CSV text (the bulk page's paste): its columns checked first
    if header is not None and (problem := csv_header_problem(header, draft.columns)):
        errors.add(("recipients",), problem, "csv_header")
        return None
    return draft.rows


def _row_count(errors: FieldErrors, rows: Iterable[BulkRow] | None) -> int:
    """How many rows there are (a CSV file is read through once for it); at least one, at most 100,000."""
    if errors.has("recipients") or errors.has("recipientsFileId"):
        return 0
    if rows is None:
        errors.add(("recipients",), "Give the recipients, or a recipientsFileId.", "required")
        return 0
    count = 0
    for _ in rows:
        count += 1
        if count > MAX_BULK_RECIPIENTS:
            errors.add(("recipients",), f"At most {MAX_BULK_RECIPIENTS:,} recipients in one bulk.",
                       "recipients_too_many")  # fmt: skip
            return count
    if not count:
        errors.add(("recipients",), "Give at least one recipient.", "required")
    return count


# What each message of a bulk has of its own; the rest is the bulk's (RowsWriter's base).
MESSAGE_VARYING = ("id", "subject", "html_body", "text_body", "template_data", "client_id", "tags", "size",
                   "bulk_index", "created_at", "updated_at")  # fmt: skip


class _Built(NamedTuple):
    """One good row, rendered: what its message and recipient are made of (the bodies only when stored).

    A tuple, made once per row: a frozen dataclass sets each of its fields through object.__setattr__."""

    subject: str
    html: str
    text: str
    size: int  # of the subject and both bodies, stored or not
    data: dict[str, Any]
    client_id: str
    tags: dict[str, str]
    address: str
    domain: str
    name: str


def _row(
    index: int, row: BulkRow, seen: set[str], compiled: Compiled, *, bodies: bool
) -> tuple[Skipped | None, _Built | None]:
    """One row rendered (its bodies only when `bodies`: else its subject and size), or why it is skipped."""
    shown = row.to.strip()[:320] if isinstance(row.to, str) else ""
    if row.problem:
        return Skipped(index, shown, row.problem), None
    try:
        address = address_parse(row.to)
    except ValueError as exc:
        return Skipped(index, shown, str(exc)), None
    name = row.name.strip() or address.name
    if text_problem(name, single_line=True) or len(name) > MAX_NAME:
        return Skipped(index, shown, "The name must be one line of at most 200 characters."), None
    if address.address in seen:
        return Skipped(index, shown, "A duplicate: this address is in the bulk already."), None
    problems = row_problems(client_id=row.client_id, tags=row.tags, template_data=row.template_data)
    problems += [f"The template needs {name!r}." for name in compiled.missing(row.template_data)]
    if problems:
        return Skipped(index, shown, " ".join(problems)), None
    try:
        if bodies:
            rendered = compiled.render(row.template_data)
            subject, html, text, size = rendered.subject, rendered.html, rendered.text, _size(rendered)
        else:  # rendered from the bulk when read (templating.bodies), by joining text and values: it cannot fail
            (subject, size), html, text = compiled.subject_and_size(row.template_data), "", ""
    except EmailRenderError as exc:
        return Skipped(index, shown, f"Could not be rendered: {exc}"), None
    if len(subject) > MAX_SUBJECT:  # cut as a header must be; the size is of what is stored and sent
        size -= _bytes(subject) - _bytes(subject[:MAX_SUBJECT])
        subject = subject[:MAX_SUBJECT]
    seen.add(address.address)
    return None, _Built(
        subject=subject, html=html, text=text, size=size, data=row.template_data,
        client_id=row.client_id.strip(), tags={str(k): str(v) for k, v in row.tags.items()},
        address=address.address, domain=address.address.rpartition("@")[2], name=name,
    )  # fmt: skip


def _size(rendered: Rendered) -> int:
    return _bytes(rendered.subject) + _bytes(rendered.html) + _bytes(rendered.text)


def _bytes(text: str) -> int:
    return len(text) if text.isascii() else len(text.encode())


def _chunks(items: Iterable[tuple[int, BulkRow]], size: int) -> Iterator[list[tuple[int, BulkRow]]]:
    chunk: list[tuple[int, BulkRow]] = []
    for item in items:
        chunk.append(item)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk
