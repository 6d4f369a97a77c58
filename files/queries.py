"""The file list's query string (the seeds' filters), read the same way by the API and the files page."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from core.rest.shapes import MAX_DB_INTEGER
from files.choices import FileCategory, FileStatus
from files.selectors import SORT_FIELDS, FileFilters

SORT_BY_CHOICES = sorted(SORT_FIELDS)


class FileQuerySerializer(serializers.Serializer[Any]):
    """The seeds' file query string."""

    page = serializers.IntegerField(min_value=1, max_value=MAX_DB_INTEGER, default=1)
    limit = serializers.IntegerField(min_value=1, max_value=100, default=20)
    search = serializers.CharField(required=False, allow_blank=True, max_length=200)
    category = serializers.ChoiceField(choices=FileCategory.choices, required=False, allow_blank=True)
    status = serializers.ChoiceField(choices=FileStatus.choices, required=False, allow_blank=True)
    departmentId = serializers.CharField(required=False, allow_blank=True, max_length=100)
    department = serializers.CharField(required=False, allow_blank=True, max_length=100)
    clientId = serializers.CharField(required=False, allow_blank=True, max_length=100)
    userId = serializers.IntegerField(required=False, min_value=1, max_value=MAX_DB_INTEGER)
    tag = serializers.CharField(required=False, allow_blank=True, max_length=50)
    sortBy = serializers.ChoiceField(choices=SORT_BY_CHOICES, default="createdAt")
    sortOrder = serializers.ChoiceField(choices=["asc", "desc"], default="desc")

    def to_filters(self) -> FileFilters:
        data = self.validated_data
        return FileFilters(
            search=data.get("search") or "",
            category=data.get("category") or "",
            status=data.get("status") or "",
            department_id=data.get("departmentId") or data.get("department") or "",
            client_id=data.get("clientId") or "",
            owner_id=data.get("userId"),
            tag=data.get("tag") or "",
            sort_by=data["sortBy"],
            sort_order=data["sortOrder"],
        )
