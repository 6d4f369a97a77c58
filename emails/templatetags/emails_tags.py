"""Template tags of the email pages."""

from __future__ import annotations

from django import template
from django.db.models import QuerySet

from emails.models import Attachment, Message

register = template.Library()


@register.simple_tag
def message_attachments(message: Message) -> QuerySet[Attachment]:
    """A message's attachments in order, with their files."""
    return Attachment.objects.filter(message=message).select_related("file").order_by("position")
