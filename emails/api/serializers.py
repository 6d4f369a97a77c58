"""The email API's shapes: the seeds' send payload in (camelCase), the log out.

Shapes only: what each field parses into. Every rule of a send (limits,
addresses, templates, attachments) is the accepting wing's, whoever calls
it; `send_draft` hands it the parsed shapes and what did not parse.
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
from emails.models import Event, Message, Recipient
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


class RecipientSerializer(serializers.ModelSerializer[Any]):
    name = serializers.CharField(source="display_name")
    sesMessageId = serializers.CharField(source="ses_message_id")
    sentAt = serializers.DateTimeField(source="sent_at")
    lastEventAt = serializers.DateTimeField(source="last_event_at")

    class Meta:
        model = Recipient
        fields = ["address", "name", "kind", "status", "reason", "sesMessageId", "sentAt", "lastEventAt"]


class EventSerializer(serializers.ModelSerializer[Any]):
    recipient = serializers.CharField(source="recipient.address", default=None)
    occurredAt = serializers.DateTimeField(source="occurred_at")
    sesMessageId = serializers.CharField(source="ses_message_id")

    class Meta:
        model = Event
        fields = ["type", "occurredAt", "recipient", "sesMessageId", "details"]


class MessageSummarySerializer(serializers.ModelSerializer[Any]):
    messageId = serializers.UUIDField(source="id")
    emailLogId = serializers.UUIDField(source="id")
    userId = serializers.IntegerField(source="owner_id")
    to = serializers.SerializerMethodField()
    cc = serializers.SerializerMethodField()
    bcc = serializers.SerializerMethodField()
    statusReason = serializers.CharField(source="status_reason")
    clientId = serializers.CharField(source="client_id")
    templateId = serializers.SerializerMethodField()
    recipientCount = serializers.IntegerField(source="recipient_count")
    sentCount = serializers.IntegerField(source="sent_count")
    failedCount = serializers.IntegerField(source="failed_count")
    cost = serializers.FloatField()
    createdAt = serializers.DateTimeField(source="created_at")
    updatedAt = serializers.DateTimeField(source="updated_at")
    sentAt = serializers.DateTimeField(source="sent_at")
    sendAt = serializers.SerializerMethodField()
    templateVersion = serializers.IntegerField(source="template_version", allow_null=True)
    resentFrom = serializers.UUIDField(source="resent_from_id", allow_null=True)

    class Meta:
        model = Message
        fields = [
            "messageId",
            "emailLogId",
            "userId",
            "replyTo",
            "to",
            "cc",
            "bcc",
            "subject",
            "category",
            "priority",
            "status",
            "statusReason",
            "clientId",
            "templateId",
            "tags",
            "recipientCount",
            "sentCount",
            "failedCount",
            "cost",
            "size",
            "createdAt",
            "updatedAt",
            "sentAt",
            "sendAt",
            "templateVersion",
            "resentFrom",
        ]

    replyTo = serializers.CharField(source="reply_to")

    def get_fields(self) -> dict[str, Any]:
        fields = super().get_fields()
        fields["from"] = serializers.CharField(source="from_email")  # a keyword, so not an attribute
        return fields

    def _addresses(self, message: Message, kind: str) -> list[str]:
        return [r.formatted() for r in message.recipients.all() if r.kind == kind]

    @extend_schema_field(serializers.ListField(child=serializers.CharField()))
    def get_to(self, message: Message) -> list[str]:
        return self._addresses(message, "to")

    @extend_schema_field(serializers.ListField(child=serializers.CharField()))
    def get_cc(self, message: Message) -> list[str]:
        return self._addresses(message, "cc")

    @extend_schema_field(serializers.ListField(child=serializers.CharField()))
    def get_bcc(self, message: Message) -> list[str]:
        return self._addresses(message, "bcc")

    @extend_schema_field(serializers.DateTimeField(allow_null=True))
    def get_sendAt(self, message: Message) -> str | None:
        """When a scheduled message is due (send_after also holds a retry's backoff, which is not a schedule)."""
        if message.status == "scheduled" and message.send_after:
            return serializers.DateTimeField().to_representation(message.send_after)
        return None

    @extend_schema_field(serializers.UUIDField(allow_null=True))
    def get_templateId(self, message: Message) -> str | None:
        return str(message.template_id) if message.template_id else None


class MessageDetailSerializer(MessageSummarySerializer):
    htmlContent = serializers.CharField(source="html_body")
    textContent = serializers.CharField(source="text_body")
    templateData = serializers.JSONField(source="template_data")
    customData = serializers.JSONField(source="custom_data")
    attempts = serializers.IntegerField()
    sesMessageIds = serializers.SerializerMethodField()
    recipients = RecipientSerializer(many=True)
    events = EventSerializer(many=True)
    bodyRemovedAt = serializers.DateTimeField(
        source="body_removed_at", allow_null=True, help_text="When the bodies were removed (then empty), if they were."
    )
    bodyRemovedReason = serializers.CharField(
        source="body_removed_reason", help_text='Why: "retention", "erasure", or empty while the bodies are kept.'
    )

    class Meta(MessageSummarySerializer.Meta):
        fields = [
            *MessageSummarySerializer.Meta.fields,
            "htmlContent",
            "textContent",
            "templateData",
            "customData",
            "attempts",
            "sesMessageIds",
            "recipients",
            "events",
            "bodyRemovedAt",
            "bodyRemovedReason",
        ]

    @extend_schema_field(serializers.ListField(child=serializers.CharField()))
    def get_sesMessageIds(self, message: Message) -> list[str]:
        return sorted({r.ses_message_id for r in message.recipients.all() if r.ses_message_id})


# Answers are shaped by one instance of each, built once: a new serializer builds its fields again from the
# model and deep-copies the declared ones (1.6 ms of CPU for a detail, 0.5 ms for a page of 20 summaries, the
# load benchmark's lists and details; docs/benchmarks.md, issue 13). Shaping reads each field and changes
# none, and these use no context, so one instance serves every request and thread.
_DETAIL = MessageDetailSerializer()
_SUMMARIES = MessageSummarySerializer(many=True)


def message_detail_data(message: Message) -> dict[str, Any]:
    """A message as GET /api/email/<id> answers it (recipients and events prefetched by the selector)."""
    return _DETAIL.to_representation(message)


def message_summaries_data(messages: Any) -> list[dict[str, Any]]:
    """Messages (an iterable, recipients prefetched) as the log lists them."""
    # ListSerializer.to_representation answers a list; the stubs type it as one item's dict.
    summaries: list[dict[str, Any]] = _SUMMARIES.to_representation(messages)  # type: ignore[assignment]
    return summaries


# --- What the other endpoints answer (schema and, where shaped here, the data) ---------------


class CountByStatusSerializer(serializers.Serializer[Any]):
    status = serializers.CharField()
    count = serializers.IntegerField()


class CountByCategorySerializer(serializers.Serializer[Any]):
    category = serializers.CharField()
    count = serializers.IntegerField()


class CountByPrioritySerializer(serializers.Serializer[Any]):
    priority = serializers.CharField()
    count = serializers.IntegerField()


class EmailStatsSerializer(serializers.Serializer[Any]):
    totalEmails = serializers.IntegerField()
    totalRecipients = serializers.IntegerField()
    totalSent = serializers.IntegerField()
    totalDelivered = serializers.IntegerField()
    totalBounced = serializers.IntegerField()
    totalComplained = serializers.IntegerField()
    totalSuppressed = serializers.IntegerField()
    totalFailed = serializers.IntegerField()
    totalCost = serializers.FloatField()
    avgSize = serializers.IntegerField()
    byStatus = CountByStatusSerializer(many=True)
    byCategory = CountByCategorySerializer(many=True)
    byPriority = CountByPrioritySerializer(many=True)


class EmailQueuedSerializer(serializers.Serializer[Any]):
    messageId = serializers.UUIDField()
    emailLogId = serializers.UUIDField()
    status = serializers.CharField()
    recipientCount = serializers.IntegerField()
    attachmentCount = serializers.IntegerField()
    sendAt = serializers.DateTimeField(allow_null=True, help_text="When a scheduled message is due; null otherwise.")
    idempotentReplay = serializers.BooleanField()


class QuotaUsageSerializer(serializers.Serializer[Any]):
    deliveryAttempts = serializers.IntegerField()
    bounces = serializers.IntegerField()
    complaints = serializers.IntegerField()
    rejects = serializers.IntegerField()


class QuotaSerializer(serializers.Serializer[Any]):
    maxSend24Hour = serializers.FloatField()
    maxSendRate = serializers.FloatField()
    sentLast24Hours = serializers.FloatField()
    remaining24Hour = serializers.FloatField()
    usagePercent = serializers.FloatField()
    last24Hours = QuotaUsageSerializer()
    fetchedAt = serializers.DateTimeField()
