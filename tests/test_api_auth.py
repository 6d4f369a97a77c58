"""Who the API says no to, and how: 401 with a challenge without (good) credentials, 403 for a missing permission."""

from __future__ import annotations

from typing import Any

import pytest
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

PATHS = [
    ("get", "/api/email"),
    ("post", "/api/email"),
    ("get", "/api/email/quota"),
    ("get", "/api/email/00000000-0000-0000-0000-000000000000"),
    ("get", "/api/email/suppressions"),
    ("get", "/api/email/reputation"),
    ("get", "/api/files"),
    ("post", "/api/files/upload-url"),
    ("get", "/api/files/00000000-0000-0000-0000-000000000000/download-url"),
]


@pytest.mark.parametrize(("method", "path"), PATHS)
@pytest.mark.parametrize("credentials", ["none", "bad token"])
def test_no_or_bad_credentials_are_a_401_with_a_token_challenge(
    method: str, path: str, credentials: str, db: Any
) -> None:
    client = APIClient()
    if credentials == "bad token":
        client.credentials(HTTP_AUTHORIZATION="Token not-a-real-token")

    response = getattr(client, method)(path)

    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Token"
    assert response.json()["success"] is False


def test_a_good_token_is_let_in(user: Any) -> None:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=user).key}")
    assert client.get("/api/email").status_code == 200


@pytest.mark.parametrize("path", ["/api/email/suppressions", "/api/email/reputation"])
def test_a_signed_in_user_without_the_permission_is_a_403(path: str, api: APIClient) -> None:
    response = api.get(path)
    assert response.status_code == 403
    assert "WWW-Authenticate" not in response
    assert response.json() == {"success": False, "error": "Staff with the permission to do this only."}
