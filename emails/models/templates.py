"""Stored templates and their versions."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models

from emails.choices import (
    Category,
)


class Template(models.Model):
    """A stored template rendered with Django's engine, autoescape on."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    slug = models.SlugField(max_length=100, unique=True, help_text="The name a send's templateId may use.")
    name = models.CharField(max_length=200)
    subject = models.CharField(max_length=200)
    html = models.TextField(blank=True)
    text = models.TextField(blank=True)
    category = models.CharField(max_length=20, choices=Category.choices, default=Category.NOTIFICATION)
    variables = models.JSONField(
        default=list, blank=True, help_text='Detected on save: [{"name": ..., "required": ...}, ...].'
    )
    is_system = models.BooleanField(default=False, help_text="Shipped with the product: editable, never deleted.")
    # The number of the latest TemplateVersion, which holds this same content.
    version = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class TemplateVersion(models.Model):
    """What a template held after one save: its history, and what a restore copies back."""

    template = models.ForeignKey(Template, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField()
    name = models.CharField(max_length=200)
    subject = models.CharField(max_length=200)
    html = models.TextField(blank=True)
    text = models.TextField(blank=True)
    category = models.CharField(max_length=20, choices=Category.choices)
    variables = models.JSONField(default=list, blank=True)
    note = models.CharField(max_length=200, blank=True, help_text="Created, edited, or restored from version N.")
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["template", "-number"]
        constraints = [models.UniqueConstraint(fields=["template", "number"], name="template_version_unique")]

    def __str__(self) -> str:
        return f"{self.template_id} v{self.number}"
