"""`/api/email/contacts/<address>/export` and `/erase`: one person's data, handed over or erased, for staff.

Both concern everyone's mail, so they are for staff: the export for staff
who may see every user's mail (view_all_messages), the erasure for staff
holding erase_contact. Thin: parse the address, call the privacy wing,
shape the answer in the envelope.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field, inline_serializer
from rest_framework import serializers, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import BasePermission
from rest_framework.request import Request
from rest_framework.response import Response

from core.rest.envelope import envelope_schema, error_responses, ok
from core.rest.permissions import staff_with
from emails.models import Event, InboundNotification, Message, Recipient, Suppression
from emails.privacy import BulkRows, ContactExport, contact_erase, contact_export

EXPORT_PERMISSION = "emails.view_all_messages"
ERASE_PERMISSION = "emails.erase_contact"


class ExportedMessageSerializer(serializers.ModelSerializer[Message]):
    id = serializers.UUIDField()
    owner = serializers.CharField(source="owner.get_username")
    fromEmail = serializers.CharField(source="from_email")
    createdAt = serializers.DateTimeField(source="created_at")
    sentAt = serializers.DateTimeField(source="sent_at", allow_null=True)
    bulkId = serializers.UUIDField(source="bulk_id", allow_null=True)
    bodyRemovedAt = serializers.DateTimeField(source="body_removed_at", allow_null=True)

    class Meta:
        model = Message
        fields = ["id", "subject", "category", "priority", "status", "owner", "fromEmail", "createdAt", "sentAt",
                  "bulkId", "bodyRemovedAt"]  # fmt: skip


class ExportedRecipientSerializer(serializers.ModelSerializer[Recipient]):
    displayName = serializers.CharField(source="display_name")
    sesMessageId = serializers.CharField(source="ses_message_id")
    sentAt = serializers.DateTimeField(source="sent_at", allow_null=True)
    lastEventAt = serializers.DateTimeField(source="last_event_at", allow_null=True)
    deliveredAt = serializers.DateTimeField(source="delivered_at", allow_null=True)
    openedAt = serializers.DateTimeField(source="opened_at", allow_null=True)
    clickedAt = serializers.DateTimeField(source="clicked_at", allow_null=True)
    complainedAt = serializers.DateTimeField(source="complained_at", allow_null=True)
    bouncedAt = serializers.DateTimeField(source="bounced_at", allow_null=True)
    message = ExportedMessageSerializer()

    class Meta:
        model = Recipient
        fields = ["kind", "displayName", "status", "reason", "sesMessageId", "sentAt", "lastEventAt", "deliveredAt",
                  "openedAt", "clickedAt", "complainedAt", "bouncedAt", "message"]  # fmt: skip


class ExportedEventSerializer(serializers.ModelSerializer[Event]):
    messageId = serializers.UUIDField(source="message_id", allow_null=True)
    occurredAt = serializers.DateTimeField(source="occurred_at")
    recordedAt = serializers.DateTimeField(source="recorded_at")
    sesMessageId = serializers.CharField(source="ses_message_id")
    snsMessageId = serializers.CharField(source="sns_message_id")
    details = serializers.JSONField()

    class Meta:
        model = Event
        fields = ["id", "messageId", "type", "address", "occurredAt", "recordedAt", "sesMessageId", "snsMessageId",
                  "details"]  # fmt: skip


class ExportedSuppressionSerializer(serializers.ModelSerializer[Suppression]):
    createdAt = serializers.DateTimeField(source="created_at")
    liftedAt = serializers.DateTimeField(source="lifted_at", allow_null=True)

    class Meta:
        model = Suppression
        fields = ["id", "scope", "reason", "detail", "createdAt", "liftedAt"]


class ExportedNotificationSerializer(serializers.ModelSerializer[InboundNotification]):
    snsMessageId = serializers.CharField(source="sns_message_id")
    receivedAt = serializers.DateTimeField(source="received_at")
    processedAt = serializers.DateTimeField(source="processed_at", allow_null=True)
    body = serializers.CharField(help_text="The SNS message as it was posted.")

    class Meta:
        model = InboundNotification
        fields = ["snsMessageId", "type", "receivedAt", "processedAt", "body"]


class ExportedBulkRowSerializer(serializers.Serializer[Any]):
    index = serializers.IntegerField(allow_null=True, help_text="The row's place in the bulk's request (0-based).")
    messageId = serializers.UUIDField()


class ExportedBulkSerializer(serializers.Serializer[BulkRows]):
    bulkId = serializers.UUIDField(source="bulk.pk")
    name = serializers.CharField(source="bulk.name")
    createdAt = serializers.DateTimeField(source="bulk.created_at")
    rows = serializers.SerializerMethodField()
    skipped = serializers.ListField(child=serializers.DictField(), help_text="Its skipped rows naming the address.")

    @extend_schema_field(ExportedBulkRowSerializer(many=True))
    def get_rows(self, part: BulkRows) -> list[dict[str, Any]]:
        return [{"index": index, "messageId": str(message_id)} for index, message_id in part.rows]


class PreferenceSerializer(serializers.Serializer[Any]):
    category = serializers.CharField()
    receives = serializers.BooleanField()


class ContactExportSerializer(serializers.Serializer[ContactExport]):
    address = serializers.EmailField()
    recipients = ExportedRecipientSerializer(many=True, help_text="One row per message the address was on.")
    events = ExportedEventSerializer(many=True)
    suppressions = ExportedSuppressionSerializer(many=True, help_text="Active and lifted.")
    preferences = serializers.SerializerMethodField(help_text="The preference centre's choices.")
    blockedForAllMail = serializers.BooleanField(source="blocked")
    notifications = ExportedNotificationSerializer(many=True, help_text="Stored SNS bodies naming the address.")
    bulks = ExportedBulkSerializer(many=True)
    truncated = serializers.ListField(
        child=serializers.CharField(), help_text="The kinds cut at EMAIL_EXPORT_MAX_ROWS rows."
    )

    @extend_schema_field(PreferenceSerializer(many=True))
    def get_preferences(self, export: ContactExport) -> list[dict[str, Any]]:
        return [{"category": category, "receives": receives} for category, receives in export.receives.items()]


_Erased = inline_serializer(
    "ContactErased",
    {
        "recipients": serializers.IntegerField(help_text="Recipient rows now under the hash."),
        "messages": serializers.IntegerField(help_text="Messages changed (their bodies, subject, data)."),
        "bodiesRemoved": serializers.IntegerField(),
        "events": serializers.IntegerField(),
        "suppressions": serializers.IntegerField(),
        "notifications": serializers.IntegerField(help_text="Stored SNS bodies rewritten."),
        "bulks": serializers.IntegerField(),
        "idempotencyKeys": serializers.IntegerField(),
    },
)
_ADDRESS = OpenApiParameter("id", str, OpenApiParameter.PATH, description="An email address.")


# Registered before the contact viewset (emails/api/urls.py), so `<address>/export` is not read as an address.
class ContactPrivacyViewSet(viewsets.ViewSet):
    lookup_value_regex = ".+?"  # as the contact's: an address may hold a "/"

    def get_permissions(self) -> list[BasePermission]:
        return [staff_with(ERASE_PERMISSION if self.action == "erase" else EXPORT_PERMISSION)()]

    @extend_schema(
        summary="Everything held about one address",
        description=(
            "Its recipient rows with their messages' metadata, its events, suppressions and preference choices, the "
            "stored SNS bodies naming it and the bulk rows it was in; the address is matched whatever its case. "
            "Staff with view_all_messages only. At most EMAIL_EXPORT_MAX_ROWS rows of each kind; `truncated` names "
            "the kinds that had more."
        ),
        parameters=[_ADDRESS],
        responses={200: envelope_schema("ContactExport", ContactExportSerializer), **error_responses(400, 401, 403)},
    )
    @action(detail=True, methods=["get"])
    def export(self, request: Request, pk: str) -> Response:
        return ok(ContactExportSerializer(contact_export(address=pk)).data)

    @extend_schema(
        summary="Erase one address everywhere",
        description=(
            "Replaces the address by a keyed hash in its recipient rows, events, suppressions, stored SNS bodies, "
            "bulks' skipped rows and idempotency keys, and removes the bodies of the messages sent to it, in one "
            "transaction; answers how many rows of each kind changed (zeros the second time). A suppressed address "
            "stays suppressed under its hash. Staff with erase_contact only."
        ),
        parameters=[_ADDRESS],
        request=None,
        responses={200: envelope_schema("ContactErased", _Erased), **error_responses(400, 401, 403)},
    )
    @action(detail=True, methods=["post"])
    def erase(self, request: Request, pk: str) -> Response:
        result = contact_erase(address=pk, by=request.user)
        counts = result.as_dict()
        data = {
            "recipients": counts["recipients"], "messages": counts["messages"],
            "bodiesRemoved": counts["bodies_removed"], "events": counts["events"],
            "suppressions": counts["suppressions"], "notifications": counts["notifications"],
            "bulks": counts["bulks"], "idempotencyKeys": counts["idempotency_keys"],
        }  # fmt: skip
        return ok(data, message="Address erased" if any(counts.values()) else "Nothing held about this address")
