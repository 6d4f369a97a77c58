"""REST endpoints for sending and reading email (paths as the seeds' clients call them)."""

from __future__ import annotations

import uuid
from typing import cast

from django.contrib.auth.models import User
from django.core.paginator import Paginator
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from emails.api_errors import invalid_response
from emails.models import Message
from emails.selectors import email_get, email_list, email_quota, email_stats
from emails.serializers import (
    EmailQuerySerializer,
    EmailSendSerializer,
    MessageDetailSerializer,
    MessageSummarySerializer,
)
from emails.services import email_queue

IDEMPOTENCY_HEADER = OpenApiParameter(
    "Idempotency-Key",
    str,
    OpenApiParameter.HEADER,
    required=False,
    description="The same key from the same user within 24 h returns the first result and sends nothing new.",
)


class EmailCollectionView(APIView):
    @extend_schema(request=EmailSendSerializer, parameters=[IDEMPOTENCY_HEADER], responses={201: dict, 400: dict})
    def post(self, request: Request) -> Response:
        key = request.headers.get("Idempotency-Key", "").strip()
        if len(key) > 255:
            return invalid_response({"Idempotency-Key": ["At most 255 characters."]})
        serializer = EmailSendSerializer(data=request.data, context={"request": request})
        serializer.is_valid(raise_exception=True)
        # IsAuthenticated let only signed-in users this far.
        owner = cast(User, request.user)
        result = email_queue(owner=owner, request=serializer.to_request(), idempotency_key=key)
        message = result.message
        return Response(
            {
                "success": True,
                "data": {
                    "messageId": str(message.pk),
                    "emailLogId": str(message.pk),
                    "status": message.status,
                    "recipientCount": message.recipient_count,
                    "attachmentCount": message.attachments.count(),
                    "idempotentReplay": not result.created,
                },
                "message": "Email queued for sending" if result.created else "Email already accepted for this key",
            },
            status=status.HTTP_201_CREATED if result.created else status.HTTP_200_OK,
        )

    @extend_schema(parameters=[EmailQuerySerializer], responses={200: dict})
    def get(self, request: Request) -> Response:
        query = EmailQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        messages = email_list(user=request.user, filters=query.to_filters())
        paginator = Paginator(messages.prefetch_related("recipients"), query.validated_data["limit"])
        page = paginator.get_page(query.validated_data["page"])
        return Response(
            {
                "success": True,
                "data": {
                    "emails": MessageSummarySerializer(page.object_list, many=True).data,
                    "pagination": {
                        "page": page.number,
                        "limit": paginator.per_page,
                        "total": paginator.count,
                        "pages": paginator.num_pages,
                    },
                    "stats": email_stats(messages=messages),
                },
                "message": "Email log retrieved successfully",
            }
        )


class EmailDetailView(APIView):
    @extend_schema(responses={200: MessageDetailSerializer})
    def get(self, request: Request, message_id: uuid.UUID) -> Response:
        try:
            message = email_get(user=request.user, message_id=message_id)
        except Message.DoesNotExist:
            return Response({"success": False, "error": "Email not found"}, status=status.HTTP_404_NOT_FOUND)
        return Response({"success": True, "data": MessageDetailSerializer(message).data})


class EmailQuotaView(APIView):
    @extend_schema(responses={200: dict})
    def get(self, request: Request) -> Response:
        return Response({"success": True, "data": email_quota(), "message": "Send quota retrieved successfully"})
