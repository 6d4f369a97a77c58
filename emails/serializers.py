"""The API's shapes: the seeds' send payload in, the log out (camelCase, as the seeds)."""

from __future__ import annotations

from email.utils import getaddresses, parseaddr
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import validate_email
from rest_framework import serializers

from emails.choices import Category, MessageStatus, Priority, RecipientStatus
from emails.identifiers import uuid_parse
from emails.models import Event, Message, Recipient, Template
from emails.selectors import SORT_FIELDS, EmailFilters
from emails.services import Address, EmailRequest
from files.serializers import attachment_specs, attachments_check, inline_attachments_field, stored_attachments_field

MAX_PER_FIELD = 50
MAX_RECIPIENTS = 100
MAX_SUBJECT = 200
MAX_BODY = 50_000


def _has_control_chars(value: str) -> bool:
    # CR and LF would end a header and start another; no control character
    # belongs in one.
    return any((ord(ch) < 32 and ch != "\t") or ord(ch) == 127 for ch in value)


def header_value_check(value: str) -> None:
    if _has_control_chars(value):
        raise serializers.ValidationError("Must be a single line, without control characters.")


class AddressListField(serializers.Field):
    """One address as a string, several in a comma-separated string, or a list of them.

    Each may carry a display name ("Jane Doe <jane@example.com>").
    """

    default_error_messages = {
        "invalid_type": "Must be an email address or a list of email addresses.",
        "too_many": f"At most {MAX_PER_FIELD} addresses.",
    }

    def to_internal_value(self, data: Any) -> list[Address]:
        if isinstance(data, str):
            items = [data]
        elif isinstance(data, list) and all(isinstance(item, str) for item in data):
            items = data
        else:
            self.fail("invalid_type")
        errors: dict[int, list[str]] = {}
        result: list[Address] = []
        for index, item in enumerate(items):
            if _has_control_chars(item):
                errors[index] = ["Must not contain line breaks or control characters."]
                continue
            parsed = getaddresses([item]) if isinstance(data, str) else [parseaddr(item)]
            for name, address in parsed:
                try:
                    if not address or len(address) > 254 or len(name) > 200:
                        raise DjangoValidationError("invalid")
                    validate_email(address)
                except DjangoValidationError:
                    errors[index] = [f"Enter a valid email address: {item[:100]!r}."]
                    break
                local, _, domain = address.rpartition("@")
                result.append(Address(address=f"{local}@{domain}".lower(), name=name.strip()))
        if errors:
            detail: Any = errors if isinstance(data, list) else errors[0]
            raise serializers.ValidationError(detail)
        if len(result) > MAX_PER_FIELD:
            self.fail("too_many")
        return result

    def to_representation(self, value: Any) -> Any:
        return value


class EmailSendSerializer(serializers.Serializer):
    """The seeds' `POST /api/email` body, with their limits (SPEC section 6)."""

    to = AddressListField()
    cc = AddressListField(required=False)
    bcc = AddressListField(required=False)
    subject = serializers.CharField(
        required=False, allow_blank=True, max_length=MAX_SUBJECT, validators=[header_value_check]
    )
    htmlContent = serializers.CharField(required=False, allow_blank=True, max_length=MAX_BODY, trim_whitespace=False)
    textContent = serializers.CharField(required=False, allow_blank=True, max_length=MAX_BODY, trim_whitespace=False)
    templateId = serializers.CharField(required=False, allow_blank=True, max_length=100)
    templateData = serializers.DictField(required=False)
    category = serializers.ChoiceField(choices=Category.choices)
    priority = serializers.ChoiceField(choices=Priority.choices, default=Priority.NORMAL)
    replyTo = serializers.EmailField(required=False, allow_blank=True, validators=[header_value_check])
    clientId = serializers.CharField(required=False, allow_blank=True, max_length=100, validators=[header_value_check])
    tags = serializers.DictField(child=serializers.CharField(max_length=256, allow_blank=True), required=False)
    customData = serializers.DictField(required=False)
    # Attachments (files/serializers.py): inline base64 ones, and the caller's stored files.
    attachments = inline_attachments_field()
    s3Attachments = stored_attachments_field()

    def validate_templateId(self, value: str) -> Template | None:
        if not value:
            return None
        lookup = {"pk": value} if uuid_parse(value) is not None else {"slug": value}
        template = Template.objects.filter(**lookup).first()
        if template is None:
            raise serializers.ValidationError(f"No template {value!r}.")
        return template

    def validate_tags(self, value: dict[str, str]) -> dict[str, str]:
        if len(value) > 50:
            raise serializers.ValidationError("At most 50 tags.")
        return value

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        total = sum(len(attrs.get(kind) or []) for kind in ("to", "cc", "bcc"))
        if total > MAX_RECIPIENTS:
            raise serializers.ValidationError({"recipients": f"Total recipients cannot exceed {MAX_RECIPIENTS}."})
        template = attrs.get("templateId")
        if not (attrs.get("htmlContent") or attrs.get("textContent") or template):
            raise serializers.ValidationError(
                {"content": "Either htmlContent or textContent (or a templateId) must be provided."}
            )
        subject = (attrs.get("subject") or "").strip()
        if not subject and template is None:
            raise serializers.ValidationError({"subject": "This field is required."})
        attachments_check(attrs)
        return attrs

    def to_request(self) -> EmailRequest:
        data = self.validated_data
        to, cc, bcc = _dedupe(data["to"], data.get("cc") or [], data.get("bcc") or [])
        return EmailRequest(
            to=to,
            cc=cc,
            bcc=bcc,
            subject=(data.get("subject") or "").strip(),
            html=data.get("htmlContent") or "",
            text=data.get("textContent") or "",
            template=data.get("templateId"),
            template_data=data.get("templateData") or {},
            category=data["category"],
            priority=data["priority"],
            reply_to=(data.get("replyTo") or "").lower(),
            client_id=data.get("clientId") or "",
            tags=data.get("tags") or {},
            custom_data=data.get("customData") or {},
            attachments=attachment_specs(data),
        )


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


