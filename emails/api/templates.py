"""`/api/email/templates`: the team's templates by slug, their previews, versions and a test send to oneself.

Thin: shapes in, one service call, the envelope out. Every rule of a
template (syntax, variables, the slug, system templates) is the templating
wing's; a test send is an ordinary send, checked by the accepting wing.
"""

from __future__ import annotations

from typing import Any, cast

from django.contrib.auth.models import User
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response

from core.errors import FieldError, ValidationFailed
from core.rest.envelope import envelope_schema, error_responses, ok
from core.rest.permissions import action_permissions
from core.rest.shapes import shapes_parse
from core.rest.throttles import SendThrottle
from emails.accepting import template_test_send
from emails.api.serializers import EmailQueuedSerializer, queued_data
from emails.choices import Category
from emails.models import Template, TemplateVersion
from emails.selectors import templates_all
from emails.templating import (
    TemplateDraft,
    template_delete,
    template_get,
    template_preview,
    template_restore,
    template_save,
    template_versions,
)

SLUG_PATTERN = r"[A-Za-z0-9_-]{1,100}"


class VariableSerializer(serializers.Serializer[Any]):
    name = serializers.CharField()
    # A declared field, not Field.required: DRF's metaclass moves declared fields off the class.
    required = serializers.BooleanField()  # type: ignore[assignment]


class TemplateSerializer(serializers.ModelSerializer[Template]):
    variables = VariableSerializer(many=True)
    isSystem = serializers.BooleanField(source="is_system")
    updatedAt = serializers.DateTimeField(source="updated_at")
    updatedBy = serializers.CharField(source="updated_by.get_username", default=None, allow_null=True)

    class Meta:
        model = Template
        fields = ["id", "slug", "name", "subject", "html", "text", "category", "variables", "version", "isSystem",
                  "updatedAt", "updatedBy"]  # fmt: skip


class TemplateVersionSerializer(serializers.ModelSerializer[TemplateVersion]):
    version = serializers.IntegerField(source="number")
    variables = VariableSerializer(many=True)
    createdAt = serializers.DateTimeField(source="created_at")
    createdBy = serializers.CharField(source="created_by.get_username", default=None, allow_null=True)

    class Meta:
        model = TemplateVersion
        fields = ["version", "name", "subject", "html", "text", "category", "variables", "note", "createdAt",
                  "createdBy"]  # fmt: skip


def _text(**kwargs: Any) -> serializers.CharField:
    return serializers.CharField(required=False, allow_blank=True, trim_whitespace=False, **kwargs)


class TemplateWriteSerializer(serializers.Serializer[Any]):
    """A template's fields as a save gives them (the rules are the service's: syntax, variables, the slug)."""

    slug = _text(help_text="Set once, on create: what a send's templateId names.")
    name = _text(help_text="1-200 characters.")
    subject = _text(help_text="A Django template, one line, 1-200 characters.")
    html = _text(help_text="A Django template (autoescape on); at most 50,000 characters.")
    text = _text(help_text="A Django template; at most 50,000 characters.")
    category = serializers.ChoiceField(choices=Category.choices, required=False)
    version = serializers.IntegerField(
        required=False,
        min_value=1,
        max_value=2**31 - 1,
        help_text="On an update, the version you edited: a save over a newer one is a 409, not a lost edit.",
    )


class TemplateDataSerializer(serializers.Serializer[Any]):
    templateData = serializers.DictField(required=False, help_text="The variables, as a send gives them.")


class RestoreSerializer(serializers.Serializer[Any]):
    version = serializers.IntegerField(min_value=1, max_value=2**31 - 1)


_Templates = inline_serializer("TemplateList", {"templates": TemplateSerializer(many=True)})
_Deleted = inline_serializer(
    "TemplateDeletion", {"slug": serializers.CharField(), "deleted": serializers.BooleanField()}
)
_Versions = inline_serializer("TemplateVersionList", {"versions": TemplateVersionSerializer(many=True)})
_Preview = inline_serializer(
    "TemplatePreview",
    {"subject": serializers.CharField(), "html": serializers.CharField(), "text": serializers.CharField()},
)


def _draft(data: Any) -> tuple[TemplateDraft, int | None]:
    """The draft, and the version it was edited from when the caller says."""
    values, problems = shapes_parse(TemplateWriteSerializer(), data)
    version = values.pop("version", None)
    return TemplateDraft(**values, problems=problems), version


def _template_data(data: Any) -> dict[str, Any]:
    values, problems = shapes_parse(TemplateDataSerializer(), data)
    if problems:
        raise ValidationFailed(problems)
    return cast(dict[str, Any], values.get("templateData") or {})


