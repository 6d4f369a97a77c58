"""The files API's shapes (the seeds'): what a request body or query parses into, and how a file is shown.

Shapes only: the rules (allowed types, size limits, names) are the
services' (files/validation.py), whoever calls them.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from files.choices import ALLOWED_CONTENT_TYPE_CHOICES, FileCategory
from files.models import File


class FileUploadRequestSerializer(serializers.Serializer[Any]):
    """The seeds' upload-URL request body."""

    fileName = serializers.CharField(trim_whitespace=False, allow_blank=True)
    contentType = serializers.ChoiceField(choices=ALLOWED_CONTENT_TYPE_CHOICES)
    category = serializers.ChoiceField(choices=FileCategory.choices)
    maxSizeBytes = serializers.IntegerField(required=False, help_text="At most FILE_MAX_SIZE_BYTES (100 MB).")
    isPublic = serializers.BooleanField(default=False)
    metadata = serializers.DictField(child=serializers.CharField(allow_blank=True), required=False)
    clientId = serializers.CharField(required=False, allow_blank=True)
    departmentId = serializers.CharField(required=False, allow_blank=True)


class FileCompleteSerializer(serializers.Serializer[Any]):
    fileId = serializers.UUIDField()
    # The seeds' clients send it; the size is measured in storage instead.
    actualSize = serializers.IntegerField(required=False, help_text="Ignored: the server measures the stored object.")


class FileMetadataSerializer(serializers.Serializer[Any]):
    uploadedBy = serializers.CharField()
    checksum = serializers.CharField()
    tags = serializers.ListField(child=serializers.CharField())
    ipAddress = serializers.CharField(required=False, allow_null=True, help_text="To those who manage the file only.")
    userAgent = serializers.CharField(required=False, help_text="To those who manage the file only.")


class S3InfoSerializer(serializers.Serializer[Any]):
    bucket = serializers.CharField()
    region = serializers.CharField()
    etag = serializers.CharField()
    versionId = serializers.CharField()


class FileAccessSerializer(serializers.Serializer[Any]):
    downloadCount = serializers.IntegerField()
    lastAccessed = serializers.DateTimeField(allow_null=True)
    expiresAt = serializers.DateTimeField(allow_null=True)


class FileSerializer(serializers.ModelSerializer[Any]):
    """A file in the seeds' shape. Uploader IP and user agent are shown to those who manage it only."""

    fileName = serializers.CharField(source="file_name")
    originalName = serializers.CharField(source="original_name")
    contentType = serializers.CharField(source="content_type")
    isPublic = serializers.BooleanField(source="is_public")
    userId = serializers.IntegerField(source="owner_id")
    clientId = serializers.CharField(source="client_id")
    departmentId = serializers.CharField(source="department_id")
    failureReason = serializers.CharField(source="failure_reason")
    metadata = serializers.SerializerMethodField()
    s3Info = serializers.SerializerMethodField()
    access = serializers.SerializerMethodField()
    createdAt = serializers.DateTimeField(source="created_at")
    updatedAt = serializers.DateTimeField(source="updated_at")
    completedAt = serializers.DateTimeField(source="completed_at")

    class Meta:
        model = File
        fields = [
            "id", "key", "fileName", "originalName", "contentType", "size", "category", "status", "failureReason",
            "isPublic", "userId", "clientId", "departmentId", "metadata", "s3Info", "access", "createdAt",
            "updatedAt", "completedAt",
        ]  # fmt: skip

    def _private(self, file: File) -> bool:
        user = self.context.get("user")
        return user is not None and (user.pk == file.owner_id or user.has_perm("files.view_all_files"))

    @extend_schema_field(FileMetadataSerializer)
    def get_metadata(self, file: File) -> dict[str, Any]:
        data: dict[str, Any] = {
            **file.extra_metadata,
            "uploadedBy": str(file.uploaded_by_id or file.owner_id),
            "checksum": file.checksum,
            "tags": [tag.name for tag in file.tags.all()],
        }
        if self._private(file):
            data["ipAddress"] = file.uploader_ip
            data["userAgent"] = file.user_agent
        return data

    @extend_schema_field(S3InfoSerializer)
    def get_s3Info(self, file: File) -> dict[str, Any]:
        return {"bucket": file.bucket, "region": file.region, "etag": file.etag, "versionId": file.version_id}

    @extend_schema_field(FileAccessSerializer)
    def get_access(self, file: File) -> dict[str, Any]:
        return {
            "downloadCount": file.download_count,
            "lastAccessed": file.last_accessed_at.isoformat() if file.last_accessed_at else None,
            "expiresAt": file.expires_at.isoformat() if file.expires_at else None,
        }
