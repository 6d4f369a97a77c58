"""Who is not mailed: suppressions and reputation holds."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from emails.choices import (
    SUPPRESSION_SCOPES,
    Category,
    SuppressionReason,
)
from emails.models.events import Event


class Suppression(models.Model):
    """An address we do not send to: for all mail, or for one category (an unsubscribe)."""

    address = models.EmailField(max_length=254, help_text="Lower-cased.")
    scope = models.CharField(max_length=20, choices=SUPPRESSION_SCOPES, default="all")
    reason = models.CharField(max_length=20, choices=SuppressionReason.choices)
    detail = models.TextField(blank=True)
    event = models.ForeignKey(Event, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    lifted_at = models.DateTimeField(null=True, blank=True)
    lifted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["address", "scope"],
                condition=models.Q(lifted_at__isnull=True),
                name="suppression_active_once",
            ),
        ]
        indexes = [models.Index(fields=["address", "lifted_at"], name="suppression_address")]

    def __str__(self) -> str:
        return f"{self.address} ({self.scope})"


class ReputationHold(models.Model):
    """Marketing sends are held while this is active; staff resume them."""

    category = models.CharField(max_length=20, choices=Category.choices, default=Category.MARKETING)
    reason = models.TextField()
    started_at = models.DateTimeField(auto_now_add=True)
    resumed_at = models.DateTimeField(null=True, blank=True)
    resumed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-started_at"]

    def __str__(self) -> str:
        return f"{self.category} held: {self.reason}"
