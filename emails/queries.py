"""Query strings of the reads (the log's filters, analytics' period), parsed the same way by the API and pages."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.conf import settings
from django.utils import timezone
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.exceptions import ErrorDetail

from core.rest.shapes import MAX_DB_INTEGER, date_in_range
from core.text import uuid_parse
from emails.choices import Category, MessageStatus, Priority, RecipientStatus
from emails.models import Template
from emails.selectors import SORT_FIELDS, VIEW_ALL_PERMISSION, EmailFilters
from emails.selectors.analytics import AnalyticsFilters

SORT_BY_CHOICES = sorted(SORT_FIELDS)
# The most rows a page of a list holds.
PAGE_LIMIT_MAX = 100


class EmailQuerySerializer(serializers.Serializer[Any]):
    """The log's query string: the seeds' filters plus sorting."""

    page = serializers.IntegerField(min_value=1, max_value=MAX_DB_INTEGER, default=1)
    limit = serializers.IntegerField(min_value=1, max_value=PAGE_LIMIT_MAX, default=20)
    search = serializers.CharField(required=False, allow_blank=True, max_length=200)
    status = serializers.ChoiceField(choices=MessageStatus.choices, required=False, allow_blank=True)
    category = serializers.ChoiceField(choices=Category.choices, required=False, allow_blank=True)
    priority = serializers.ChoiceField(choices=Priority.choices, required=False, allow_blank=True)
    recipientStatus = serializers.ChoiceField(choices=RecipientStatus.choices, required=False, allow_blank=True)
    clientId = serializers.CharField(required=False, allow_blank=True, max_length=100)
    userId = serializers.IntegerField(required=False, min_value=1, max_value=MAX_DB_INTEGER)
    templateId = serializers.CharField(required=False, allow_blank=True, max_length=100)
    bulkId = serializers.UUIDField(required=False, help_text="Only this bulk's messages.")
    startDate = serializers.DateField(required=False, validators=[date_in_range])
    endDate = serializers.DateField(required=False, validators=[date_in_range])
    sortBy = serializers.ChoiceField(choices=SORT_BY_CHOICES, default="createdAt")
    sortOrder = serializers.ChoiceField(choices=["asc", "desc"], default="desc")

    def validate_templateId(self, value: str) -> Template | None:
        return template_lookup(value)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        start, end = attrs.get("startDate"), attrs.get("endDate")
        if start and end and start > end:
            raise serializers.ValidationError(
                {"endDate": ErrorDetail("Must not be before startDate.", code="date_range_reversed")}
            )
        return attrs

    def to_filters(self) -> EmailFilters:
        data = self.validated_data
        return EmailFilters(
            status=data.get("status") or "",
            category=data.get("category") or "",
            priority=data.get("priority") or "",
            recipient_status=data.get("recipientStatus") or "",
            client_id=data.get("clientId") or "",
            owner_id=data.get("userId"),
            template=data.get("templateId"),
            bulk_id=data.get("bulkId"),
            start_date=data.get("startDate"),
            end_date=data.get("endDate"),
            search=data.get("search") or "",
            sort_by=data["sortBy"],
            sort_order=data["sortOrder"],
        )


def template_lookup(value: str) -> Template | None:
    """A query's template, by slug or id; a ValidationError on the field when there is none."""
    if not value:
        return None
    lookup = {"pk": value} if uuid_parse(value) is not None else {"slug": value}
    template = Template.objects.filter(**lookup).first()
    if template is None:
        raise serializers.ValidationError(f"No template {value!r}.")
    return template


class PageQuerySerializer(serializers.Serializer[Any]):
    """A page of a list: `page` and `limit`, as the log's."""

    page = serializers.IntegerField(min_value=1, max_value=MAX_DB_INTEGER, default=1)
    limit = serializers.IntegerField(min_value=1, max_value=PAGE_LIMIT_MAX, default=20)


