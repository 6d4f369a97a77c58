"""Bodies and queries built to break the server: each is a 4xx that changes nothing, never a 500."""

from __future__ import annotations

import json
from typing import Any

import pytest
from rest_framework.test import APIClient

from emails.models import InboundNotification, Message
from files.models import File

DEEP = "[" * 1000 + "]" * 1000
DEEP_OBJECT = '{"to": ' + DEEP + "}"


@pytest.mark.parametrize("path", ["/api/email", "/api/files/upload-url"])
def test_json_nested_a_thousand_deep_is_a_400(path: str, api: APIClient) -> None:
    """D1: json.loads hit Python's recursion limit, and the handler answered 500."""
    response = api.post(path, DEEP_OBJECT, content_type="application/json")

    assert response.status_code == 400
    assert response.json()["success"] is False
    assert "nested too deeply" in response.json()["error"]
    assert Message.objects.count() == 0 and File.objects.count() == 0


def test_json_nested_a_thousand_deep_is_refused_by_the_webhook(client: Any, sns: None, db: Any) -> None:
    response = client.post("/api/email/webhook", DEEP, content_type="text/plain")
    assert response.status_code == 403
    assert InboundNotification.objects.count() == 0


@pytest.mark.parametrize("path", ["/api/email", "/api/files/upload-url"])
def test_a_body_over_the_upload_limit_is_a_413(path: str, api: APIClient, settings: Any) -> None:
    """D2: Django refused to read it (RequestDataTooBig), and the handler answered 500."""
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1024
    body = json.dumps({"to": "a@example.com", "subject": "Hi", "textContent": "x" * 2000, "category": "system"})

    response = api.post(path, body, content_type="application/json")

    assert response.status_code == 413
    assert response.json() == {"success": False, "error": "The request body is larger than this server accepts."}
    assert Message.objects.count() == 0


def test_a_body_over_the_upload_limit_is_a_413_at_the_webhook(client: Any, sns: None, settings: Any, db: Any) -> None:
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1024
    response = client.post("/api/email/webhook", "x" * 2000, content_type="text/plain")
    assert response.status_code == 413


@pytest.mark.parametrize("path", ["/api/email", "/api/files"])
@pytest.mark.parametrize("value", ["9223372036854775808", "-1", "1e3"])
def test_a_user_id_no_database_column_holds_is_a_400(path: str, value: str, staff_user: Any) -> None:
    """D2: on SQLite, ?userId=2**63 overflowed the driver and answered 500."""
    client = APIClient()
    client.force_authenticate(staff_user)

    response = client.get(f"{path}?userId={value}&page=1")

    assert response.status_code == 400
    assert ["userId"] in [d["path"] for d in response.json()["details"]]


def test_the_log_page_shows_an_impossible_user_id_as_a_filter_error(client: Any, staff_user: Any) -> None:
    client.force_login(staff_user)
    response = client.get("/emails?userId=9223372036854775808")
    assert response.status_code == 200
    assert "These filters are not valid" in response.content.decode()
