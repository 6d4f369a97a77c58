"""A send's attachment rules: inline and stored attachments, each checked, and the limits across all of them.

Part of `email_request_check` (validation.py): every problem goes to the same
FieldErrors, at the seeds' paths (`attachments`, `s3Attachments`).
"""

from __future__ import annotations

import json
from typing import Any

from django.conf import settings
from django.contrib.auth.models import User

from core.errors import FieldErrors
from emails.accepting.attachments import AttachmentSpec, raw_message_estimate
from emails.accepting.draft import EmailDraft, StoredAttachment
from emails.models import Template
from files.choices import ALLOWED_CONTENT_TYPES
from files.inspection import content_problem_of_bytes
from files.naming import name_problem
from files.selectors import files_attachable


def _mb(size: float) -> str:
    return f"{size / (1024 * 1024):.1f} MB"


def attachments_check(errors: FieldErrors, *, owner: User, draft: EmailDraft) -> list[AttachmentSpec]:
    """The inline then the stored attachments, each checked; the limits across all of them (SPEC section 6)."""
    specs: list[AttachmentSpec] = []
    inline, stored = draft.attachments, draft.stored_attachments
    if not inline and not stored:
        return specs
    field = "attachments" if inline else "s3Attachments"
    limit = settings.EMAIL_ATTACHMENTS_MAX_COUNT
    for name, items in (("attachments", inline), ("s3Attachments", stored)):
        if len(items) > limit:
            errors.add((name,), f"Ensure this field has no more than {limit} elements.", "attachments_too_many")
    if len(inline) + len(stored) > limit and not errors.has(field):
        errors.add((field,), f"At most {limit} attachments per email.", "attachments_too_many")
    for index, item in enumerate(inline):
        path = ("attachments", index)
        if errors.has(*path):
            continue
        problem_count = len(errors)
        if problem := name_problem(item.filename):
            errors.add((*path, "filename"), problem)
        if item.content_type not in ALLOWED_CONTENT_TYPES:
            errors.add((*path, "contentType"), f'"{item.content_type[:100]}" is not a valid choice.')
        elif not item.content:
            errors.add((*path, "content"), "An attachment must not be empty.")
        elif problem := content_problem_of_bytes(content_type=item.content_type, content=item.content):
            errors.add((*path, "content"), problem)
        if len(errors) == problem_count:
            specs.append(AttachmentSpec(filename=item.filename, content_type=item.content_type, content=item.content))
    inline_bytes = sum(len(item.content) for item in inline)
    if inline_bytes > settings.EMAIL_INLINE_ATTACHMENTS_MAX_BYTES:
        errors.add(
            ("attachments",),
            f"Inline attachments are at most {_mb(settings.EMAIL_INLINE_ATTACHMENTS_MAX_BYTES)} in all; "
            f"these are {_mb(inline_bytes)}.",
        )
    for index, ref in enumerate(stored):
        if not errors.has("s3Attachments", index):
            spec = _stored(errors, owner, index, ref)
            if spec is not None:
                specs.append(spec)
    return specs


def _stored(errors: FieldErrors, owner: User, index: int, ref: StoredAttachment) -> AttachmentSpec | None:
    """One of the sender's completed files (or a public one): the permission check is this lookup."""
    path = ("s3Attachments", index)
    if ref.file_id is None and not ref.key:
        errors.add((*path, "fileId"), "Give the file's fileId or its key.")
        return None
    where = "fileId" if ref.file_id is not None else "key"
    lookup: dict[str, object] = {"pk": ref.file_id} if ref.file_id is not None else {"key": ref.key}
    file = files_attachable(user=owner).filter(**lookup).first()
    if file is None:
        errors.add((*path, where), "No such completed file among yours or the public ones.", "file_unknown")
        return None
    problems = len(errors)
    if file.size > settings.EMAIL_STORED_ATTACHMENT_MAX_BYTES:
        errors.add(
            (*path, where), f"Stored attachments are at most {_mb(settings.EMAIL_STORED_ATTACHMENT_MAX_BYTES)} each."
        )
    if ref.content_type and ref.content_type != file.content_type:
        errors.add((*path, "contentType"), f"Does not match the stored file, which is {file.content_type}.")
    if ref.filename and (problem := name_problem(ref.filename)):
        errors.add((*path, "filename"), problem)
    if len(errors) > problems:
        return None
    return AttachmentSpec(filename=ref.filename or file.original_name, content_type=file.content_type, file=file)


def raw_size_check(
    errors: FieldErrors,
    *,
    draft: EmailDraft,
    template: Template | None,
    template_data: dict[str, Any],
    attachments: list[AttachmentSpec],
) -> None:
    """The raw message SES takes is bounded: bodies and attachments, encoded, estimated before anything is stored."""
    body_bytes = sum(len(value.encode(errors="replace")) for value in (draft.subject, draft.html, draft.text))
    if template is not None:
        body_bytes += len(template.html.encode()) + len(template.text.encode())
        body_bytes += len(json.dumps(template_data, default=str).encode(errors="replace"))
    estimate = raw_message_estimate(body_bytes=body_bytes, attachment_sizes=[spec.size for spec in attachments])
    if estimate > settings.EMAIL_RAW_MESSAGE_MAX_BYTES:
        field = "attachments" if draft.attachments else "s3Attachments"
        errors.add(
            (field,),
            f"This email would be about {_mb(estimate)} once encoded, over the "
            f"{_mb(settings.EMAIL_RAW_MESSAGE_MAX_BYTES)} SES accepts in one message, so it cannot be sent. "
            "Attach fewer or smaller files, or send a download link instead.",
            "message_too_large",
        )
