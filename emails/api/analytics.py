"""`/api/email/analytics`, `/api/email/contacts/<address>`, `/api/email/account`: how mail performs, one person, SES.

Thin: parse the query, call one selector, shape the answer in the envelope.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers, viewsets
from rest_framework.permissions import BasePermission
from rest_framework.request import Request
from rest_framework.response import Response

from core.rest.envelope import PaginationSerializer, envelope_schema, error_responses, ok
from core.rest.pagination import SeedsPaginated
from core.rest.permissions import staff_with
from emails.api.serializers import EventSerializer, MessageSummarySerializer, message_summaries_data
from emails.models import Recipient
from emails.queries import AnalyticsQuerySerializer, PageQuerySerializer
from emails.selectors import ACCOUNT_PERMISSION, contact_get, email_analytics, ses_account

_COUNTS = {name: serializers.IntegerField() for name in ("emails", "recipients", "sent", "delivered", "bounced",
                                                           "complained")}  # fmt: skip
_RATES = ("deliveryRate", "bounceRate", "complaintRate", "openRate", "clickRate")


def _row(component: str, **fields: Any) -> Any:
    return inline_serializer(component, {**fields, **_COUNTS, "cost": serializers.FloatField()}, many=True)


_Analytics = inline_serializer(
    "Analytics",
    {
        "stats": inline_serializer(
            "AnalyticsStats",
            {
                "totalEmails": serializers.IntegerField(),
                "totalRecipients": serializers.IntegerField(),
                "totalCost": serializers.FloatField(),
                "avgSize": serializers.IntegerField(),
                "byStatus": inline_serializer("StatusCount", {"status": serializers.CharField(),
                                                             "count": serializers.IntegerField()}, many=True),
                "byCategory": inline_serializer("CategoryCount", {"category": serializers.CharField(),
                                                                 "count": serializers.IntegerField()}, many=True),
                "byPriority": inline_serializer("PriorityCount", {"priority": serializers.CharField(),
                                                                 "count": serializers.IntegerField()}, many=True),
            },
        ),
        "rates": inline_serializer(
            "OutcomeRates",
            {
                **{name: serializers.IntegerField() for name in ("sent", "delivered", "bounced", "complained",
                                                                  "opened", "clicked", "suppressed", "failed")},
                **{name: serializers.FloatField(help_text="Of sent, in [0, 1].") for name in _RATES},
            },
        ),
        "costByCategory": inline_serializer(
            "CategoryCost", {"category": serializers.CharField(), "cost": serializers.FloatField()}, many=True
        ),
        "daily": inline_serializer(
            "Day",
            {"date": serializers.DateField(), **_COUNTS, "opened": serializers.IntegerField(),
             "clicked": serializers.IntegerField(), "cost": serializers.FloatField()},
            many=True,
        ),
        "byClient": _row("ClientRow", clientId=serializers.CharField()),
        "byUser": _row("UserRow", userId=serializers.IntegerField(), username=serializers.CharField()),
        "byTemplate": _row("TemplateRow", templateId=serializers.UUIDField(allow_null=True),
                           name=serializers.CharField()),
        "byRecipientDomain": inline_serializer(
            "DomainRow",
            {"domain": serializers.CharField(), **{n: serializers.IntegerField() for n in ("sent", "delivered",
             "bounced", "complained")}, "bounceRate": serializers.FloatField(),
             "complaintRate": serializers.FloatField()},
            many=True,
        ),
        "deliveryTime": inline_serializer(
            "DeliveryTime",
            {name: serializers.FloatField(allow_null=True) for name in ("avgSeconds", "p50Seconds", "p95Seconds")},
        ),
        "recentEmails": MessageSummarySerializer(many=True),
    },
)  # fmt: skip


def analytics_data(*, request: Request, query: AnalyticsQuerySerializer) -> dict[str, Any]:
    """The analytics answer's data (the dashboard page renders the same)."""
    data = email_analytics(user=request.user, filters=query.to_filters())
    data["recentEmails"] = message_summaries_data(data["recentEmails"])
    return data


class AnalyticsViewSet(viewsets.ViewSet):
    @extend_schema(
        parameters=[AnalyticsQuerySerializer],
        responses={200: envelope_schema("Analytics", _Analytics), **error_responses(400, 401)},
    )
    def list(self, request: Request) -> Response:
        query = AnalyticsQuerySerializer(data=request.query_params, context={"user": request.user})
        query.is_valid(raise_exception=True)
        return ok(analytics_data(request=request, query=query), message="Analytics retrieved successfully")


