"""The log's shapes out: a message as the log lists it and as its detail shows it, with recipients and events."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from emails.models import Event, Message, Recipient
from emails.templating import message_bodies


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
    # A bulk's message may have its bodies rendered from its bulk (emails.templating.bodies).
    htmlContent = serializers.SerializerMethodField()
    textContent = serializers.SerializerMethodField()
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

    @extend_schema_field(serializers.CharField())
    def get_htmlContent(self, message: Message) -> str:
        return message_bodies(message)[0]

    @extend_schema_field(serializers.CharField())
    def get_textContent(self, message: Message) -> str:
        return message_bodies(message)[1]

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
