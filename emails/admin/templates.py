"""Templates in the admin, saved through the templating wing like anywhere else; users' sender settings."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.contrib.auth.models import User
from django.db.models import QuerySet
from django.http import HttpRequest

from core.errors import ValidationFailed
from emails.models import (
    SenderSettings,
    Template,
    TemplateVersion,
)
from emails.templating import TemplateDraft, template_check, template_delete, template_save


def _template_draft(data: dict[str, Any], slug: str) -> TemplateDraft:
    def text(name: str) -> str:
        return str(data.get(name) or "")

    return TemplateDraft(slug=slug, name=text("name"), subject=text("subject"), html=text("html"), text=text("text"),
                         category=text("category"))  # fmt: skip


class TemplateAdminForm(forms.ModelForm):
    """The admin's template form: every rule is the templating wing's (syntax, slug, variables), shown on its field."""

    class Meta:
        model = Template
        fields = ["slug", "name", "category", "subject", "html", "text"]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        existing = self.instance if self.instance.pk else None
        draft = _template_draft(cleaned, existing.slug if existing else str(cleaned.get("slug") or ""))
        try:
            template_check(draft=draft, template=existing)
        except ValidationFailed as exc:
            for error in exc.errors:
                field = str(error.path[0]) if error.path and error.path[0] in self.fields else None
                self.add_error(field, error.message)
        return cleaned


class TemplateVersionInline(admin.TabularInline):
    model = TemplateVersion
    fields = ["number", "note", "subject", "created_at", "created_by"]
    readonly_fields = ["number", "note", "subject", "created_at", "created_by"]
    extra = 0
    can_delete = False
    ordering = ["-number"]

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Template)
class TemplateAdmin(admin.ModelAdmin):
    """Saved through `template_save`, as from the API and the editor: a version per save; system ones stay."""

    form = TemplateAdminForm
    list_display = ["name", "slug", "category", "version", "is_system", "updated_at"]
    list_filter = ["category", "is_system"]
    search_fields = ["name", "slug", "subject"]
    inlines = [TemplateVersionInline]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        fixed = ["variables", "version", "is_system", "updated_by", "updated_at"]
        return ["slug", *fixed] if obj is not None else fixed

    def get_prepopulated_fields(self, request: HttpRequest, obj: Any = None) -> dict[str, Any]:
        return {} if obj is not None else {"slug": ["name"]}

    def save_model(self, request: HttpRequest, obj: Template, form: Any, change: bool) -> None:
        draft = _template_draft(form.cleaned_data, obj.slug)
        user = request.user if isinstance(request.user, User) else None
        saved = template_save(draft=draft, by=user, template=Template.objects.get(pk=obj.pk) if change else None)
        obj.pk = saved.pk
        obj.refresh_from_db()

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        if obj is not None and obj.is_system:
            return False
        return super().has_delete_permission(request, obj)

    def delete_model(self, request: HttpRequest, obj: Template) -> None:
        template_delete(template=obj)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Template]) -> None:
        # The bulk action refuses a selection holding a system template (has_delete_permission); the service decides.
        for template in queryset:
            template_delete(template=template)


@admin.register(SenderSettings)
class SenderSettingsAdmin(admin.ModelAdmin):
    list_display = ["user", "reply_to", "category", "priority", "updated_at"]
    search_fields = ["user__username", "reply_to"]
    raw_id_fields = ["user"]
