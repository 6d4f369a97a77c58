"""Who is not mailed, in the admin: suppressions (add, lift), reputation holds (resume), idempotency keys."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.http import HttpRequest
from django.utils.safestring import SafeString

from emails.admin.common import shortened
from emails.models import (
    IdempotencyKey,
    ReputationHold,
    Suppression,
)
from emails.suppression import reputation_resume, suppression_lift


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
