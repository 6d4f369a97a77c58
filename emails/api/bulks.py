"""`/api/email/bulk`: one request to many people, its progress, pause, resume, cancel, retry, and its report.

Thin: the request's shapes in (the recipients read lightly, item by item:
one bad item is a skipped row, never a failed request), one service or
selector, the envelope (or a CSV stream) out.
"""

from __future__ import annotations

import uuid
from typing import Any, cast

from django.contrib.auth.models import User
from django.http import StreamingHttpResponse
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from core.errors import FieldError
from core.rest.envelope import PaginationSerializer, envelope_schema, error_responses, ok
from core.rest.pagination import SeedsPaginated
from core.rest.shapes import shapes_parse
from core.rest.throttles import SendThrottle
from core.spreadsheet import csv_lines
from emails.accepting import (
    BulkDraft,
    BulkRow,
    bulk_accept,
    bulk_cancel,
    bulk_pause,
    bulk_resume,
    bulk_retry_failed,
)
from emails.api.messages import UUID_PATTERN
from emails.choices import Category, Priority
from emails.models import Bulk
from emails.selectors import (
    REPORT_COLUMNS,
    bulk_get,
    bulk_get_changeable,
    bulk_report_rows,
    bulk_summary,
    bulks_visible_to,
)


class BulkRecipientSerializer(serializers.Serializer[Any]):
    """One recipient of a bulk (schema only: the items are read by `_rows`, so one bad item skips one row)."""

    to = serializers.EmailField()
    name = serializers.CharField(required=False)
    templateData = serializers.DictField(required=False)
    clientId = serializers.CharField(required=False)
    tags = serializers.DictField(child=serializers.CharField(), required=False)


class BulkSendSerializer(serializers.Serializer[Any]):
    """`POST /api/email/bulk`: a template or inline Django templates, shared fields, and the recipients."""

    name = serializers.CharField(help_text="What the bulk is called in lists and the report; 1-200 characters.")
    templateId = serializers.CharField(required=False, allow_blank=True)
    subject = serializers.CharField(required=False, allow_blank=True, help_text="A Django template, per recipient.")
    htmlContent = serializers.CharField(required=False, allow_blank=True, trim_whitespace=False)
    textContent = serializers.CharField(required=False, allow_blank=True, trim_whitespace=False)
    category = serializers.ChoiceField(choices=Category.choices)
    priority = serializers.ChoiceField(choices=Priority.choices, default=Priority.NORMAL)
    replyTo = serializers.CharField(required=False, allow_blank=True)
    sendAt = serializers.CharField(required=False, allow_blank=True)
    tags = serializers.DictField(child=serializers.CharField(allow_blank=True), required=False)
    recipientsFileId = serializers.UUIDField(required=False, help_text="A completed CSV file of yours, instead.")
    recipients = serializers.ListField(
        child=BulkRecipientSerializer(), required=False, max_length=100_000, help_text="Up to 100,000."
    )

    def get_fields(self) -> dict[str, Any]:
        fields = super().get_fields()
        fields["from"] = serializers.CharField(required=False, allow_blank=True)  # a keyword, so not an attribute
        # Read by `_rows`, not by DRF: a nested serializer per item would make a bad item fail the request.
        fields.pop("recipients")
        return fields


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _rows(data: Any) -> tuple[list[BulkRow] | None, list[FieldError]]:
    """The recipients item by item: what is not a recipient becomes a row skipped with the reason."""
    items = data.get("recipients") if hasattr(data, "get") else None
    if items is None:
        return None, []
    if not isinstance(items, list):
        return None, [FieldError(("recipients",), "Must be a list of recipients.")]
    rows = []
    for item in items:
        if not isinstance(item, dict):
            rows.append(BulkRow(to="", problem='Each recipient must be an object, like {"to": "jo@example.com"}.'))
            continue
        data_value, tags = item.get("templateData", {}), item.get("tags", {})
        problem = ""
        if not isinstance(data_value, dict):
            problem, data_value = "templateData must be an object.", {}
        if not isinstance(tags, dict):
            problem, tags = "tags must be an object.", {}
        rows.append(BulkRow(to=_text(item.get("to")), name=_text(item.get("name")), template_data=data_value,
                            client_id=_text(item.get("clientId")), tags=tags, problem=problem))  # fmt: skip
    return rows, []


def bulk_draft(data: Any) -> BulkDraft:
    """The draft of a bulk from a request body: what parsed, and what did not as the draft's problems."""
    values, problems = shapes_parse(BulkSendSerializer(), data)
    rows, row_problems = _rows(data)
    return BulkDraft(
        name=values.get("name", ""),
        template=values.get("templateId", ""),
        subject=values.get("subject", ""),
        html=values.get("htmlContent", ""),
        text=values.get("textContent", ""),
        category=values.get("category", ""),
        priority=values.get("priority", ""),
        reply_to=values.get("replyTo", ""),
        from_email=values.get("from", ""),
        send_at=values.get("sendAt", ""),
        tags=values.get("tags") or {},
        rows=rows,
        recipients_file_id=values.get("recipientsFileId"),
        problems=[*problems, *row_problems],
    )


