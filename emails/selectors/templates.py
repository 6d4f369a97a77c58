"""Reads of the team's templates (who may view them is the view_template permission, checked by the caller)."""

from __future__ import annotations

import uuid

from django.db.models import QuerySet

from emails.models import Template


def templates_all() -> QuerySet[Template]:
    """Every template, by name, with who saved it last."""
    return Template.objects.select_related("updated_by").order_by("name")


def template_by_id(template_id: uuid.UUID | None) -> Template | None:
    return Template.objects.filter(pk=template_id).first() if template_id is not None else None
