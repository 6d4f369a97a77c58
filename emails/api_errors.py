"""The one place domain and validation errors become HTTP answers (seeds' envelope)."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import Http404
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler

from emails.exceptions import EmailRenderError, IdempotencyConflict, ProviderUnavailable
from files.exceptions import StorageUnavailable

logger = logging.getLogger(__name__)


def error_details(errors: Any, path: list[str | int] | None = None) -> Iterator[dict[str, Any]]:
    """Flatten DRF's nested errors into the seeds' `[{"path": [...], "message": ...}]`."""
    path = path or []
    if isinstance(errors, dict):
        for key, value in errors.items():
            key_path = path if key in ("non_field_errors", "__all__") else [*path, _path_key(key)]
            yield from error_details(value, key_path)
    elif isinstance(errors, list):
        if all(not isinstance(item, (dict, list)) for item in errors):
            for item in errors:
                yield {"path": path, "message": str(item)}
        else:
            for index, item in enumerate(errors):
                yield from error_details(item, [*path, index] if isinstance(item, (dict, list)) else path)
    else:
        yield {"path": path, "message": str(errors)}


def _path_key(key: Any) -> str | int:
    if isinstance(key, int):
        return key
    return int(key) if isinstance(key, str) and key.isdigit() else str(key)


def invalid_response(errors: Any) -> Response:
    return Response(
        {"success": False, "error": "Invalid request data", "details": list(error_details(errors))},
        status=status.HTTP_400_BAD_REQUEST,
    )


def api_exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, exceptions.ValidationError):
        return invalid_response(exc.detail)
    if isinstance(exc, EmailRenderError):
        return invalid_response({"content": [f"The template could not be rendered: {exc}"]})
    if isinstance(exc, IdempotencyConflict):
        return Response({"success": False, "error": str(exc)}, status=status.HTTP_409_CONFLICT)
    if isinstance(exc, StorageUnavailable):  # storing inline attachments of a send
        logger.warning("File storage unavailable: %s", exc)
        return Response(
            {"success": False, "error": "File storage is unavailable; try again shortly."},
            status=status.HTTP_503_SERVICE_UNAVAILABLE,
        )
    if isinstance(exc, ProviderUnavailable):
        logger.warning("SES unavailable: %s", exc)
        return Response({"success": False, "error": str(exc)}, status=status.HTTP_503_SERVICE_UNAVAILABLE)
    if isinstance(exc, (Http404, PermissionDenied, exceptions.APIException)):
        response = exception_handler(exc, context)
        if response is not None:
            detail = response.data.get("detail", response.data) if isinstance(response.data, dict) else response.data
            response.data = {"success": False, "error": str(detail)}
        return response
    logger.exception("Unhandled API error", exc_info=exc)
    return Response({"success": False, "error": "Internal server error"}, status=500)
