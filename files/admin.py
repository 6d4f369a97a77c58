"""Admin over stored files. Objects in storage change only through the services."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.template.defaultfilters import filesizeformat
from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.text import Truncator

from files.choices import FileStatus
from files.models import File, FileTag


class FileTagInline(admin.TabularInline):
    model = FileTag
    extra = 0


@admin.register(File)
class FileAdmin(admin.ModelAdmin):
    # Fits 1280 px beside the filters: long names and types are cut short, whole in their tooltip.
    list_display = [
        "short_name",
        "owner",
        "category",
        "status",
        "human_size",
        "short_content_type",
        "is_public",
        "downloads",
        "created_at",
    ]
    list_filter = ["status", "category", "is_public", "content_type", "created_at"]
    search_fields = ["=id", "original_name", "key", "owner__username", "owner__email", "client_id", "department_id"]
    date_hierarchy = "created_at"
    list_select_related = ["owner"]
    inlines = [FileTagInline]
    actions = ["soft_delete"]
    # What storage measured and the history are facts, not settings.
    readonly_fields = [
        "id",
        "key",
        "file_name",
        "content_type",
        "size",
        "max_size",
        "status",
        "failure_reason",
        "owner",
        "uploaded_by",
        "uploader_ip",
        "user_agent",
        "checksum",
        "bucket",
        "region",
        "etag",
        "version_id",
        "download_count",
        "last_accessed_at",
        "created_at",
        "updated_at",
        "completed_at",
        "deleted_at",
        "purged_at",
    ]
    fieldsets = [
        (None, {"fields": ["id", "original_name", "file_name", "key", "content_type", "size", "max_size"]}),
        ("Status", {"fields": ["status", "failure_reason", "created_at", "completed_at", "deleted_at", "purged_at"]}),
        ("Ownership", {"fields": ["owner", "category", "is_public", "client_id", "department_id"]}),
        ("Metadata", {"fields": ["uploaded_by", "uploader_ip", "user_agent", "checksum", "extra_metadata"]}),
        ("Storage", {"fields": ["bucket", "region", "etag", "version_id"]}),
        ("Access", {"fields": ["download_count", "last_accessed_at", "expires_at"]}),
    ]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # files arrive through the upload flow, which checks them

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # soft delete only: emails keep their attachment records

    @admin.display(description="name", ordering="original_name")
    def short_name(self, obj: File) -> SafeString:
        return format_html('<span title="{}">{}</span>', obj.original_name, Truncator(obj.original_name).chars(40))

    @admin.display(description="type", ordering="content_type")
    def short_content_type(self, obj: File) -> SafeString:
        return format_html('<span title="{}">{}</span>', obj.content_type, Truncator(obj.content_type).chars(24))

    @admin.display(description="downloads", ordering="download_count")
    def downloads(self, obj: File) -> int:
        return obj.download_count

    @admin.display(description="Size", ordering="size")
    def human_size(self, obj: File) -> str:
        return format_html("<span title='{} bytes'>{}</span>", obj.size, filesizeformat(obj.size))

    @admin.action(description="Delete selected files (soft; the purge removes their objects later)")
    def soft_delete(self, request: HttpRequest, queryset: QuerySet[File]) -> None:
        count = queryset.exclude(status=FileStatus.DELETED).update(
            status=FileStatus.DELETED, deleted_at=timezone.now(), updated_at=timezone.now()
        )
        self.message_user(request, f"{count} file(s) marked deleted.", messages.SUCCESS)