@extend_schema_field({"type": "string", "example": "2026-11-30"})
class MomentField(serializers.Field[Any, Any, Any, Any]):
    """`YYYY-MM-DD` (a whole day) or an ISO 8601 date-time."""

    default_error_messages = {"invalid": "Use YYYY-MM-DD or an ISO 8601 date-time."}

    def to_internal_value(self, data: Any) -> date | datetime:
        text = str(data).strip()
        try:
            if len(text) == 10:
                return date.fromisoformat(text)
            return datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            self.fail("invalid")

    def to_representation(self, value: Any) -> Any:
        return value.isoformat()


MAX_ANALYTICS_DAYS = 731
DEFAULT_ANALYTICS_DAYS = 30


class AnalyticsQuerySerializer(serializers.Serializer[Any]):
    """The analytics query string: a period (days cut in `tz`) and the log's filters. Needs `user` in its context."""

    startDate = MomentField(
        required=False, validators=[date_in_range], help_text="YYYY-MM-DD (inclusive) or an ISO 8601 date-time."
    )
    endDate = MomentField(
        required=False, validators=[date_in_range], help_text="YYYY-MM-DD (inclusive) or an ISO 8601 date-time."
    )
    tz = serializers.CharField(required=False, allow_blank=True, max_length=64, help_text="An IANA zone name.")
    category = serializers.ChoiceField(choices=Category.choices, required=False, allow_blank=True)
    priority = serializers.ChoiceField(choices=Priority.choices, required=False, allow_blank=True)
    clientId = serializers.CharField(required=False, allow_blank=True, max_length=100)
    templateId = serializers.CharField(required=False, allow_blank=True, max_length=100)
    bulkId = serializers.UUIDField(required=False, help_text="Only this bulk's messages.")
    userId = serializers.IntegerField(required=False, min_value=1, max_value=MAX_DB_INTEGER)

    def validate_tz(self, value: str) -> ZoneInfo:
        try:
            return ZoneInfo(value or settings.TIME_ZONE)
        except (ZoneInfoNotFoundError, ValueError):
            message = f"{value[:64]!r} is not a time zone name, such as Europe/Berlin."
            raise serializers.ValidationError(message) from None

    def validate_templateId(self, value: str) -> Template | None:
        return template_lookup(value)

    def validate_userId(self, value: int) -> int:
        user = self.context.get("user")
        if user is None or not user.has_perm(VIEW_ALL_PERMISSION):
            raise serializers.ValidationError("Only staff who may see everyone's mail can choose a user.")
        return value

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        zone = attrs.get("tz") or ZoneInfo(settings.TIME_ZONE)
        attrs["tz"] = zone
        start, end = _moment(attrs.get("startDate"), zone), _moment(attrs.get("endDate"), zone, end=True)
        if end is None:
            end = _moment(timezone.localtime(timezone.now(), zone).date(), zone, end=True)
        assert end is not None  # a day's end is always a moment
        if start is None:
            start = end - timedelta(days=DEFAULT_ANALYTICS_DAYS)
        if start >= end:
            raise serializers.ValidationError(
                {"endDate": ErrorDetail("Must not be before startDate.", code="date_range_reversed")}
            )
        if end - start > timedelta(days=MAX_ANALYTICS_DAYS):
            raise serializers.ValidationError({"startDate": f"At most {MAX_ANALYTICS_DAYS} days at a time."})
        attrs["start"], attrs["end"] = start, end
        return attrs

    def to_filters(self) -> AnalyticsFilters:
        data = self.validated_data
        return AnalyticsFilters(
            start=data["start"],
            end=data["end"],
            zone=data["tz"],
            category=data.get("category") or "",
            priority=data.get("priority") or "",
            client_id=data.get("clientId") or "",
            template=data.get("templateId"),
            bulk_id=data.get("bulkId"),
            owner_id=data.get("userId"),
        )


def _moment(value: date | datetime | None, zone: ZoneInfo, *, end: bool = False) -> datetime | None:
    """A filter's bound as an aware moment: a day starts at its midnight in `zone`, and an end day is inclusive."""
    if value is None:
        return None
    if isinstance(value, datetime):
        return value if timezone.is_aware(value) else value.replace(tzinfo=zone)
    day = value + timedelta(days=1) if end else value
    return datetime.combine(day, time.min, tzinfo=zone)
