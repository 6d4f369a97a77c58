"""The files API's request and response shapes (the seeds'), and the attachment fields of a send."""

from __future__ import annotations

import base64
import binascii
import json
import math
import re
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AnonymousUser, User
from rest_framework import serializers

from files.choices import ALLOWED_CONTENT_TYPES, FileCategory, FileStatus
from files.inspection import content_problem_of_bytes
from files.models import File
from files.naming import name_problem
from files.selectors import SORT_FIELDS, FileFilters, files_attachable
from files.services import AttachmentSpec

# The seeds' list, plus `attachment` (inline email attachments kept as files).
CATEGORIES = FileCategory.choices
MAX_METADATA_KEYS = 20
# Per email, inline and stored together (SPEC section 6).
MAX_ATTACHMENTS = settings.EMAIL_ATTACHMENTS_MAX_COUNT


def validate_file_name(value: str) -> None:
    problem = name_problem(value)
    if problem:
        raise serializers.ValidationError(problem)


def _mb(size: int | float) -> str:
    return f"{size / (1024 * 1024):.1f} MB"


class FileUploadRequestSerializer(serializers.Serializer):
    """The seeds' upload-URL request body."""

    fileName = serializers.CharField(trim_whitespace=False, max_length=1000, validators=[validate_file_name])
    contentType = serializers.ChoiceField(choices=sorted(ALLOWED_CONTENT_TYPES))
    category = serializers.ChoiceField(choices=CATEGORIES)
    maxSizeBytes = serializers.IntegerField(min_value=1, required=False)
    isPublic = serializers.BooleanField(default=False)
    metadata = serializers.DictField(child=serializers.CharField(max_length=500, allow_blank=True), required=False)
    clientId = serializers.CharField(required=False, allow_blank=True, max_length=100)
    departmentId = serializers.CharField(required=False, allow_blank=True, max_length=100)

    def validate_maxSizeBytes(self, value: int) -> int:
        if value > settings.FILE_MAX_SIZE_BYTES:
            raise serializers.ValidationError(
                f"Ensure this value is less than or equal to {settings.FILE_MAX_SIZE_BYTES} "
                f"({_mb(settings.FILE_MAX_SIZE_BYTES)})."
            )
        return value

    def validate_metadata(self, value: dict[str, str]) -> dict[str, str]:
        if len(value) > MAX_METADATA_KEYS:
            raise serializers.ValidationError(f"At most {MAX_METADATA_KEYS} keys.")
        return value


class FileCompleteSerializer(serializers.Serializer):
    fileId = serializers.UUIDField()
    # The seeds' clients send it; the size is measured in storage instead.
    actualSize = serializers.IntegerField(required=False, help_text="Ignored: the server measures the stored object.")


class FileQuerySerializer(serializers.Serializer):
    """The seeds' file query string."""

    page = serializers.IntegerField(min_value=1, default=1)
    limit = serializers.IntegerField(min_value=1, max_value=100, default=20)
    search = serializers.CharField(required=False, allow_blank=True, max_length=200)
    category = serializers.ChoiceField(choices=CATEGORIES, required=False, allow_blank=True)
    status = serializers.ChoiceField(choices=FileStatus.choices, required=False, allow_blank=True)
    departmentId = serializers.CharField(required=False, allow_blank=True, max_length=100)
    department = serializers.CharField(required=False, allow_blank=True, max_length=100)
    clientId = serializers.CharField(required=False, allow_blank=True, max_length=100)
    userId = serializers.IntegerField(required=False, min_value=1)
    tag = serializers.CharField(required=False, allow_blank=True, max_length=50)
    sortBy = serializers.ChoiceField(choices=sorted(SORT_FIELDS), default="createdAt")
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


class FileSerializer(serializers.ModelSerializer):
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
            "id",
            "key",
            "fileName",
            "originalName",
            "contentType",
            "size",
            "category",
            "status",
            "failureReason",
            "isPublic",
            "userId",
            "clientId",
            "departmentId",
            "metadata",
            "s3Info",
            "access",
            "createdAt",
            "updatedAt",
            "completedAt",
        ]

    def _private(self, file: File) -> bool:
        user = self.context.get("user")
        return user is not None and (user.pk == file.owner_id or user.has_perm("files.view_all_files"))

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

    def get_s3Info(self, file: File) -> dict[str, Any]:
        return {"bucket": file.bucket, "region": file.region, "etag": file.etag, "versionId": file.version_id}

    def get_access(self, file: File) -> dict[str, Any]:
        return {
            "downloadCount": file.download_count,
            "lastAccessed": file.last_accessed_at.isoformat() if file.last_accessed_at else None,
            "expiresAt": file.expires_at.isoformat() if file.expires_at else None,
        }


# --- Attachments of POST /api/email ---------------------------------------

_DATA_URL = re.compile(r"^data:[^,]*;base64,", re.IGNORECASE)


class InlineAttachmentSerializer(serializers.Serializer):
    """The seeds' `attachments` item: a base64 body, its name and its type."""

    filename = serializers.CharField(trim_whitespace=False, max_length=1000, validators=[validate_file_name])
    content = serializers.CharField(trim_whitespace=False, allow_blank=True)
    contentType = serializers.ChoiceField(choices=sorted(ALLOWED_CONTENT_TYPES))

    def validate_content(self, value: str) -> bytes:
        compact = "".join(_DATA_URL.sub("", value).split())
        if len(compact) > math.ceil(settings.EMAIL_INLINE_ATTACHMENTS_MAX_BYTES / 3) * 4:
            raise serializers.ValidationError(
                f"Inline attachments are at most {_mb(settings.EMAIL_INLINE_ATTACHMENTS_MAX_BYTES)} in all."
            )
        try:
            content = base64.b64decode(compact, validate=True)
        except (binascii.Error, ValueError):
            raise serializers.ValidationError("Must be base64-encoded content.") from None
        if not content:
            raise serializers.ValidationError("An attachment must not be empty.")
        return content

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        problem = content_problem_of_bytes(content_type=attrs["contentType"], content=attrs["content"])
        if problem:
            raise serializers.ValidationError({"content": problem})
        return attrs


