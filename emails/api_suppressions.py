"""Staff endpoints for the suppression list and the reputation guard."""

from __future__ import annotations

from typing import Any, cast

from django.contrib.auth.models import User
from django.core.paginator import Paginator
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.permissions import BasePermission
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from emails.choices import SUPPRESSION_SCOPES, SuppressionReason
from emails.models import ReputationHold, Suppression
from emails.selectors import suppression_list
from emails.suppression import reputation_rates, reputation_resume, suppression_add, suppression_lift


def permission(codename: str) -> type[BasePermission]:
    """A DRF permission class requiring one Django permission."""

    class HasPermission(BasePermission):
        def has_permission(self, request: Request, view: Any) -> bool:
            return bool(request.user and request.user.is_authenticated and request.user.has_perm(codename))

    HasPermission.__name__ = f"Has_{codename.replace('.', '_')}"
    return HasPermission


class SuppressionSerializer(serializers.ModelSerializer):
    createdAt = serializers.DateTimeField(source="created_at", read_only=True)
    liftedAt = serializers.DateTimeField(source="lifted_at", read_only=True)
    liftedBy = serializers.CharField(source="lifted_by.get_username", read_only=True, default=None)
    eventId = serializers.IntegerField(source="event_id", read_only=True)

    class Meta:
        model = Suppression
        fields = ["id", "address", "scope", "reason", "detail", "eventId", "createdAt", "liftedAt", "liftedBy"]


class SuppressionCreateSerializer(serializers.Serializer):
    address = serializers.EmailField(max_length=254)
    scope = serializers.ChoiceField(choices=SUPPRESSION_SCOPES, default="all")
    detail = serializers.CharField(required=False, allow_blank=True, max_length=2000)


class SuppressionQuerySerializer(serializers.Serializer):
    page = serializers.IntegerField(min_value=1, default=1)
    limit = serializers.IntegerField(min_value=1, max_value=100, default=20)
    search = serializers.CharField(required=False, allow_blank=True, max_length=254)
    reason = serializers.ChoiceField(choices=SuppressionReason.choices, required=False, allow_blank=True)
    scope = serializers.ChoiceField(choices=SUPPRESSION_SCOPES, required=False, allow_blank=True)
    active = serializers.BooleanField(default=True)


class SuppressionCollectionView(APIView):
    def get_permissions(self) -> list[BasePermission]:
        codename = "emails.add_suppression" if self.request.method == "POST" else "emails.view_suppression"
        return [permission(codename)()]

    @extend_schema(parameters=[SuppressionQuerySerializer], responses={200: dict})
    def get(self, request: Request) -> Response:
        query = SuppressionQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        data = query.validated_data
        rows = suppression_list(
            search=data.get("search") or "",
            reason=data.get("reason") or "",
            scope=data.get("scope") or "",
            active=data["active"],
        )
        page = Paginator(rows, data["limit"]).get_page(data["page"])
        return Response(
            {
                "success": True,
                "data": {
                    "suppressions": SuppressionSerializer(page.object_list, many=True).data,
                    "pagination": {
                        "page": page.number,
                        "limit": data["limit"],
                        "total": page.paginator.count,
                        "pages": page.paginator.num_pages,
                    },
                },
            }
        )

    @extend_schema(request=SuppressionCreateSerializer, responses={201: SuppressionSerializer})
    def post(self, request: Request) -> Response:
        payload = SuppressionCreateSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        suppression = suppression_add(
            address=payload.validated_data["address"],
            scope=payload.validated_data["scope"],
            reason=SuppressionReason.MANUAL,
            detail=payload.validated_data.get("detail", ""),
        )
        return Response(
            {"success": True, "data": SuppressionSerializer(suppression).data}, status=status.HTTP_201_CREATED
        )


class SuppressionDetailView(APIView):
    permission_classes = [permission("emails.change_suppression")]

    @extend_schema(responses={200: SuppressionSerializer})
    def delete(self, request: Request, suppression_id: int) -> Response:
        suppression = Suppression.objects.filter(pk=suppression_id).first()
        if suppression is None:
            return Response({"success": False, "error": "Suppression not found"}, status=status.HTTP_404_NOT_FOUND)
        suppression_lift(suppression=suppression, by=cast(User, request.user))
        return Response(
            {"success": True, "data": SuppressionSerializer(suppression).data, "message": "Suppression lifted"}
        )


class ReputationView(APIView):
    permission_classes = [permission("emails.view_reputationhold")]

    @extend_schema(responses={200: dict})
    def get(self, request: Request) -> Response:
        rates = reputation_rates()
        holds = ReputationHold.objects.filter(resumed_at__isnull=True)
        return Response(
            {
                "success": True,
                "data": {
                    "last24Hours": {
                        **rates,
                        "bounceRate": float(rates["bounceRate"]),
                        "complaintRate": float(rates["complaintRate"]),
                    },
                    "holds": [
                        {"id": h.pk, "category": h.category, "reason": h.reason, "startedAt": h.started_at}
                        for h in holds
                    ],
                },
            }
        )


class ReputationResumeView(APIView):
    permission_classes = [permission("emails.change_reputationhold")]

    @extend_schema(request=None, responses={200: dict})
    def post(self, request: Request, hold_id: int) -> Response:
        hold = ReputationHold.objects.filter(pk=hold_id, resumed_at__isnull=True).first()
        if hold is None:
            return Response(
                {"success": False, "error": "No active hold with that id"}, status=status.HTTP_404_NOT_FOUND
            )
        queued = reputation_resume(hold=hold, by=cast(User, request.user))
        return Response({"success": True, "data": {"requeued": queued}, "message": "Sending resumed"})