class BulkCountsSerializer(serializers.Serializer[Any]):
    queued = serializers.IntegerField()
    sent = serializers.IntegerField()
    delivered = serializers.IntegerField()
    bounced = serializers.IntegerField()
    complained = serializers.IntegerField()
    failed = serializers.IntegerField()
    suppressed = serializers.IntegerField()
    cancelled = serializers.IntegerField()
    skipped = serializers.IntegerField()


class BulkSerializer(serializers.Serializer[Any]):
    bulkId = serializers.UUIDField()
    name = serializers.CharField()
    status = serializers.ChoiceField(choices=["scheduled", "queued", "sending", "paused", "done", "cancelled"])
    total = serializers.IntegerField()
    accepted = serializers.IntegerField()
    counts = BulkCountsSerializer()
    progress = serializers.IntegerField(min_value=0, max_value=100)
    sendAt = serializers.DateTimeField(allow_null=True)
    createdAt = serializers.DateTimeField()
    startedAt = serializers.DateTimeField(allow_null=True)
    finishedAt = serializers.DateTimeField(allow_null=True)


class SkippedSerializer(serializers.Serializer[Any]):
    index = serializers.IntegerField()
    to = serializers.CharField()
    reason = serializers.CharField()


_Accepted = inline_serializer(
    "BulkAccepted",
    {
        "bulkId": serializers.UUIDField(),
        "total": serializers.IntegerField(),
        "accepted": serializers.IntegerField(),
        "skipped": SkippedSerializer(many=True),
    },
)
_Page = inline_serializer("BulkPage", {"bulks": BulkSerializer(many=True), "pagination": PaginationSerializer()})


class BulkViewSet(SeedsPaginated, viewsets.GenericViewSet[Bulk]):
    items_key = "bulks"
    lookup_value_regex = UUID_PATTERN
    throttle_classes = [SendThrottle.on("create", "retry_failed")]

    @extend_schema(
        request=BulkSendSerializer,
        responses={202: envelope_schema("BulkAccepted", _Accepted), **error_responses(400, 401, 429, 503)},
    )
    def create(self, request: Request) -> Response:
        bulk = bulk_accept(owner=cast(User, request.user), draft=bulk_draft(request.data))
        return ok(
            {"bulkId": str(bulk.pk), "total": bulk.total, "accepted": bulk.accepted, "skipped": bulk.skipped},
            message=f"{bulk.accepted} of {bulk.total} recipients accepted",
            status=status.HTTP_202_ACCEPTED,
        )

    @extend_schema(responses={200: envelope_schema("BulkList", _Page), **error_responses(400, 401)})
    def list(self, request: Request) -> Response:
        page = self.paginate_queryset(bulks_visible_to(request.user).order_by("-created_at")) or []
        return self.page_response([bulk_summary(bulk).as_dict() for bulk in page], message="Bulks retrieved")

    @extend_schema(responses={200: envelope_schema("Bulk", BulkSerializer), **error_responses(401, 404)})
    def retrieve(self, request: Request, pk: str) -> Response:
        return ok(bulk_summary(bulk_get(user=request.user, bulk_id=uuid.UUID(pk))).as_dict())

    def _change(self, request: Request, pk: str, change: Any, words: str) -> Response:
        bulk = bulk_get_changeable(user=request.user, bulk_id=uuid.UUID(pk))
        moved = change(bulk=bulk)
        return ok(bulk_summary(bulk).as_dict(), message=f"{moved} message{'s' if moved != 1 else ''} {words}")

    @extend_schema(request=None, responses={200: envelope_schema("Bulk", BulkSerializer),
                                            **error_responses(401, 403, 404, 409)})  # fmt: skip
    @action(detail=True, methods=["post"])
    def pause(self, request: Request, pk: str) -> Response:
        return self._change(request, pk, bulk_pause, "paused")

    @extend_schema(request=None, responses={200: envelope_schema("Bulk", BulkSerializer),
                                            **error_responses(401, 403, 404, 409)})  # fmt: skip
    @action(detail=True, methods=["post"])
    def resume(self, request: Request, pk: str) -> Response:
        return self._change(request, pk, bulk_resume, "resumed")

    @extend_schema(request=None, responses={200: envelope_schema("Bulk", BulkSerializer),
                                            **error_responses(401, 403, 404, 409)})  # fmt: skip
    @action(detail=True, methods=["post"])
    def cancel(self, request: Request, pk: str) -> Response:
        return self._change(request, pk, bulk_cancel, "cancelled")

    @extend_schema(request=None, responses={200: envelope_schema("Bulk", BulkSerializer),
                                            **error_responses(401, 403, 404, 409, 429)})  # fmt: skip
    @action(detail=True, methods=["post"], url_path="retry-failed")
    def retry_failed(self, request: Request, pk: str) -> Response:
        return self._change(request, pk, bulk_retry_failed, "queued again")

    @extend_schema(responses={(200, "text/csv"): str, **error_responses(401, 404)})
    @action(detail=True, methods=["get"], url_path="report.csv")
    def report(self, request: Request, pk: str) -> StreamingHttpResponse:
        bulk = bulk_get(user=request.user, bulk_id=uuid.UUID(pk))
        response = StreamingHttpResponse(csv_lines(REPORT_COLUMNS, bulk_report_rows(bulk)),
                                         content_type="text/csv; charset=utf-8")  # fmt: skip
        response["Content-Disposition"] = f'attachment; filename="bulk-{bulk.pk}.csv"'
        return response
