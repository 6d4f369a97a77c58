"""The email log's query string (the seeds' filters plus sorting), read the same way by the API and the pages."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers
from rest_framework.exceptions import ErrorDetail

from core.rest.shapes import MAX_DB_INTEGER
from emails.choices import Category, MessageStatus, Priority, RecipientStatus
from emails.selectors import SORT_FIELDS, EmailFilters

SORT_BY_CHOICES = sorted(SORT_FIELDS)


class EmailQuerySerializer(serializers.Serializer[Any]):
    """The log's query string: the seeds' filters plus sorting."""

    page = serializers.IntegerField(min_value=1, max_value=MAX_DB_INTEGER, default=1)
    limit = serializers.IntegerField(min_value=1, max_value=100, default=20)
    search = serializers.CharField(required=False, allow_blank=True, max_length=200)
    status = serializers.ChoiceField(choices=MessageStatus.choices, required=False, allow_blank=True)
    category = serializers.ChoiceField(choices=Category.choices, required=False, allow_blank=True)
    priority = serializers.ChoiceField(choices=Priority.choices, required=False, allow_blank=True)
    recipientStatus = serializers.ChoiceField(choices=RecipientStatus.choices, required=False, allow_blank=True)
    clientId = serializers.CharField(required=False, allow_blank=True, max_length=100)
    userId = serializers.IntegerField(required=False, min_value=1, max_value=MAX_DB_INTEGER)
    startDate = serializers.DateField(required=False)
    endDate = serializers.DateField(required=False)
    sortBy = serializers.ChoiceField(choices=SORT_BY_CHOICES, default="createdAt")
    sortOrder = serializers.ChoiceField(choices=["asc", "desc"], default="desc")

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
            start_date=data.get("startDate"),
            end_date=data.get("endDate"),
            search=data.get("search") or "",
            sort_by=data["sortBy"],
            sort_order=data["sortOrder"],
        )
