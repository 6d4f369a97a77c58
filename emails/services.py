"""Writes of the email log: accepting a message (the delivery side is emails/delivery.py)."""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import asdict, dataclass, field
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth.models import User
from django.db import IntegrityError, transaction
from django.utils import timezone

from emails.choices import (
    MessageStatus,
    RecipientKind,
)
from emails.dispatch import email_dispatch
from emails.exceptions import IdempotencyConflict
from emails.models import IdempotencyKey, Message, Recipient, Template
from emails.rendering import email_render
from files.services import AttachmentSpec, attachments_attach

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Address:
    address: str  # lower-cased
    name: str = ""


@dataclass(frozen=True)
class EmailRequest:
    """A validated send request, as the API and the composer hand it over."""

    to: list[Address]
    subject: str
    category: str
    cc: list[Address] = field(default_factory=list)
    bcc: list[Address] = field(default_factory=list)
    html: str = ""
    text: str = ""
    template: Template | None = None
    template_data: dict[str, Any] = field(default_factory=dict)
    priority: str = "normal"
    reply_to: str = ""
    client_id: str = ""
    tags: dict[str, str] = field(default_factory=dict)
    custom_data: dict[str, Any] = field(default_factory=dict)
    attachments: list[AttachmentSpec] = field(default_factory=list)

    def fingerprint(self) -> str:
        data = asdict(self)
        data["template"] = str(self.template.pk) if self.template else None
        return hashlib.sha256(json.dumps(data, sort_keys=True, default=str).encode()).hexdigest()


@dataclass(frozen=True)
class QueueResult:
    message: Message
    created: bool


def email_queue(*, owner: User, request: EmailRequest, idempotency_key: str = "") -> QueueResult:
    """Render, store the message and its recipients in one transaction, then queue it.

    Rendering happens here rather than in the worker so that a template error
    is a 400 for the caller, and so the log holds exactly what SES was given.
    With an idempotency key seen in the last 24 hours, the first message is
    returned and nothing new is stored or sent.
    """
    fingerprint = request.fingerprint() if idempotency_key else ""
    if idempotency_key:
        existing = _idempotent_message(owner=owner, key=idempotency_key, fingerprint=fingerprint)
        if existing is not None:
            return QueueResult(message=existing, created=False)

    if request.template is not None:
        rendered = email_render(
            subject=request.subject or request.template.subject,
            html=request.template.html,
            text=request.template.text,
            data=request.template_data,
        )
    else:
        rendered = email_render(subject=request.subject, html=request.html, text=request.text)

    try:
        with transaction.atomic():
            message = Message.objects.create(
                owner=owner,
                from_email=settings.DEFAULT_FROM_EMAIL,
                reply_to=request.reply_to,
                subject=rendered.subject,
                html_body=rendered.html,
                text_body=rendered.text,
                template=request.template,
                template_data=request.template_data,
                category=request.category,
                priority=request.priority,
                status=MessageStatus.QUEUED,
                client_id=request.client_id,
                tags=request.tags,
                custom_data=request.custom_data,
                recipient_count=len(request.to) + len(request.cc) + len(request.bcc),
                attachment_count=len(request.attachments),
                size=len(rendered.subject.encode()) + len(rendered.html.encode()) + len(rendered.text.encode()),
            )
            Recipient.objects.bulk_create(_recipients_for(message, request))
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
            email_dispatch(message_id=message.pk, priority=message.priority)
    except IntegrityError:
        # Another request with the same key committed first: answer with its message.
        if idempotency_key:
            existing = _idempotent_message(owner=owner, key=idempotency_key, fingerprint=fingerprint)
            if existing is not None:
                return QueueResult(message=existing, created=False)
        raise
    return QueueResult(message=message, created=True)


def _recipients_for(message: Message, request: EmailRequest) -> list[Recipient]:
    rows = []
    position = 0
    for kind, addresses in (
        (RecipientKind.TO, request.to),
        (RecipientKind.CC, request.cc),
        (RecipientKind.BCC, request.bcc),
    ):
        for item in addresses:
            rows.append(
                Recipient(message=message, kind=kind, address=item.address, display_name=item.name, position=position)
            )
            position += 1
    return rows


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
