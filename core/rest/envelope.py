"""The seeds' envelope, `{"success": true, "data": ..., "message": ...}`, built here and nowhere else.

`ok` answers with it; `envelope_schema` describes it to the OpenAPI schema
for one endpoint's data, so every response is typed.
"""

from __future__ import annotations

from typing import Any

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
    field = data(read_only=True) if isinstance(data, type) else data
    schema = type(
        f"{name}Response",
        (serializers.Serializer,),
        {
            "success": serializers.BooleanField(read_only=True, default=True),
            "data": field,
            "message": serializers.CharField(read_only=True, required=False),
            "__doc__": f"A successful answer: `data` holds the {name}.",
        },
    )
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
