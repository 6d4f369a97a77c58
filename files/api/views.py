"""`/api/files`: the upload flow, the list, one file, its download URL, soft delete (the seeds' paths and shapes).

Thin: parse, call one service or selector, answer in the envelope. Errors
are domain errors, answered by core.rest's one exception handler.
"""

from __future__ import annotations

import uuid
from typing import Any, cast

from django.contrib.auth.models import User
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from core.rest.envelope import PaginationSerializer, envelope_schema, error_responses, ok
from core.rest.pagination import SeedsPaginated
from core.rest.shapes import shapes_parse
from core.rest.throttles import UploadThrottle
from files.api.serializers import FileCompleteSerializer, FileSerializer, FileUploadRequestSerializer
from files.models import File
from files.queries import FileQuerySerializer
from files.selectors import file_get, file_list
from files.services import file_delete, file_download_url, file_upload_finish, file_upload_start

UUID_PATTERN = "[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"

_FileData = inline_serializer("FileData", {"file": FileSerializer()})
_UploadUrl = inline_serializer(
    "UploadUrl",
    {
        "uploadUrl": serializers.URLField(),
        "method": serializers.ChoiceField(choices=["POST"]),
        "fields": serializers.DictField(child=serializers.CharField()),
        "fileKey": serializers.CharField(),
        "fileId": serializers.UUIDField(),
        "expiresIn": serializers.IntegerField(),
        "maxSizeBytes": serializers.IntegerField(),
    },
)
_FilePage = inline_serializer("FilePage", {"files": FileSerializer(many=True), "pagination": PaginationSerializer()})
_DownloadUrl = inline_serializer(
    "DownloadUrl",
    {
        "downloadUrl": serializers.URLField(),
        "expiresIn": serializers.IntegerField(),
        "file": inline_serializer(
            "DownloadFile",
            {
                "id": serializers.UUIDField(),
                "fileName": serializers.CharField(),
                "originalName": serializers.CharField(),
                "contentType": serializers.CharField(),
                "size": serializers.IntegerField(),
            },
        ),
    },
)


class FileViewSet(SeedsPaginated, viewsets.GenericViewSet[File]):
    items_key = "files"
    lookup_value_regex = UUID_PATTERN
    throttle_classes = [UploadThrottle.on("upload_url", "complete")]

    def _file(self, file: File) -> dict[str, Any]:
        return dict(FileSerializer(file, context={"user": self.request.user}).data)

    @extend_schema(
        parameters=[FileQuerySerializer],
        responses={200: envelope_schema("FileList", _FilePage), **error_responses(400, 401)},
    )
    def list(self, request: Request) -> Response:
        query = FileQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        files = self.paginate_queryset(file_list(user=request.user, filters=query.to_filters()))
        data = FileSerializer(files, many=True, context={"user": request.user}).data
        return self.page_response(data, message="Files retrieved successfully")

    @extend_schema(responses={200: envelope_schema("File", _FileData), **error_responses(401, 404)})
    def retrieve(self, request: Request, pk: str) -> Response:
        return ok({"file": self._file(file_get(user=request.user, file_id=uuid.UUID(pk)))})

    @extend_schema(responses={200: envelope_schema("DeletedFile", _FileData), **error_responses(401, 403, 404)})
    def destroy(self, request: Request, pk: str) -> Response:
        file = file_delete(user=request.user, file_id=uuid.UUID(pk))
        return ok({"file": self._file(file)}, message="File deleted successfully")

    @extend_schema(
        request=FileUploadRequestSerializer,
        responses={201: envelope_schema("UploadUrl", _UploadUrl), **error_responses(400, 401, 429, 503)},
    )
    @action(detail=False, methods=["post"], url_path="upload-url")
    def upload_url(self, request: Request) -> Response:
        data, problems = shapes_parse(FileUploadRequestSerializer(), request.data)
        started = file_upload_start(
            owner=cast(User, request.user),
            file_name=data.get("fileName", ""),
            content_type=data.get("contentType", ""),
            category=data.get("category", ""),
            max_size=data.get("maxSizeBytes"),
            is_public=data.get("isPublic", False),
            metadata=data.get("metadata"),
            client_id=data.get("clientId") or "",
            department_id=data.get("departmentId") or "",
            ip=request.META.get("REMOTE_ADDR") or None,
            user_agent=request.headers.get("User-Agent", ""),
            problems=problems,
        )
        return ok(
            {
                "uploadUrl": request.build_absolute_uri(started.target.url),
                "method": "POST",
                "fields": started.target.fields,
                "fileKey": started.file.key,
                "fileId": str(started.file.pk),
                "expiresIn": started.expires_in,
                "maxSizeBytes": started.file.max_size,
            },
            message="POST the file as multipart/form-data: every field, then the file as `file`. "
            "Then call /api/files/complete with the fileId.",
            status=status.HTTP_201_CREATED,
        )

    @extend_schema(
        request=FileCompleteSerializer,
        responses={
            200: envelope_schema("CompletedFile", _FileData),
            **error_responses(400, 401, 404, 409, 422, 429, 503),
        },
    )
    @action(detail=False, methods=["post"])
    def complete(self, request: Request) -> Response:
        body = FileCompleteSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        file = file_upload_finish(user=request.user, file_id=body.validated_data["fileId"])
        return ok({"file": self._file(file)}, message="Upload completed")

    @extend_schema(responses={200: envelope_schema("DownloadUrl", _DownloadUrl), **error_responses(401, 403, 404)})
    @action(detail=True, methods=["get"], url_path="download-url")
    def download_url(self, request: Request, pk: str) -> Response:
        link = file_download_url(user=request.user, file_id=uuid.UUID(pk))
        file = link.file
        return ok(
            {
                "downloadUrl": request.build_absolute_uri(link.url),
                "expiresIn": link.expires_in,
                "file": {
                    "id": str(file.pk),
                    "fileName": file.file_name,
                    "originalName": file.original_name,
                    "contentType": file.content_type,
                    "size": file.size,
                },
            }
        )
