"""REST endpoints for files, in the seeds' envelope. Domain errors become HTTP answers here."""

from __future__ import annotations

import logging
import uuid
from typing import Any, cast

from django.conf import settings
from django.contrib.auth.models import User
from django.core.paginator import Paginator
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from files.exceptions import (
    FileError,
    FileForbidden,
    FileNotFound,
    StorageUnavailable,
    UploadNotReceived,
    UploadRejected,
)
from files.selectors import file_get, file_list
from files.serializers import FileCompleteSerializer, FileQuerySerializer, FileSerializer, FileUploadRequestSerializer
from files.services import file_delete, file_download_url, file_upload_finish, file_upload_start

logger = logging.getLogger(__name__)


def file_error_response(exc: FileError) -> Response:
    """The one translation of the files' domain errors into HTTP."""
    if isinstance(exc, FileNotFound):
        return Response({"success": False, "error": str(exc)}, status=status.HTTP_404_NOT_FOUND)
    if isinstance(exc, FileForbidden):
        return Response({"success": False, "error": str(exc)}, status=status.HTTP_403_FORBIDDEN)
    if isinstance(exc, UploadNotReceived):
        return Response({"success": False, "error": str(exc)}, status=status.HTTP_409_CONFLICT)
    if isinstance(exc, StorageUnavailable):
        logger.warning("File storage unavailable", exc_info=exc)
        return Response(
            {"success": False, "error": "File storage is unavailable; try again shortly."},
            status=status.HTTP_503_SERVICE_UNAVAILABLE,
        )
    if isinstance(exc, UploadRejected):
        return Response(
            {
                "success": False,
                "error": f"The upload was rejected: {exc.reason}",
                "details": [{"path": ["fileId"], "message": exc.reason}],
            },
            status=status.HTTP_422_UNPROCESSABLE_ENTITY,
        )
    return Response({"success": False, "error": str(exc)}, status=status.HTTP_400_BAD_REQUEST)


class FilesAPIView(APIView):
    def handle_exception(self, exc: Exception) -> Response:
        if isinstance(exc, FileError):
            return file_error_response(exc)
        return super().handle_exception(exc)

    def file_data(self, file: Any) -> dict[str, Any]:
        return dict(FileSerializer(file, context={"user": self.request.user}).data)


def _client_ip(request: Request) -> str | None:
    return request.META.get("REMOTE_ADDR") or None


class FileUploadUrlView(FilesAPIView):
    @extend_schema(request=FileUploadRequestSerializer, responses={201: dict, 400: dict})
    def post(self, request: Request) -> Response:
        body = FileUploadRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        started = file_upload_start(
            owner=cast(User, request.user),
            file_name=data["fileName"],
            content_type=data["contentType"],
            category=data["category"],
            max_size=data.get("maxSizeBytes") or settings.FILE_DEFAULT_MAX_SIZE_BYTES,
            is_public=data["isPublic"],
            metadata=data.get("metadata"),
            client_id=data.get("clientId") or "",
            department_id=data.get("departmentId") or "",
            ip=_client_ip(request),
            user_agent=request.headers.get("User-Agent", ""),
        )
        return Response(
            {
                "success": True,
                "data": {
                    "uploadUrl": request.build_absolute_uri(started.target.url),
                    "method": "POST",
                    "fields": started.target.fields,
                    "fileKey": started.file.key,
                    "fileId": str(started.file.pk),
                    "expiresIn": started.expires_in,
                    "maxSizeBytes": started.file.max_size,
                },
                "message": "POST the file as multipart/form-data: every field, then the file as `file`. "
                "Then call /api/files/complete with the fileId.",
            },
            status=status.HTTP_201_CREATED,
        )


class FileCompleteView(FilesAPIView):
    @extend_schema(request=FileCompleteSerializer, responses={200: dict, 409: dict, 422: dict})
    def post(self, request: Request) -> Response:
        body = FileCompleteSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        file = file_upload_finish(user=request.user, file_id=body.validated_data["fileId"])
        return Response({"success": True, "data": {"file": self.file_data(file)}, "message": "Upload completed"})


class FileCollectionView(FilesAPIView):
    @extend_schema(parameters=[FileQuerySerializer], responses={200: dict})
    def get(self, request: Request) -> Response:
        query = FileQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        files = file_list(user=request.user, filters=query.to_filters())
        paginator = Paginator(files, query.validated_data["limit"])
        page = paginator.get_page(query.validated_data["page"])
        context = {"user": request.user}
        return Response(
            {
                "success": True,
                "data": {
                    "files": FileSerializer(page.object_list, many=True, context=context).data,
                    "pagination": {
                        "page": page.number,
                        "limit": paginator.per_page,
                        "total": paginator.count,
                        "pages": paginator.num_pages,
                    },
                },
                "message": "Files retrieved successfully",
            }
        )


class FileDetailView(FilesAPIView):
    @extend_schema(responses={200: dict, 404: dict})
    def get(self, request: Request, file_id: uuid.UUID) -> Response:
        file = file_get(user=request.user, file_id=file_id)
        return Response({"success": True, "data": {"file": self.file_data(file)}})

    @extend_schema(responses={200: dict, 403: dict, 404: dict})
    def delete(self, request: Request, file_id: uuid.UUID) -> Response:
        file = file_delete(user=request.user, file_id=file_id)
        return Response(
            {"success": True, "data": {"file": self.file_data(file)}, "message": "File deleted successfully"}
        )


class FileDownloadUrlView(FilesAPIView):
    @extend_schema(responses={200: dict, 403: dict, 404: dict})
    def get(self, request: Request, file_id: uuid.UUID) -> Response:
        link = file_download_url(user=request.user, file_id=file_id)
        file = link.file
        return Response(
            {
                "success": True,
                "data": {
                    "downloadUrl": request.build_absolute_uri(link.url),
                    "expiresIn": link.expires_in,
                    "file": {
                        "id": str(file.pk),
                        "fileName": file.file_name,
                        "originalName": file.original_name,
                        "contentType": file.content_type,
                        "size": file.size,
                    },
                },
            }
        )
