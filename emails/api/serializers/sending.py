"""What a send parses from (the seeds' camelCase payload) and answers with.

Shapes only: what each field parses into. Every rule of a send (limits, addresses, templates, attachments) is the
accepting wing's, whoever calls it; `send_draft` hands it the parsed shapes and what did not parse.
"""

from __future__ import annotations

import base64
import binascii
import re
from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from core.rest.shapes import shapes_parse
from emails.accepting import EmailDraft, InlineAttachment, QueueResult, StoredAttachment, draft_plain_fields
from emails.choices import Category, Priority
from files.choices import ALLOWED_CONTENT_TYPE_CHOICES


@extend_schema_field(
    {
        "oneOf": [
            {"type": "string", "description": "One address, or several separated by commas."},
            {"type": "array", "items": {"type": "string"}, "maxItems": 50},
        ],
        "example": "Jane Doe <jane@example.com>",
    }
)
class AddressesField(serializers.Field[Any, Any, Any, Any]):
    """One address as a string, several in a comma-separated string, or a list of them (read by the service)."""

    default_error_messages = {"invalid_type": "Must be an email address or a list of email addresses."}

    def to_internal_value(self, data: Any) -> str | list[str]:
        if isinstance(data, str):
            return data
        if isinstance(data, list) and all(isinstance(item, str) for item in data):
            return data
        self.fail("invalid_type")

    def to_representation(self, value: Any) -> Any:
        return value


_DATA_URL = re.compile(r"^data:[^,]*;base64,", re.IGNORECASE)


class Base64Field(serializers.CharField):
    """Base64 text (or a data: URL of it) read as bytes; whether the bytes are acceptable is the service's call."""

    default_error_messages = {"base64": "Must be base64-encoded content."}

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(trim_whitespace=False, allow_blank=True, **kwargs)

    def to_internal_value(self, data: Any) -> bytes:  # type: ignore[override]
        text = super().to_internal_value(data)
        try:
            return base64.b64decode("".join(_DATA_URL.sub("", text).split()), validate=True)
        except (binascii.Error, ValueError):
            self.fail("base64")


class InlineAttachmentSerializer(serializers.Serializer[Any]):
    """The seeds' `attachments` item: a base64 body, its name and its type."""

    filename = serializers.CharField(trim_whitespace=False)
    content = Base64Field()
    contentType = serializers.ChoiceField(choices=ALLOWED_CONTENT_TYPE_CHOICES)


class StoredAttachmentSerializer(serializers.Serializer[Any]):
    """The seeds' `s3Attachments` item: one of the caller's completed files (or a public one), by id or key."""

    fileId = serializers.UUIDField(required=False)
    key = serializers.CharField(required=False)
    filename = serializers.CharField(required=False, trim_whitespace=False)
    contentType = serializers.CharField(required=False)


class EmailSendSerializer(serializers.Serializer[Any]):
    """The seeds' `POST /api/email` body (limits: SPEC section 6, checked by the service)."""

    to = AddressesField(help_text="At most 50 addresses per field, 100 in all.")
    cc = AddressesField(required=False)
    bcc = AddressesField(required=False, help_text="Never shown in any header.")
    subject = serializers.CharField(required=False, allow_blank=True, help_text="1-200 characters, one line.")
    htmlContent = serializers.CharField(
        required=False, allow_blank=True, trim_whitespace=False, help_text="At most 50,000 characters."
    )
    textContent = serializers.CharField(
        required=False, allow_blank=True, trim_whitespace=False, help_text="At most 50,000 characters."
    )
    templateId = serializers.CharField(required=False, allow_blank=True, help_text="A stored template's slug or id.")
    templateData = serializers.DictField(required=False)
    category = serializers.ChoiceField(choices=Category.choices)
    priority = serializers.ChoiceField(choices=Priority.choices, default=Priority.NORMAL)
    replyTo = serializers.CharField(required=False, allow_blank=True)
    clientId = serializers.CharField(required=False, allow_blank=True)
    tags = serializers.DictField(child=serializers.CharField(allow_blank=True), required=False)
    customData = serializers.DictField(required=False)
    attachments = serializers.ListField(child=InlineAttachmentSerializer(), required=False)
    s3Attachments = serializers.ListField(child=StoredAttachmentSerializer(), required=False)
    sendAt = serializers.CharField(
        required=False,
        allow_blank=True,
        help_text="ISO 8601 with an offset or Z, in the future, at most 90 days ahead: stored as scheduled until then.",
    )

    def get_fields(self) -> dict[str, Any]:
        fields = super().get_fields()
        # `from` is a keyword, so not an attribute.
        fields["from"] = serializers.CharField(
            required=False,
            allow_blank=True,
            help_text="An address or `Name <address>` of a verified identity; DEFAULT_FROM_EMAIL when left out.",
        )
        return fields


class RescheduleSerializer(serializers.Serializer[Any]):
    sendAt = serializers.CharField(help_text="ISO 8601 with an offset or Z, in the future, at most 90 days ahead.")


class ResendSerializer(serializers.Serializer[Any]):
    recipients = serializers.ChoiceField(
        choices=[("all", "Every recipient"), ("failed", "Those that failed or bounced transiently")], default="all"
    )


def queued_data(result: QueueResult) -> dict[str, Any]:
    """What a send answers about the message it accepted (or, for a replayed key, accepted before)."""
    message = result.message
    return {
        "messageId": str(message.pk),
        "emailLogId": str(message.pk),
        "status": message.status,
        "recipientCount": message.recipient_count,
        "attachmentCount": message.attachment_count,
        "sendAt": message.send_after.isoformat() if message.status == "scheduled" and message.send_after else None,
        "idempotentReplay": not result.created,
    }


# Parsing only reads a serializer's fields (shapes_parse runs each field's validation), so one instance serves
# every request and thread: a new one deep-copies its 18 declared fields and their nested serializers first,
# 0.7 ms of a send's CPU here (docs/benchmarks.md, issue 13).
_SEND_SHAPES = EmailSendSerializer()


def send_draft(data: Any) -> EmailDraft:
    """The draft of a send from a request body: what parsed, and what did not as the draft's problems."""
    values, problems = shapes_parse(_SEND_SHAPES, data)
    return EmailDraft(
        **draft_plain_fields(values),
        template_data=values.get("templateData") or {},
        tags=values.get("tags") or {},
        custom_data=values.get("customData") or {},
        attachments=[
            InlineAttachment(filename=item["filename"], content_type=item["contentType"], content=item["content"])
            for item in values.get("attachments") or []
        ],
        stored_attachments=[
            StoredAttachment(
                file_id=item.get("fileId"),
                key=item.get("key", ""),
                filename=item.get("filename", ""),
                content_type=item.get("contentType", ""),
            )
            for item in values.get("s3Attachments") or []
        ],
        problems=problems,
    )
