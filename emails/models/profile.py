"""A user's own compose settings."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from emails.choices import (
    Category,
    Priority,
)


class SenderSettings(models.Model):
    """A user's own defaults for what they compose: reply-to, a signature, category and priority."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="email_settings")
    reply_to = models.EmailField(max_length=254, blank=True)
    signature = models.TextField(blank=True, help_text="Plain text, appended to the mail you compose.")
    category = models.CharField(max_length=20, choices=Category.choices, blank=True)
    priority = models.CharField(max_length=10, choices=Priority.choices, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "sender settings"

    def __str__(self) -> str:
        return f"Settings of {self.user_id}"
