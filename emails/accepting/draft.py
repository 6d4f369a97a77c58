"""A send as its caller asked for it, before any rule is checked.

The API, the composer, a command or a bulk send each turn their own input
into an EmailDraft and hand it to `email_queue`, which checks every rule
itself. What a caller could not even read (JSON that does not parse, a
number where a list belongs) travels along as `problems`, so it is reported
together with everything the rules find.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from core.errors import FieldError
from emails.choices import Priority

# One address, several in a comma-separated string, or a list of them.
Recipients = str | Sequence[str]


@dataclass(frozen=True)
class InlineAttachment:
    filename: str
    content_type: str
    content: bytes


@dataclass(frozen=True)
class StoredAttachment:
    """One of the sender's stored files (or a public one), by id or by key."""

    file_id: uuid.UUID | None = None
    key: str = ""
    filename: str = ""
    content_type: str = ""


@dataclass(frozen=True)
class EmailDraft:
    to: Recipients = ""
    cc: Recipients = ""
    bcc: Recipients = ""
    subject: str = ""
    html: str = ""
    text: str = ""
    template: str = ""  # a template's slug or id
    template_data: dict[str, Any] = field(default_factory=dict)
    category: str = ""
    priority: str = Priority.NORMAL
    reply_to: str = ""
    from_email: str = ""  # an address or "Name <address>" of a verified identity; blank: DEFAULT_FROM_EMAIL
    send_at: str = ""  # ISO 8601 with an offset or Z: stored as scheduled until then
    client_id: str = ""
    tags: dict[str, Any] = field(default_factory=dict)
    custom_data: dict[str, Any] = field(default_factory=dict)
    attachments: Sequence[InlineAttachment] = ()
    stored_attachments: Sequence[StoredAttachment] = ()
    problems: Sequence[FieldError] = ()


# A send's plain fields by the seeds' names (the API's body, the composer's form), and the draft's names.
PLAIN_FIELDS = {
    "to": "to",
    "cc": "cc",
    "bcc": "bcc",
    "subject": "subject",
    "htmlContent": "html",
    "textContent": "text",
    "templateId": "template",
    "category": "category",
    "priority": "priority",
    "replyTo": "reply_to",
    "from": "from_email",
    "sendAt": "send_at",
    "clientId": "client_id",
}


def draft_plain_fields(values: Mapping[str, Any]) -> dict[str, Any]:
    """The draft's plain fields from a send's, by the seeds' names; one left out keeps the draft's default."""
    return {name: values[given] for given, name in PLAIN_FIELDS.items() if given in values}


@dataclass(frozen=True)
class BulkRow:
    """One person of a bulk, as given (a request's item or a CSV line)."""

    to: str
    name: str = ""
    template_data: dict[str, Any] = field(default_factory=dict)
    client_id: str = ""
    tags: dict[str, Any] = field(default_factory=dict)
    problem: str = ""  # what its reader could not read (a templateData that is not an object)


@dataclass(frozen=True)
class BulkDraft:
    """A bulk as its caller asked for it. `rows` is re-iterable (a list, or a CSV file read again)."""

    name: str = ""
    template: str = ""
    subject: str = ""
    html: str = ""
    text: str = ""
    category: str = ""
    priority: str = ""
    reply_to: str = ""
    from_email: str = ""
    send_at: str = ""
    tags: dict[str, Any] = field(default_factory=dict)
    rows: Iterable[BulkRow] | None = None
    recipients_file_id: uuid.UUID | None = None  # instead of rows: one of the owner's stored CSV files
    columns: Mapping[str, str] = field(default_factory=dict)  # the file's columns for email, name, clientId
    problems: Sequence[FieldError] = ()
