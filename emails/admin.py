"""Admin over the email log: messages with recipients and events inline, read-only history."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest
from django.utils.html import format_html

from emails.models import Event, IdempotencyKey, Message, Recipient, Template


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False
    show_change_link = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


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
    ordering = ["occurred_at", "id"]

    def get_queryset(self, request: HttpRequest) -> Any:
        return super().get_queryset(request).select_related("recipient")


@admin.register(Message)
class MessageAdmin(admin.ModelAdmin):
    list_display = [
        "subject",
        "owner",
        "category",
        "priority",
        "status_badge",
        "recipient_count",
        "sent_count",
        "cost",
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
    inlines = [RecipientInline, EventInline]
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
        "text_body",
        "html_body",
    ]
    fieldsets = [
        (None, {"fields": ["id", "owner", "status", "status_reason", "subject", "from_email", "reply_to"]}),
        ("Classification", {"fields": ["category", "priority", "client_id", "tags", "custom_data"]}),
        ("Content", {"fields": ["template", "template_data", "text_body", "html_body"], "classes": ["collapse"]}),
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

    @admin.display(description="status", ordering="status")
    def status_badge(self, obj: Message) -> str:
        return format_html('<span class="status status-{}">{}</span>', obj.status, obj.get_status_display())

    # The log is a record of what happened: messages are written by the
    # services, never by hand.
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Recipient)
class RecipientAdmin(admin.ModelAdmin):
    list_display = ["address", "kind", "status", "message", "ses_message_id", "sent_at", "last_event_at"]
    list_filter = ["status", "kind"]
    search_fields = ["address", "=ses_message_id", "=message__id"]
    list_select_related = ["message"]
    raw_id_fields = ["message"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Event)
class EventAdmin(admin.ModelAdmin):
    list_display = ["occurred_at", "type", "recipient", "message", "ses_message_id"]
    list_filter = ["type", "occurred_at"]
    search_fields = ["=ses_message_id", "=sns_message_id", "recipient__address", "=message__id"]
    date_hierarchy = "occurred_at"
    list_select_related = ["recipient", "message"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Template)
class TemplateAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "category", "is_system", "updated_at"]
    list_filter = ["category", "is_system"]
    search_fields = ["name", "slug", "subject"]
    prepopulated_fields = {"slug": ["name"]}


@admin.register(IdempotencyKey)
class IdempotencyKeyAdmin(admin.ModelAdmin):
    list_display = ["key", "owner", "message", "created_at", "expires_at"]
    search_fields = ["key", "=message__id"]
    raw_id_fields = ["owner", "message"]
