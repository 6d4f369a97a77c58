"""What the admin modules share: cutting long values short, and read-only inlines."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.text import Truncator


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