class SuppressionBriefSerializer(serializers.Serializer[Any]):
    scope = serializers.CharField()
    reason = serializers.CharField()
    createdAt = serializers.DateTimeField(source="created_at")
    liftedAt = serializers.DateTimeField(source="lifted_at", allow_null=True)


class ContactMessageSerializer(serializers.ModelSerializer[Recipient]):
    """One message an address was on, as that address lived it."""

    messageId = serializers.UUIDField(source="message_id")
    subject = serializers.CharField(source="message.subject")
    category = serializers.CharField(source="message.category")
    sentAt = serializers.DateTimeField(source="sent_at", allow_null=True)
    recipientStatus = serializers.CharField(source="status")
    events = EventSerializer(many=True)

    class Meta:
        model = Recipient
        fields = ["messageId", "subject", "category", "kind", "sentAt", "recipientStatus", "reason", "events"]


_ContactStats = inline_serializer(
    "ContactStats",
    {**{n: serializers.IntegerField() for n in ("messages", "sent", "delivered", "bounced", "complained", "opened",
                                                 "clicked")}, "lastSentAt": serializers.DateTimeField(allow_null=True)},
)  # fmt: skip
_Contact = inline_serializer(
    "Contact",
    {
        # The address asked for, as matched (lower-cased): whatever was asked, an address or not.
        "address": serializers.CharField(),
        "suppressed": serializers.BooleanField(help_text="Whether we would refuse to mail the address at all."),
        "suppressions": SuppressionBriefSerializer(many=True),
        "stats": _ContactStats,
        "messages": ContactMessageSerializer(many=True),
        "pagination": PaginationSerializer(),
    },
)


class ContactViewSet(SeedsPaginated, viewsets.GenericViewSet[Recipient]):
    items_key = "messages"
    lookup_value_regex = ".+?"  # an address may hold a "/" (a%2Fb@example.com); the slash after it is optional

    @extend_schema(
        parameters=[PageQuerySerializer, OpenApiParameter("id", str, OpenApiParameter.PATH, description="An address.")],
        # 404: a path no address route takes (one with a line break).
        responses={200: envelope_schema("Contact", _Contact), **error_responses(400, 401, 404)},
    )
    def retrieve(self, request: Request, pk: str) -> Response:
        PageQuerySerializer(data=request.query_params).is_valid(raise_exception=True)
        contact = contact_get(user=request.user, address=pk)
        page = self.paginate_queryset(contact.deliveries)
        return self.page_response(
            ContactMessageSerializer(page, many=True).data,
            address=contact.address,
            suppressed=contact.suppressed,
            suppressions=SuppressionBriefSerializer(contact.suppressions, many=True).data,
            stats=contact.stats,
        )


_Judged = inline_serializer(
    "Judged",
    {"value": serializers.FloatField(), "level": serializers.ChoiceField(choices=["ok", "review", "pause"]),
     "review": serializers.FloatField(), "pause": serializers.FloatField()},
)  # fmt: skip
_Trailing = inline_serializer(
    "Trailing",
    {"sent": serializers.IntegerField(), "bounced": serializers.IntegerField(),
     "complained": serializers.IntegerField(), "bounceRate": _Judged, "complaintRate": _Judged},
)  # fmt: skip
_Account = inline_serializer(
    "Account",
    {
        "quota": serializers.DictField(),
        "statistics": inline_serializer(
            "StatisticsDay",
            {"date": serializers.DateField(), **{n: serializers.IntegerField() for n in ("deliveryAttempts",
             "bounces", "complaints", "rejects")}},
            many=True,
        ),
        "reputation": inline_serializer("AccountReputation", {"last24Hours": _Trailing, "last7Days": _Trailing}),
        "holds": inline_serializer(
            "AccountHold", {"id": serializers.IntegerField(), "category": serializers.CharField(),
                            "reason": serializers.CharField(), "startedAt": serializers.DateTimeField()}, many=True,
        ),
    },
)  # fmt: skip


def account_data() -> dict[str, Any]:
    account = ses_account()
    account["holds"] = [
        {"id": h.pk, "category": h.category, "reason": h.reason, "startedAt": h.started_at} for h in account["holds"]
    ]
    return account


class AccountViewSet(viewsets.ViewSet):
    def get_permissions(self) -> list[BasePermission]:
        return [staff_with(ACCOUNT_PERMISSION)()]  # as the dashboard's panel: selectors.account_visible_to

    @extend_schema(responses={200: envelope_schema("Account", _Account), **error_responses(401, 403, 503)})
    def list(self, request: Request) -> Response:
        return ok(account_data())
