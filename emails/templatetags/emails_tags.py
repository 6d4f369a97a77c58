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


@register.filter
def percent(value: float | None, digits: int = 1) -> str:
    """A fraction as a percentage: 0.0523 -> "5.2%"; tiny rates keep their first significant digits."""
    if value is None:
        return "—"
    share = float(value) * 100
    if 0 < share < 1:
        digits = max(digits, 2)
    return f"{share:.{digits}f}%"


@register.filter
def duration(seconds: float | None) -> str:
    """Seconds as people read them: 0.8 s, 42 s, 3 min 5 s, 2 h 10 min."""
    if seconds is None:
        return "—"
    value = float(seconds)
    if value < 10:
        return f"{value:.1f} s"
    if value < 60:
        return f"{value:.0f} s"
    minutes, rest = divmod(round(value), 60)
    if minutes < 60:
        return f"{minutes} min {rest} s" if rest else f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes} min" if minutes else f"{hours} h"