class StoredAttachmentSerializer(serializers.Serializer):
    """The seeds' `s3Attachments` item: one of the caller's completed (or a public) file, by id or key."""

    fileId = serializers.UUIDField(required=False)
    key = serializers.CharField(required=False, max_length=512)
    filename = serializers.CharField(
        required=False, trim_whitespace=False, max_length=1000, validators=[validate_file_name]
    )
    contentType = serializers.CharField(required=False, max_length=100)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if not attrs.get("fileId") and not attrs.get("key"):
            raise serializers.ValidationError({"fileId": "Give the file's fileId or its key."})
        where = "fileId" if attrs.get("fileId") else "key"
        user = _user(self.context)
        lookup = {"pk": attrs["fileId"]} if attrs.get("fileId") else {"key": attrs["key"]}
        file = files_attachable(user=user).filter(**lookup).first()
        if file is None:
            raise serializers.ValidationError({where: "No such completed file among yours or the public ones."})
        if file.size > settings.EMAIL_STORED_ATTACHMENT_MAX_BYTES:
            raise serializers.ValidationError(
                {where: f"Stored attachments are at most {_mb(settings.EMAIL_STORED_ATTACHMENT_MAX_BYTES)} each."}
            )
        declared = attrs.get("contentType")
        if declared and declared != file.content_type:
            raise serializers.ValidationError(
                {"contentType": f"Does not match the stored file, which is {file.content_type}."}
            )
        attrs["file"] = file
        return attrs


def inline_attachments_field() -> serializers.ListSerializer[Any]:
    """The `attachments` field of a send: at most MAX_ATTACHMENTS inline attachments."""
    return serializers.ListSerializer(child=InlineAttachmentSerializer(), required=False, max_length=MAX_ATTACHMENTS)


def stored_attachments_field() -> serializers.ListSerializer[Any]:
    """The `s3Attachments` field of a send; needs the request in the serializer's context."""
    return serializers.ListSerializer(child=StoredAttachmentSerializer(), required=False, max_length=MAX_ATTACHMENTS)


def _user(context: dict[str, Any]) -> User | AnonymousUser:
    request = context.get("request")
    user = getattr(request, "user", None) or context.get("user")
    return user if user is not None else AnonymousUser()


def attachment_specs(data: dict[str, Any]) -> list[AttachmentSpec]:
    """The validated `attachments` then `s3Attachments` of a send, in that order."""
    specs = [
        AttachmentSpec(filename=item["filename"], content_type=item["contentType"], content=item["content"])
        for item in data.get("attachments") or []
    ]
    for item in data.get("s3Attachments") or []:
        file: File = item["file"]
        specs.append(
            AttachmentSpec(
                filename=item.get("filename") or file.original_name, content_type=file.content_type, file=file
            )
        )
    return specs


# Per attachment: its MIME headers and boundary; per message: every header.
_PART_OVERHEAD = 512
_HEADER_OVERHEAD = 16 * 1024


def raw_message_estimate(*, body_bytes: int, attachment_sizes: list[int]) -> int:
    """Bytes of the raw MIME SES will be given: bodies as sent, attachments base64 in 76-character lines."""
    encoded = sum(math.ceil(size / 57) * 78 + _PART_OVERHEAD for size in attachment_sizes)
    # Bodies go out as quoted-printable or base64 when they need it: 4/3 bounds both for real text.
    return _HEADER_OVERHEAD + math.ceil(body_bytes * 4 / 3) + encoded


def attachments_check(attrs: dict[str, Any]) -> None:
    """The limits across all attachments of a send (SPEC section 6); raises ValidationError."""
    inline = attrs.get("attachments") or []
    stored = attrs.get("s3Attachments") or []
    if not inline and not stored:
        return
    field = "attachments" if inline else "s3Attachments"
    limit = settings.EMAIL_ATTACHMENTS_MAX_COUNT
    if len(inline) + len(stored) > limit:
        raise serializers.ValidationError({field: f"At most {limit} attachments per email."})
    inline_bytes = sum(len(item["content"]) for item in inline)
    if inline_bytes > settings.EMAIL_INLINE_ATTACHMENTS_MAX_BYTES:
        raise serializers.ValidationError(
            {
                "attachments": f"Inline attachments are at most {_mb(settings.EMAIL_INLINE_ATTACHMENTS_MAX_BYTES)} "
                f"in all; these are {_mb(inline_bytes)}."
            }
        )
    body_bytes = sum(len((attrs.get(name) or "").encode()) for name in ("subject", "htmlContent", "textContent"))
    template = attrs.get("templateId")
    if template is not None:
        body_bytes += len(template.html.encode()) + len(template.text.encode())
        body_bytes += len(json.dumps(attrs.get("templateData") or {}, default=str).encode())
    sizes = [len(item["content"]) for item in inline] + [item["file"].size for item in stored]
    estimate = raw_message_estimate(body_bytes=body_bytes, attachment_sizes=sizes)
    if estimate > settings.EMAIL_RAW_MESSAGE_MAX_BYTES:
        raise serializers.ValidationError(
            {
                field: f"This email would be about {_mb(estimate)} once encoded, over the "
                f"{_mb(settings.EMAIL_RAW_MESSAGE_MAX_BYTES)} SES accepts in one message, so it cannot be sent. "
                "Attach fewer or smaller files, or send a download link instead."
            }
        )
