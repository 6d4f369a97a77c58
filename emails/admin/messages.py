"""The email log in the admin: messages with recipients and events inline, recipients, events, stored SNS
notifications, attachments. Read-only history."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.http import HttpRequest
from django.template.defaultfilters import filesizeformat
from django.utils.html import format_html
from django.utils.safestring import SafeString

from emails.admin.common import ReadOnlyInline, shortened
from emails.models import (
    Attachment,
    Event,
    InboundNotification,
    Message,
    Recipient,
)
from emails.templating import message_bodies
from emails.tracking import notification_process


class RecipientInline(ReadOnlyInline):
    model = Recipient
    fields = readonly_fields = (
        "kind",
        "address",
        "display_name",
        "status",
        "reason",
        "ses_message_id",
        "sent_at",
        "last_event_at",
    )


class EventInline(ReadOnlyInline):
    model = Event
    fields = readonly_fields = ("occurred_at", "type", "recipient", "ses_message_id", "sns_message_id", "details")
    # Newest first, as in the Event list: what happened last is what one looks for.
    ordering = ["-occurred_at", "-id"]

    def get_queryset(self, request: HttpRequest) -> Any:
        return super().get_queryset(request).select_related("recipient")


class AttachmentInline(ReadOnlyInline):
    model = Attachment
    fields = readonly_fields = ("filename", "content_type", "size", "position", "file")


@admin.register(Message)
class MessageAdmin(admin.ModelAdmin):
    list_display = [
        "short_subject",
        "owner",
        "category",
        "priority",
        "status_badge",
        "sent_of",
        "cost_usd",
        "created_at",
    ]
    list_filter = ["status", "category", "priority", "created_at"]
    search_fields = [
        "=id",
        "subject",
        "client_id",
        "recipients__address",
        "=recipients__ses_message_id",
        "owner__username",
        "owner__email",
    ]
    date_hierarchy = "created_at"
    list_select_related = ["owner"]
    inlines = [RecipientInline, AttachmentInline, EventInline]
    readonly_fields = [
        "id",
        "owner",
        "from_email",
        "reply_to",
        "subject",
        "template",
        "template_data",
        "category",
        "priority",
        "status",
        "status_reason",
        "client_id",
        "tags",
        "custom_data",
        "recipient_count",
        "sent_count",
        "failed_count",
        "cost",
        "size",
        "send_after",
        "lease_until",
        "attempts",
        "created_at",
        "updated_at",
        "sent_at",
        "text_content",
        "html_content",
        "body_removed_at",
        "body_removed_reason",
    ]
    fieldsets = [
        (None, {"fields": ["id", "owner", "status", "status_reason", "subject", "from_email", "reply_to"]}),
        ("Classification", {"fields": ["category", "priority", "client_id", "tags", "custom_data"]}),
        (
            "Content",
            {
                "fields": [
                    "template",
                    "template_data",
                    "text_content",
                    "html_content",
                    "body_removed_at",
                    "body_removed_reason",
                ],
                "classes": ["collapse"],
            },
        ),
        (
            "Delivery",
            {
                "fields": [
                    "recipient_count",
                    "sent_count",
                    "failed_count",
                    "cost",
                    "size",
                    "attempts",
                    "send_after",
                    "lease_until",
                    "created_at",
                    "sent_at",
                    "updated_at",
                ]
            },
        ),
    ]

    # A bulk's message may have its bodies rendered from its bulk (emails.templating.bodies).
    @admin.display(description="text body")
    def text_content(self, message: Message) -> str:
        return message_bodies(message)[1]

    @admin.display(description="HTML body")
    def html_content(self, message: Message) -> str:
        return message_bodies(message)[0]

    @admin.display(description="status", ordering="status")
    def status_badge(self, obj: Message) -> str:
        return format_html('<span class="status status-{}">{}</span>', obj.status, obj.get_status_display())

    @admin.display(description="subject", ordering="subject")
    def short_subject(self, obj: Message) -> SafeString:
        return shortened(obj.subject, 60)

    @admin.display(description="sent", ordering="sent_count")
    def sent_of(self, obj: Message) -> str:
        return f"{obj.sent_count}\u00a0of\u00a0{obj.recipient_count}"

    @admin.display(description="cost", ordering="cost")
    def cost_usd(self, obj: Message) -> str:
        return f"${format(obj.cost.normalize(), 'f')}"

    # The log is a record of what happened: messages are written by the
    # services, never by hand.
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Recipient)
class RecipientAdmin(admin.ModelAdmin):
    list_display = ["short_address", "kind", "status", "message_subject", "sent_at", "last_event_at"]
    list_filter = ["status", "kind"]
    search_fields = ["address", "=ses_message_id", "=message__id"]
    list_select_related = ["message"]
    raw_id_fields = ["message"]

    @admin.display(description="address", ordering="address")
    def short_address(self, obj: Recipient) -> SafeString:
        return shortened(obj.address, 40)

    @admin.display(description="message", ordering="message__subject")
    def message_subject(self, obj: Recipient) -> SafeString:
        return shortened(obj.message.subject, 40)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Event)
class EventAdmin(admin.ModelAdmin):
    list_display = ["occurred_at", "type", "short_address", "message_subject"]
    list_filter = ["type", "occurred_at"]
    search_fields = ["=ses_message_id", "=sns_message_id", "address", "recipient__address", "=message__id"]
    date_hierarchy = "occurred_at"
    list_select_related = ["message"]
    ordering = ["-occurred_at", "-id"]

    @admin.display(description="address", ordering="address")
    def short_address(self, obj: Event) -> SafeString:
        return shortened(obj.address, 40)

    @admin.display(description="message", ordering="message__subject")
    def message_subject(self, obj: Event) -> SafeString | str:
        return shortened(obj.message.subject, 40) if obj.message is not None else "—"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(InboundNotification)
class InboundNotificationAdmin(admin.ModelAdmin):
    list_display = ["received_at", "type", "sns_message_id", "topic", "processed_at", "has_error"]
    list_filter = ["type", ("processed_at", admin.EmptyFieldListFilter)]
    search_fields = ["=sns_message_id", "topic_arn"]
    date_hierarchy = "received_at"
    readonly_fields = ["sns_message_id", "type", "topic_arn", "body", "received_at", "processed_at", "error"]
    actions = ["reprocess"]

    @admin.display(boolean=True, description="error")
    def has_error(self, obj: InboundNotification) -> bool:
        return bool(obj.error)

    @admin.display(description="topic", ordering="topic_arn")
    def topic(self, obj: InboundNotification) -> SafeString:
        """The topic's name; its region and account are in the tooltip."""
        return format_html('<span title="{}">{}</span>', obj.topic_arn, obj.topic_arn.rpartition(":")[2])

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.action(description="Process the selected notifications again", permissions=["view"])
    def reprocess(self, request: HttpRequest, queryset: Any) -> None:
        ids = list(queryset.values_list("pk", flat=True))
        for notification_id in ids:
            notification_process(notification_id=notification_id)
        self.message_user(request, f"Processed {len(ids)} notification(s) again.", messages.SUCCESS)


@admin.register(Attachment)
class AttachmentAdmin(admin.ModelAdmin):
    list_display = ["short_filename", "message_subject", "short_content_type", "human_size"]
    search_fields = ["filename", "=message__id", "=file__id"]
    list_select_related = ["message"]
    readonly_fields = ["message", "file", "filename", "content_type", "size", "position"]

    @admin.display(description="file name", ordering="filename")
    def short_filename(self, obj: Attachment) -> SafeString:
        return shortened(obj.filename, 40)

    @admin.display(description="message", ordering="message__subject")
    def message_subject(self, obj: Attachment) -> SafeString:
        return shortened(obj.message.subject, 40)

    @admin.display(description="type", ordering="content_type")
    def short_content_type(self, obj: Attachment) -> SafeString:
        return shortened(obj.content_type, 30)

    @admin.display(description="size", ordering="size")
    def human_size(self, obj: Attachment) -> SafeString:
        return format_html('<span title="{} bytes">{}</span>', obj.size, filesizeformat(obj.size))

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