class EmailQuerySerializer(serializers.Serializer):
    """The log's query string: the seeds' filters plus sorting."""

    page = serializers.IntegerField(min_value=1, default=1)
    limit = serializers.IntegerField(min_value=1, max_value=100, default=20)
    search = serializers.CharField(required=False, allow_blank=True, max_length=200)
    status = serializers.ChoiceField(choices=MessageStatus.choices, required=False, allow_blank=True)
    category = serializers.ChoiceField(choices=Category.choices, required=False, allow_blank=True)
    priority = serializers.ChoiceField(choices=Priority.choices, required=False, allow_blank=True)
    recipientStatus = serializers.ChoiceField(choices=RecipientStatus.choices, required=False, allow_blank=True)
    clientId = serializers.CharField(required=False, allow_blank=True, max_length=100)
    userId = serializers.IntegerField(required=False, min_value=1)
    startDate = serializers.DateField(required=False)
    endDate = serializers.DateField(required=False)
    sortBy = serializers.ChoiceField(choices=sorted(SORT_FIELDS), default="createdAt")
    sortOrder = serializers.ChoiceField(choices=["asc", "desc"], default="desc")

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        start, end = attrs.get("startDate"), attrs.get("endDate")
        if start and end and start > end:
            raise serializers.ValidationError({"endDate": "Must not be before startDate."})
        return attrs

    def to_filters(self) -> EmailFilters:
        data = self.validated_data
        return EmailFilters(
            status=data.get("status") or "",
            category=data.get("category") or "",
            priority=data.get("priority") or "",
            recipient_status=data.get("recipientStatus") or "",
            client_id=data.get("clientId") or "",
            owner_id=data.get("userId"),
            start_date=data.get("startDate"),
            end_date=data.get("endDate"),
            search=data.get("search") or "",
            sort_by=data["sortBy"],
            sort_order=data["sortOrder"],
        )


class RecipientSerializer(serializers.ModelSerializer):
    name = serializers.CharField(source="display_name")
    sesMessageId = serializers.CharField(source="ses_message_id")
    sentAt = serializers.DateTimeField(source="sent_at")
    lastEventAt = serializers.DateTimeField(source="last_event_at")

    class Meta:
        model = Recipient
        fields = ["address", "name", "kind", "status", "reason", "sesMessageId", "sentAt", "lastEventAt"]


class EventSerializer(serializers.ModelSerializer):
    recipient = serializers.CharField(source="recipient.address", default=None)
    occurredAt = serializers.DateTimeField(source="occurred_at")
    sesMessageId = serializers.CharField(source="ses_message_id")

    class Meta:
        model = Event
        fields = ["type", "occurredAt", "recipient", "sesMessageId", "details"]


class MessageSummarySerializer(serializers.ModelSerializer):
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
        ]

    replyTo = serializers.CharField(source="reply_to")

    def get_fields(self) -> dict[str, Any]:
        fields = super().get_fields()
        fields["from"] = serializers.CharField(source="from_email")  # a keyword, so not an attribute
        return fields

    def _addresses(self, message: Message, kind: str) -> list[str]:
        return [r.formatted() for r in message.recipients.all() if r.kind == kind]

    def get_to(self, message: Message) -> list[str]:
        return self._addresses(message, "to")

    def get_cc(self, message: Message) -> list[str]:
        return self._addresses(message, "cc")

    def get_bcc(self, message: Message) -> list[str]:
        return self._addresses(message, "bcc")

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
        ]

    def get_sesMessageIds(self, message: Message) -> list[str]:
        return sorted({r.ses_message_id for r in message.recipients.all() if r.ses_message_id})
