"""Admin over the email log: messages with recipients and events inline, read-only history.

The changelists fit 1280 px: long values (subjects, addresses, SES ids, ARNs)
are cut short with the whole value in their tooltip, and ids that only a
search needs are searchable rather than shown.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.auth.models import User
from django.db.models import QuerySet
from django.http import HttpRequest
from django.template.defaultfilters import filesizeformat
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.text import Truncator

from core.errors import ValidationFailed
from emails.models import (
    Attachment,
    Event,
    IdempotencyKey,
    InboundNotification,
    Message,
    Recipient,
    ReputationHold,
    SenderSettings,
    Suppression,
    Template,
    TemplateVersion,
)
from emails.suppression import reputation_resume, suppression_lift
from emails.templating import TemplateDraft, template_check, template_delete, template_save
from emails.tracking import notification_process


def shortened(text: str, length: int) -> SafeString:
    """`text` cut to `length` characters, the whole of it in a tooltip."""
    return format_html('<span title="{}">{}</span>', text, Truncator(text).chars(length))


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


def _template_draft(data: dict[str, Any], slug: str) -> TemplateDraft:
    def text(name: str) -> str:
        return str(data.get(name) or "")

    return TemplateDraft(slug=slug, name=text("name"), subject=text("subject"), html=text("html"), text=text("text"),
                         category=text("category"))  # fmt: skip


class TemplateAdminForm(forms.ModelForm):
    """The admin's template form: every rule is the templating wing's (syntax, slug, variables), shown on its field."""

    class Meta:
        model = Template
        fields = ["slug", "name", "category", "subject", "html", "text"]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        existing = self.instance if self.instance.pk else None
        draft = _template_draft(cleaned, existing.slug if existing else str(cleaned.get("slug") or ""))
        try:
            template_check(draft=draft, template=existing)
        except ValidationFailed as exc:
            for error in exc.errors:
                field = str(error.path[0]) if error.path and error.path[0] in self.fields else None
                self.add_error(field, error.message)
        return cleaned


class TemplateVersionInline(admin.TabularInline):
    model = TemplateVersion
    fields = ["number", "note", "subject", "created_at", "created_by"]
    readonly_fields = ["number", "note", "subject", "created_at", "created_by"]
    extra = 0
    can_delete = False
    ordering = ["-number"]

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Template)
class TemplateAdmin(admin.ModelAdmin):
    """Saved through `template_save`, as from the API and the editor: a version per save; system ones stay."""

    form = TemplateAdminForm
    list_display = ["name", "slug", "category", "version", "is_system", "updated_at"]
    list_filter = ["category", "is_system"]
    search_fields = ["name", "slug", "subject"]
    inlines = [TemplateVersionInline]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        fixed = ["variables", "version", "is_system", "updated_by", "updated_at"]
        return ["slug", *fixed] if obj is not None else fixed

    def get_prepopulated_fields(self, request: HttpRequest, obj: Any = None) -> dict[str, Any]:
        return {} if obj is not None else {"slug": ["name"]}

    def save_model(self, request: HttpRequest, obj: Template, form: Any, change: bool) -> None:
        draft = _template_draft(form.cleaned_data, obj.slug)
        user = request.user if isinstance(request.user, User) else None
        saved = template_save(draft=draft, by=user, template=Template.objects.get(pk=obj.pk) if change else None)
        obj.pk = saved.pk
        obj.refresh_from_db()

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        if obj is not None and obj.is_system:
            return False
        return super().has_delete_permission(request, obj)

    def delete_model(self, request: HttpRequest, obj: Template) -> None:
        template_delete(template=obj)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Template]) -> None:
        # The bulk action refuses a selection holding a system template (has_delete_permission); the service decides.
        for template in queryset:
            template_delete(template=template)


@admin.register(IdempotencyKey)
class IdempotencyKeyAdmin(admin.ModelAdmin):
    list_display = ["key", "owner", "message", "created_at", "expires_at"]
    search_fields = ["key", "=message__id"]
    raw_id_fields = ["owner", "message"]


@admin.register(Suppression)
class SuppressionAdmin(admin.ModelAdmin):
    list_display = ["short_address", "scope", "reason", "created_at", "lifted_at", "lifted_by"]
    list_filter = ["reason", "scope", ("lifted_at", admin.EmptyFieldListFilter)]
    search_fields = ["address"]
    date_hierarchy = "created_at"
    fields = ["address", "scope", "reason", "detail", "event", "created_at", "lifted_at", "lifted_by"]
    readonly_fields = ["event", "created_at", "lifted_at", "lifted_by"]
    raw_id_fields = ["event"]
    actions = ["lift"]

    @admin.display(description="address", ordering="address")
    def short_address(self, obj: Suppression) -> SafeString:
        return shortened(obj.address, 40)

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        # A suppression is added by hand or by an event, and then only lifted.
        if obj is not None:
            return ["address", "scope", "reason", "detail", *self.readonly_fields]
        return self.readonly_fields

    def save_model(self, request: HttpRequest, obj: Suppression, form: Any, change: bool) -> None:
        if not change:
            obj.address = obj.address.strip().lower()
        super().save_model(request, obj, form, change)

    @admin.action(description="Lift the selected suppressions", permissions=["change"])
    def lift(self, request: HttpRequest, queryset: Any) -> None:
        count = 0
        for suppression in queryset.filter(lifted_at__isnull=True):
            suppression_lift(suppression=suppression, by=request.user)  # type: ignore[arg-type]
            count += 1
        self.message_user(request, f"Lifted {count} suppression(s).", messages.SUCCESS)


@admin.register(ReputationHold)
class ReputationHoldAdmin(admin.ModelAdmin):
    list_display = ["category", "reason", "started_at", "resumed_at", "resumed_by"]
    list_filter = ["category", ("resumed_at", admin.EmptyFieldListFilter)]
    readonly_fields = ["category", "reason", "started_at", "resumed_at", "resumed_by"]
    actions = ["resume"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    @admin.action(description="Resume sending the held mail", permissions=["change"])
    def resume(self, request: HttpRequest, queryset: Any) -> None:
        total = 0
        for hold in queryset.filter(resumed_at__isnull=True):
            total += reputation_resume(hold=hold, by=request.user)  # type: ignore[arg-type]
        self.message_user(request, f"Resumed; {total} held message(s) queued again.", messages.SUCCESS)


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


@admin.register(SenderSettings)
class SenderSettingsAdmin(admin.ModelAdmin):
    list_display = ["user", "reply_to", "category", "priority", "updated_at"]
    search_fields = ["user__username", "reply_to"]
    raw_id_fields = ["user"]
