"""The OpenAPI schema: each path once, every answer typed, enums named for what they are, no warnings."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.core.management import call_command

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def schema(django_db_blocker: Any) -> dict[str, Any]:
    from drf_spectacular.generators import SchemaGenerator

    with django_db_blocker.unblock():
        return dict(SchemaGenerator().get_schema(request=None, public=True))


def test_it_generates_without_a_warning(tmp_path: Any) -> None:
    call_command("spectacular", "--fail-on-warn", "--file", str(tmp_path / "schema.yaml"))


def test_each_path_is_listed_once_as_the_seeds_clients_call_it(schema: dict[str, Any]) -> None:
    paths = set(schema["paths"])
    assert {"/api/email", "/api/email/{id}", "/api/email/quota", "/api/files", "/api/files/upload-url",
            "/api/files/complete", "/api/files/{id}", "/api/files/{id}/download-url"} <= paths  # fmt: skip
    assert not [p for p in paths if p.endswith("/")]


def test_every_answer_is_typed(schema: dict[str, Any]) -> None:
    untyped = []
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            for status, response in operation["responses"].items():
                content = response.get("content", {})
                if set(content) == {"text/csv"}:  # a download (a bulk's report): a documented CSV body
                    continue
                body = content.get("application/json", {}).get("schema", {})
                if "$ref" not in body:
                    untyped.append(f"{method.upper()} {path} {status}")
    assert untyped == []


def test_enums_are_named_for_what_they_are(schema: dict[str, Any]) -> None:
    names = set(schema["components"]["schemas"])
    assert {"Category", "Priority", "MessageStatus", "FileCategory", "FileStatus", "ContentType"} <= names
    assert not [name for name in names if re.search(r"\d+Enum$", name)]