class TemplateViewSet(viewsets.ViewSet):
    """Templates are the team's: who may do what is the Django model permissions, not ownership."""

    lookup_field = "slug"
    lookup_value_regex = SLUG_PATTERN
    throttle_classes = [SendThrottle.on("test")]
    permission_classes = [
        IsAuthenticated,
        action_permissions(
            {
                "create": "emails.add_template",
                "update": "emails.change_template",
                "partial_update": "emails.change_template",
                "restore": "emails.change_template",
                "destroy": "emails.delete_template",
            },
            default="emails.view_template",
        ),
    ]

    @extend_schema(responses={200: envelope_schema("Templates", _Templates), **error_responses(401, 403)})
    def list(self, request: Request) -> Response:
        templates = templates_all()
        return ok({"templates": TemplateSerializer(templates, many=True).data})

    @extend_schema(
        request=TemplateWriteSerializer,
        responses={201: envelope_schema("Template", TemplateSerializer), **error_responses(400, 401, 403)},
    )
    def create(self, request: Request) -> Response:
        draft, _ = _draft(request.data)
        template = template_save(draft=draft, by=cast(User, request.user))
        return ok(TemplateSerializer(template).data, message="Template created", status=status.HTTP_201_CREATED)

    @extend_schema(responses={200: envelope_schema("Template", TemplateSerializer), **error_responses(401, 403, 404)})
    def retrieve(self, request: Request, slug: str) -> Response:
        return ok(TemplateSerializer(template_get(slug=slug)).data)

    @extend_schema(
        request=TemplateWriteSerializer,
        responses={200: envelope_schema("Template", TemplateSerializer), **error_responses(400, 401, 403, 404, 409)},
    )
    def update(self, request: Request, slug: str) -> Response:
        return self._save(request, slug, partial=False)

    @extend_schema(
        request=TemplateWriteSerializer,
        responses={200: envelope_schema("Template", TemplateSerializer), **error_responses(400, 401, 403, 404, 409)},
    )
    def partial_update(self, request: Request, slug: str) -> Response:
        return self._save(request, slug, partial=True)

    def _save(self, request: Request, slug: str, *, partial: bool) -> Response:
        draft, version = _draft(request.data)
        template = template_save(
            draft=draft,
            by=cast(User, request.user),
            template=template_get(slug=slug),
            partial=partial,
            expected_version=version,
        )
        return ok(TemplateSerializer(template).data, message=f"Saved as version {template.version}")

    @extend_schema(responses={200: envelope_schema("TemplateDeleted", _Deleted), **error_responses(401, 403, 404, 409)})
    def destroy(self, request: Request, slug: str) -> Response:
        template = template_get(slug=slug)
        template_delete(template=template)
        return ok({"slug": slug, "deleted": True}, message=f"Template {template.name!r} deleted")

    @extend_schema(
        request=TemplateDataSerializer,
        responses={200: envelope_schema("TemplatePreview", _Preview), **error_responses(400, 401, 403, 404)},
    )
    @action(detail=True, methods=["post"])
    def preview(self, request: Request, slug: str) -> Response:
        template = template_get(slug=slug)
        data = _template_data(request.data)
        rendered = template_preview(subject=template.subject, html=template.html, text=template.text, data=data)
        return ok({"subject": rendered.subject, "html": rendered.html, "text": rendered.text})

    @extend_schema(
        request=TemplateDataSerializer,
        responses={
            201: envelope_schema("TemplateTest", EmailQueuedSerializer),
            **error_responses(400, 401, 403, 404, 429),
        },
    )
    @action(detail=True, methods=["post"])
    def test(self, request: Request, slug: str) -> Response:
        result = template_test_send(
            owner=cast(User, request.user), template=template_get(slug=slug), data=_template_data(request.data)
        )
        return ok(queued_data(result), message="Test email queued to your address", status=status.HTTP_201_CREATED)

    @extend_schema(responses={200: envelope_schema("TemplateVersions", _Versions), **error_responses(401, 403, 404)})
    @action(detail=True, methods=["get"])
    def versions(self, request: Request, slug: str) -> Response:
        versions = template_versions(template=template_get(slug=slug))
        return ok({"versions": TemplateVersionSerializer(versions, many=True).data})

    @extend_schema(
        request=RestoreSerializer,
        responses={200: envelope_schema("Template", TemplateSerializer), **error_responses(400, 401, 403, 404)},
    )
    @action(detail=True, methods=["post"])
    def restore(self, request: Request, slug: str) -> Response:
        values, problems = shapes_parse(RestoreSerializer(), request.data)
        if problems or "version" not in values:
            raise ValidationFailed(problems or [FieldError(("version",), "This field is required.", "required")])
        template = template_restore(
            template=template_get(slug=slug), number=values["version"], by=cast(User, request.user)
        )
        return ok(
            TemplateSerializer(template).data, message=f"Version {values['version']} restored as {template.version}"
        )
