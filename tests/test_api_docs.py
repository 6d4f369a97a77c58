"""The API's schema and docs: public by default, behind sign-in (session or token) with API_DOCS_PUBLIC=false."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from rest_framework.authtoken.models import Token

from tests.test_settings import settings_with

SCHEMA, DOCS = "/api/schema/", "/api/docs/"


@pytest.mark.django_db
def test_by_default_anyone_reads_the_schema_and_the_docs(client: Client) -> None:
    schema = client.get(SCHEMA, headers={"Accept": "application/json"})
    assert schema.status_code == 200 and schema.json()["info"]["title"] == "CRM email & file service"
    docs = client.get(DOCS)
    assert docs.status_code == 200 and b'<div id="swagger-ui">' in docs.content
    # Its start-up script is a file of its own (the CSP allows no inline script), and so is its style.
    assert b'<script src="/api/docs/?script="></script>' in docs.content
    assert b"<script>" not in docs.content and b"<style>" not in docs.content
    script = client.get(DOCS + "?script=")
    assert script.status_code == 200 and script["Content-Type"].startswith("application/javascript")
    assert b'url: "/api/schema/"' in script.content


@pytest.fixture
def private(settings: Any) -> None:
    settings.API_DOCS_PUBLIC = False


def test_private_docs_answer_nobody_anonymous(private: None, client: Client, db: Any) -> None:
    schema = client.get(SCHEMA, headers={"Accept": "application/json"})
    assert schema.status_code == 401 and schema["WWW-Authenticate"] == "Token"
    assert b"openapi" not in schema.content
    assert client.get(SCHEMA, headers={"Authorization": "Token not-a-token"}).status_code == 401
    for path, then in ((DOCS, "/api/docs/"), (DOCS + "?script=", "/api/docs/%3Fscript%3D")):
        docs = client.get(path)
        assert docs.status_code == 302 and docs["Location"] == "/accounts/login/?next=" + then


def test_private_docs_open_to_a_session_or_a_token(private: None, client: Client, user: Any) -> None:
    token = Token.objects.create(user=user)
    by_token = client.get(SCHEMA, headers={"Authorization": f"Token {token.key}", "Accept": "application/json"})
    assert by_token.status_code == 200 and by_token.json()["openapi"].startswith("3.")

    client.force_login(user)
    assert client.get(SCHEMA, headers={"Accept": "application/json"}).status_code == 200
    docs = client.get(DOCS)
    assert docs.status_code == 200 and b'<div id="swagger-ui">' in docs.content
    assert client.get(DOCS + "?script=").status_code == 200


def test_the_variable_sets_it(monkeypatch: Any) -> None:
    assert settings_with(monkeypatch)["API_DOCS_PUBLIC"] is True
    assert settings_with(monkeypatch, API_DOCS_PUBLIC="false")["API_DOCS_PUBLIC"] is False
