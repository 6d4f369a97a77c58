"""Staff endpoints for the suppression list and the reputation guard.

Both are global (they name every user's recipients), so they are for staff
holding the model permission, never for a plain user who happens to have it.
"""

from __future__ import annotations

from typing import Any, cast

from django.contrib.auth.models import User
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import BasePermission
from rest_framework.request import Request
from rest_framework.response import Response

from core.rest.envelope import PaginationSerializer, envelope_schema, error_responses, ok
from core.rest.pagination import SeedsPaginated
from core.rest.permissions import staff_with
from core.rest.shapes import MAX_DB_INTEGER
from emails.choices import SUPPRESSION_SCOPES, SuppressionReason
from emails.models import ReputationHold, Suppression
from emails.selectors import reputation_hold_get, reputation_holds_active, suppression_get, suppression_list
from emails.suppression import reputation_rates, reputation_resume, suppression_add, suppression_lift


class SuppressionSerializer(serializers.ModelSerializer[Any]):
    createdAt = serializers.DateTimeField(source="created_at", read_only=True)
    liftedAt = serializers.DateTimeField(source="lifted_at", read_only=True, allow_null=True)
    liftedBy = serializers.CharField(source="lifted_by.get_username", read_only=True, default=None, allow_null=True)
    eventId = serializers.IntegerField(source="event_id", read_only=True, allow_null=True)

    class Meta:
        model = Suppression
        fields = ["id", "address", "scope", "reason", "detail", "eventId", "createdAt", "liftedAt", "liftedBy"]


class SuppressionCreateSerializer(serializers.Serializer[Any]):
    address = serializers.EmailField(max_length=254)
    scope = serializers.ChoiceField(choices=SUPPRESSION_SCOPES, default="all")
    detail = serializers.CharField(required=False, allow_blank=True, max_length=2000)


class SuppressionQuerySerializer(serializers.Serializer[Any]):
    page = serializers.IntegerField(min_value=1, max_value=MAX_DB_INTEGER, default=1)
    limit = serializers.IntegerField(min_value=1, max_value=100, default=20)
    search = serializers.CharField(required=False, allow_blank=True, max_length=254)
    reason = serializers.ChoiceField(choices=SuppressionReason.choices, required=False, allow_blank=True)
    scope = serializers.ChoiceField(choices=SUPPRESSION_SCOPES, required=False, allow_blank=True)
    active = serializers.BooleanField(default=True)


class HoldSerializer(serializers.ModelSerializer[Any]):
    startedAt = serializers.DateTimeField(source="started_at")

    class Meta:
        model = ReputationHold
        fields = ["id", "category", "reason", "startedAt"]


class RatesSerializer(serializers.Serializer[Any]):
    sent = serializers.IntegerField()
    bounced = serializers.IntegerField()
    complaints = serializers.IntegerField()
    bounceRate = serializers.FloatField()
    complaintRate = serializers.FloatField()


_SuppressionPage = inline_serializer(
    "SuppressionPage", {"suppressions": SuppressionSerializer(many=True), "pagination": PaginationSerializer()}
)
_Reputation = inline_serializer("Reputation", {"last24Hours": RatesSerializer(), "holds": HoldSerializer(many=True)})
_Resumed = inline_serializer("Resumed", {"requeued": serializers.IntegerField()})


class SuppressionViewSet(SeedsPaginated, viewsets.GenericViewSet[Suppression]):
    items_key = "suppressions"
    lookup_value_regex = "[0-9]{1,18}"

    def get_permissions(self) -> list[BasePermission]:
        codename = {"create": "add_suppression", "destroy": "change_suppression"}.get(self.action, "view_suppression")
        return [staff_with(f"emails.{codename}")()]

    @extend_schema(
        parameters=[SuppressionQuerySerializer],
        responses={200: envelope_schema("SuppressionList", _SuppressionPage), **error_responses(400, 401, 403)},
    )
    def list(self, request: Request) -> Response:
        query = SuppressionQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        data = query.validated_data
        rows = suppression_list(
            search=data.get("search") or "",
            reason=data.get("reason") or "",
            scope=data.get("scope") or "",
            active=data["active"],
        )
        return self.page_response(SuppressionSerializer(self.paginate_queryset(rows), many=True).data)

    @extend_schema(
        request=SuppressionCreateSerializer,
        responses={201: envelope_schema("Suppression", SuppressionSerializer), **error_responses(400, 401, 403)},
    )
    def create(self, request: Request) -> Response:
        payload = SuppressionCreateSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        suppression = suppression_add(
            address=payload.validated_data["address"],
            scope=payload.validated_data["scope"],
            reason=SuppressionReason.MANUAL,
            detail=payload.validated_data.get("detail", ""),
        )
        return ok(SuppressionSerializer(suppression).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        responses={200: envelope_schema("LiftedSuppression", SuppressionSerializer), **error_responses(401, 403, 404)}
    )
    def destroy(self, request: Request, pk: str) -> Response:
        suppression = suppression_lift(suppression=suppression_get(suppression_id=int(pk)), by=cast(User, request.user))
        return ok(SuppressionSerializer(suppression).data, message="Suppression lifted")


class ReputationViewSet(viewsets.ViewSet):
    def get_permissions(self) -> list[BasePermission]:
        return [staff_with("emails.view_reputationhold")()]

    @extend_schema(responses={200: envelope_schema("Reputation", _Reputation), **error_responses(401, 403)})
    def list(self, request: Request) -> Response:
        rates: dict[str, Any] = reputation_rates()
        return ok(
            {
                "last24Hours": {
                    **rates,
                    "bounceRate": float(rates["bounceRate"]),
                    "complaintRate": float(rates["complaintRate"]),
                },
                "holds": HoldSerializer(reputation_holds_active(), many=True).data,
            }
        )


class ReputationHoldViewSet(viewsets.ViewSet):
    lookup_value_regex = "[0-9]{1,18}"

    def get_permissions(self) -> list[BasePermission]:
        return [staff_with("emails.change_reputationhold")()]

    @extend_schema(
        request=None, responses={200: envelope_schema("Resumed", _Resumed), **error_responses(401, 403, 404)}
    )
    @action(detail=True, methods=["post"])
    def resume(self, request: Request, pk: str) -> Response:
        queued = reputation_resume(hold=reputation_hold_get(hold_id=int(pk)), by=cast(User, request.user))
        return ok({"requeued": queued}, message="Sending resumed")
