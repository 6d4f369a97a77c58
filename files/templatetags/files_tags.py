"""Template tags for pages that let people pick stored files (the composer's attachment picker)."""

from __future__ import annotations

import uuid
from typing import Any

from django import template
from django.contrib.auth.models import AnonymousUser
from django.db.models import QuerySet

from files.models import File
from files.selectors import files_attachable

register = template.Library()

# The picker lists the newest of the user's own files; any other is one upload away.
PICKER_LIMIT = 200


@register.simple_tag(takes_context=True)
def attachable_files(context: dict[str, Any]) -> QuerySet[File]:
    """The signed-in user's own completed files, newest first."""
    request = context.get("request")
    user = getattr(request, "user", None) or AnonymousUser()
    if not user.is_authenticated:
        return File.objects.none()
    return files_attachable(user=user).filter(owner_id=user.pk).order_by("-created_at")[:PICKER_LIMIT]


@register.simple_tag(takes_context=True)
def posted_attachments(context: dict[str, Any]) -> list[File]:
    """The files a re-shown composer form had attached (that the user may still attach), in order."""
    request = context.get("request")
    if request is None or request.method != "POST":
        return []
    ids = []
    for value in request.POST.getlist("attachmentFileIds"):
        try:
            ids.append(uuid.UUID(value))
        except ValueError:
            continue
    found = {file.pk: file for file in files_attachable(user=request.user).filter(pk__in=ids)}
    return [found[file_id] for file_id in ids if file_id in found]
