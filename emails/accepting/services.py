"""Accepting a send: check it, store the message and its recipients in one transaction, then queue it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth.models import User
from django.db import IntegrityError, transaction
from django.utils import timezone

from core.errors import FieldError, ValidationFailed
from emails.accepting.attachments import attachments_attach
from emails.accepting.draft import EmailDraft
from emails.accepting.validation import EmailRequest, email_request_check, idempotency_key_check
from emails.choices import MessageStatus, RecipientKind
from emails.exceptions import IdempotencyConflict
from emails.models import IdempotencyKey, Message, Recipient, Template
from emails.scheduling import email_send_schedule


@dataclass(frozen=True)
class QueueResult:
    message: Message
    created: bool


def email_queue(
    *, owner: User, draft: EmailDraft, idempotency_key: str = "", resent_from: Message | None = None
) -> QueueResult:
    """Check, render, store the message and its recipients in one transaction, then queue it.

    Every rule is checked here (ValidationFailed carries all problems at
    once), so the caller's own checks are never what keeps bad mail out.
    Rendering happens here rather than in the worker so that a template
    error is the caller's field error, and so the log holds exactly what SES
    was given. With an idempotency key seen in the last 24 hours, the first
    message is returned and nothing new is stored or sent. A `send_at` stores
    it as scheduled, released by the sweep when due; `resent_from` links a
    resend to its original.
    """
    idempotency_key_check(idempotency_key)
    # A resend attaches its original's files, which may be another user's (the caller may change that message).
    files_of = resent_from.owner if resent_from is not None else None
    request = email_request_check(owner=owner, draft=draft, files_of=files_of)
    fingerprint = request.fingerprint() if idempotency_key else ""
    if idempotency_key:
        existing = _idempotent_message(owner=owner, key=idempotency_key, fingerprint=fingerprint)
        if existing is not None:
            return QueueResult(message=existing, created=False)
    try:
        with transaction.atomic():
            message = _message_store(owner=owner, request=request, resent_from=resent_from)
            if idempotency_key:
                IdempotencyKey.objects.create(
                    owner=owner,
                    key=idempotency_key,
                    request_hash=fingerprint,
                    message=message,
                    expires_at=timezone.now() + timedelta(hours=settings.EMAIL_IDEMPOTENCY_TTL_HOURS),
                )
            # Last in the transaction: it writes inline attachments to storage.
            attachments_attach(message=message, owner=owner, specs=request.attachments)
            # A scheduled message waits for the sweep that releases it when due (delivery.retry).
            if message.status == MessageStatus.QUEUED:
                email_send_schedule(message_id=message.pk, priority=message.priority)
    except IntegrityError:
        # Another request with the same key committed first: answer with its message.
        if idempotency_key:
            existing = _idempotent_message(owner=owner, key=idempotency_key, fingerprint=fingerprint)
            if existing is not None:
                return QueueResult(message=existing, created=False)
        raise
    return QueueResult(message=message, created=True)


def template_test_send(*, owner: User, template: Template, data: dict[str, Any]) -> QueueResult:
    """A rendered copy of a template to the caller's own address, checked like any send (its variables too)."""
    if not owner.email:
        raise ValidationFailed(
            [FieldError(("to",), "Your account has no email address to send the test to.", "required")]
        )
    draft = EmailDraft(
        to=owner.email,
        subject=f"[Test] {template.subject}",
        template=str(template.pk),
        template_data=data,
        category=template.category,
        tags={"test": "template"},
    )
    return email_queue(owner=owner, draft=draft)


def _message_store(*, owner: User, request: EmailRequest, resent_from: Message | None) -> Message:
    rendered = request.rendered
    message = Message.objects.create(
        owner=owner,
        from_email=request.from_email,
        reply_to=request.reply_to,
        subject=rendered.subject,
        html_body=rendered.html,
        text_body=rendered.text,
        template=request.template,
        template_version=request.template.version if request.template else None,
        template_data=request.template_data,
        resent_from=resent_from,
        category=request.category,
        priority=request.priority,
        status=MessageStatus.SCHEDULED if request.send_at else MessageStatus.QUEUED,
        send_after=request.send_at,
        client_id=request.client_id,
        tags=request.tags,
        custom_data=request.custom_data,
        recipient_count=request.recipient_count,
        attachment_count=len(request.attachments),
        size=len(rendered.subject.encode()) + len(rendered.html.encode()) + len(rendered.text.encode()),
    )
    rows: list[Recipient] = []
    for kind, addresses in ((RecipientKind.TO, request.to), (RecipientKind.CC, request.cc),
                            (RecipientKind.BCC, request.bcc)):  # fmt: skip
        for item in addresses:
            rows.append(
                Recipient(
                    message=message,
                    kind=kind,
                    address=item.address,
                    domain=item.address.rpartition("@")[2],
                    display_name=item.name,
                    position=len(rows),
                )
            )
    Recipient.objects.bulk_create(rows)
    return message


def _idempotent_message(*, owner: User, key: str, fingerprint: str) -> Message | None:
    record = IdempotencyKey.objects.select_related("message").filter(owner=owner, key=key).first()
    if record is None:
        return None
    if record.expires_at <= timezone.now():
        record.delete()
        return None
    if record.request_hash != fingerprint:
        raise IdempotencyConflict("This Idempotency-Key was already used with a different request.")
    return record.message
