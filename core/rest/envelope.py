"""The seeds' envelope, `{"success": true, "data": ..., "message": ...}`, built here and nowhere else.

`ok` answers with it; `envelope_schema` describes it to the OpenAPI schema
for one endpoint's data, so every response is typed.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema_serializer
from rest_framework import serializers
from rest_framework import status as http
from rest_framework.response import Response


def ok(data: Any, *, message: str | None = None, status: int = http.HTTP_200_OK) -> Response:
    body: dict[str, Any] = {"success": True, "data": data}
    if message is not None:
        body["message"] = message
    return Response(body, status=status)


def failure(error: str, *, status: int, details: list[dict[str, Any]] | None = None) -> Response:
    body: dict[str, Any] = {"success": False, "error": error}
    if details is not None:
        body["details"] = details
    return Response(body, status=status)


_schemas: dict[str, type[serializers.Serializer[Any]]] = {}


def envelope_schema(
    name: str, data: serializers.Field[Any, Any, Any, Any] | type[serializers.Serializer[Any]]
) -> type[serializers.Serializer[Any]]:
    """A serializer class (schema only) for a successful answer whose `data` is `data`, named `<name>Response`."""
    if name in _schemas:
        return _schemas[name]
    field = data() if isinstance(data, type) else data
    schema = type(
        f"{name}Response",
        (serializers.Serializer,),
        {
            "success": serializers.BooleanField(),
            "data": field,
            "message": serializers.CharField(required=False, help_text="What was done, in words."),
            "__doc__": f"A successful answer: `data` holds the {name}.",
        },
    )
    # An envelope is one object even for a list endpoint: no array, no paging of its own.
    schema = extend_schema_serializer(many=False)(schema)
    _schemas[name] = schema
    return schema


class ErrorDetailSerializer(serializers.Serializer[Any]):
    path = serializers.ListField(child=serializers.JSONField(), help_text="Keys and indexes to the offending value.")
    message = serializers.CharField()


class ErrorSerializer(serializers.Serializer[Any]):
    """A refused request: what went wrong, and for invalid data every problem with its place."""

    success = serializers.BooleanField(default=False)
    error = serializers.CharField()
    details = ErrorDetailSerializer(many=True, required=False)


class PaginationSerializer(serializers.Serializer[Any]):
    page = serializers.IntegerField()
    limit = serializers.IntegerField()
    total = serializers.IntegerField()
    pages = serializers.IntegerField()


def error_responses(*statuses: int) -> dict[int, type[serializers.Serializer[Any]]]:
    """The error answers an endpoint documents (400, 401, 403 and 404 are the usual ones)."""
    return dict.fromkeys(statuses, ErrorSerializer)


def schema_paths_without_trailing_slash(result: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
    """drf-spectacular postprocessing hook: the routers take both spellings; document the seeds' one."""
    result["paths"] = {(path.rstrip("/") or "/"): item for path, item in result.get("paths", {}).items()}
    return result
