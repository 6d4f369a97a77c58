"""The one place errors become HTTP answers in the seeds' shape, for both apps' endpoints.

Domain errors arrive as kinds (core.errors); DRF's own (bad JSON, no
credentials, throttling) and Django's (a body over the size limit) are
mapped here too. Anything else is a bug: it is logged with its traceback and
answered with a plain 500 that tells nothing of the inside.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from typing import Any

from django.core.exceptions import PermissionDenied, RequestDataTooBig, SuspiciousOperation
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.views import defaults
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler

from core.errors import (
    Conflict,
    DomainError,
    FieldError,
    Forbidden,
    NotFound,
    Unavailable,
    Unprocessable,
    ValidationFailed,
)
from core.rest.envelope import failure

logger = logging.getLogger(__name__)

INVALID = "Invalid request data"


def drf_field_errors(errors: Any, path: tuple[str | int, ...] = ()) -> Iterator[FieldError]:
    """DRF's nested error detail as FieldErrors, each with its path of keys and list indexes."""
    if isinstance(errors, dict):
        for key, value in errors.items():
            yield from drf_field_errors(value, path if key in ("non_field_errors", "__all__") else (*path, _key(key)))
    elif isinstance(errors, list):
        if all(not isinstance(item, dict | list) for item in errors):
            for item in errors:
                yield FieldError(path=path, message=str(item), code=str(getattr(item, "code", "") or ""))
        else:
            for index, item in enumerate(errors):
                yield from drf_field_errors(item, (*path, index) if isinstance(item, dict | list) else path)
    else:
        yield FieldError(path=path, message=str(errors), code=str(getattr(errors, "code", "") or ""))


def _key(key: Any) -> str | int:
    if isinstance(key, int):
        return key
    return int(key) if isinstance(key, str) and key.isdigit() else str(key)


def invalid_response(errors: Iterable[FieldError]) -> Response:
    details = [{"path": list(e.path), "message": e.message} for e in errors]
    return failure(INVALID, status=status.HTTP_400_BAD_REQUEST, details=details)


def _domain_response(exc: DomainError) -> Response:
    if isinstance(exc, ValidationFailed):
        return invalid_response(exc.errors)
    if isinstance(exc, NotFound):
        return failure(str(exc), status=status.HTTP_404_NOT_FOUND)
    if isinstance(exc, Forbidden):
        return failure(str(exc), status=status.HTTP_403_FORBIDDEN)
    if isinstance(exc, Conflict):
        return failure(str(exc), status=status.HTTP_409_CONFLICT)
    if isinstance(exc, Unavailable):
        logger.warning("%s: %s", type(exc).__name__, exc)
        return failure(exc.public_message, status=status.HTTP_503_SERVICE_UNAVAILABLE)
    if isinstance(exc, Unprocessable):
        return failure(
            exc.summary,
            status=status.HTTP_422_UNPROCESSABLE_ENTITY,
            details=[{"path": list(exc.path), "message": str(exc)}],
        )
    return failure(str(exc), status=status.HTTP_400_BAD_REQUEST)


def api_exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """REST_FRAMEWORK's EXCEPTION_HANDLER."""
    if isinstance(exc, exceptions.ValidationError):
        return invalid_response(drf_field_errors(exc.detail))
    if isinstance(exc, DomainError):
        return _domain_response(exc)
    if isinstance(exc, RequestDataTooBig):
        return failure(
            "The request body is larger than this server accepts.", status=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
        )
    if isinstance(exc, SuspiciousOperation):
        logger.warning("Refused a suspicious request: %s", exc)
        return failure("Bad request.", status=status.HTTP_400_BAD_REQUEST)
    if isinstance(exc, Http404 | PermissionDenied | exceptions.APIException):
        response = exception_handler(exc, context)
        if response is not None:
            data = response.data
            detail = data.get("detail", data) if isinstance(data, dict) else data
            response.data = {"success": False, "error": str(detail)}
        return response
    logger.error("Unhandled API error", exc_info=exc)
    return failure("Internal server error", status=status.HTTP_500_INTERNAL_SERVER_ERROR)


def not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """The URL conf's handler404: a path under /api/ that no route matches (an id that is not one) answers the
    API's envelope as JSON, like any other API 404; a page's path gets the HTML page."""
    if request.path.startswith("/api/"):
        return JsonResponse({"success": False, "error": "Not found."}, status=status.HTTP_404_NOT_FOUND)
    return defaults.page_not_found(request, exception or Http404())
