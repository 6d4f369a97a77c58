"""`/api/email`: send, the log, one message, cancel, reschedule, resend, the SES quota (the seeds' paths and shapes).

Thin: parse, call one service or selector, answer in the envelope. Errors
are domain errors, answered by core.rest's one exception handler.
"""

from __future__ import annotations

import uuid
from typing import cast

from django.contrib.auth.models import User
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from core.errors import ValidationFailed
from core.rest.envelope import PaginationSerializer, envelope_schema, error_responses, ok
from core.rest.pagination import SeedsPaginated
from core.rest.shapes import shapes_parse
from core.rest.throttles import SendThrottle
from emails.accepting import email_cancel, email_queue, email_reschedule, email_resend
from emails.api.serializers import (
    EmailQueuedSerializer,
    EmailSendSerializer,
    EmailStatsSerializer,
    MessageDetailSerializer,
    MessageSummarySerializer,
    QuotaSerializer,
    RescheduleSerializer,
    ResendSerializer,
    message_detail_data,
    message_summaries_data,
    queued_data,
    send_draft,
)
from emails.choices import MessageStatus
from emails.models import Message
from emails.queries import EmailQuerySerializer
from emails.selectors import email_get, email_get_changeable, email_list, email_quota, email_stats

UUID_PATTERN = "[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"

IDEMPOTENCY_HEADER = OpenApiParameter(
    "Idempotency-Key",
    str,
    OpenApiParameter.HEADER,
    required=False,
    description="The same key from the same user within 24 h returns the first result and sends nothing new.",
)
_EmailPage = inline_serializer(
    "EmailPage",
    {
        "emails": MessageSummarySerializer(many=True),
        "pagination": PaginationSerializer(),
        "stats": EmailStatsSerializer(),
    },
)


class MessageViewSet(SeedsPaginated, viewsets.GenericViewSet[Message]):
    items_key = "emails"
    lookup_value_regex = UUID_PATTERN
    throttle_classes = [SendThrottle.on("create", "resend")]

    @extend_schema(
        request=EmailSendSerializer,
        parameters=[IDEMPOTENCY_HEADER],
        responses={
            201: envelope_schema("EmailQueued", EmailQueuedSerializer),
            200: envelope_schema("EmailReplayed", EmailQueuedSerializer),
            **error_responses(400, 401, 409, 429, 503),
        },
    )
    def create(self, request: Request) -> Response:
        result = email_queue(
            owner=cast(User, request.user),  # IsAuthenticated let only signed-in users this far
            draft=send_draft(request.data),
            idempotency_key=request.headers.get("Idempotency-Key", "").strip(),
        )
        if not result.created:
            words = "Email already accepted for this key"
        elif result.message.status == MessageStatus.SCHEDULED:
            words = "Email scheduled"
        else:
            words = "Email queued for sending"
        return ok(
            queued_data(result),
            message=words,
            status=status.HTTP_201_CREATED if result.created else status.HTTP_200_OK,
        )

    @extend_schema(
        parameters=[EmailQuerySerializer],
        responses={200: envelope_schema("EmailList", _EmailPage), **error_responses(400, 401)},
    )
    def list(self, request: Request) -> Response:
        query = EmailQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        messages = email_list(user=request.user, filters=query.to_filters())
        page = self.paginate_queryset(messages.prefetch_related("recipients"))
        return self.page_response(
            message_summaries_data(page),
            message="Email log retrieved successfully",
            stats=email_stats(messages=messages),
        )

    @extend_schema(responses={200: envelope_schema("Email", MessageDetailSerializer), **error_responses(401, 404)})
    def retrieve(self, request: Request, pk: str) -> Response:
        message = email_get(user=request.user, message_id=uuid.UUID(pk))
        return ok(message_detail_data(message))

    @extend_schema(
        request=RescheduleSerializer,
        responses={200: envelope_schema("Email", MessageDetailSerializer), **error_responses(400, 401, 403, 404, 409)},
    )
    def partial_update(self, request: Request, pk: str) -> Response:
        """Reschedule: move a scheduled message to a new `sendAt`."""
        message = email_get_changeable(user=request.user, message_id=uuid.UUID(pk))
        values, problems = shapes_parse(RescheduleSerializer(), request.data)
        if problems:
            raise ValidationFailed(problems)
        message = email_reschedule(message=message, send_at=values["sendAt"])
        return ok(message_detail_data(email_get(user=request.user, message_id=message.pk)),
                  message="Email rescheduled")  # fmt: skip

    @extend_schema(
        request=None,
        responses={200: envelope_schema("Email", MessageDetailSerializer), **error_responses(401, 403, 404, 409)},
    )
    @action(detail=True, methods=["post"])
    def cancel(self, request: Request, pk: str) -> Response:
        message = email_get_changeable(user=request.user, message_id=uuid.UUID(pk))
        email_cancel(message=message, by=cast(User, request.user))
        return ok(message_detail_data(email_get(user=request.user, message_id=message.pk)),
                  message="Email cancelled")  # fmt: skip

    @extend_schema(
        request=ResendSerializer,
        responses={
            201: envelope_schema("EmailQueued", EmailQueuedSerializer),
            **error_responses(400, 401, 403, 404, 409, 429),
        },
    )
    @action(detail=True, methods=["post"])
    def resend(self, request: Request, pk: str) -> Response:
        message = email_get_changeable(user=request.user, message_id=uuid.UUID(pk))
        values, problems = shapes_parse(ResendSerializer(), request.data)
        if problems:
            raise ValidationFailed(problems)
        result = email_resend(message=message, by=cast(User, request.user), which=values["recipients"])
        return ok(queued_data(result), message="Email queued again", status=status.HTTP_201_CREATED)

    @extend_schema(responses={200: envelope_schema("Quota", QuotaSerializer), **error_responses(401, 503)})
    @action(detail=False, methods=["get"])
    def quota(self, request: Request) -> Response:
        return ok(email_quota(), message="Send quota retrieved successfully")
