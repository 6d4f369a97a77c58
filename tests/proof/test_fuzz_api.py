"""schemathesis over the API's own OpenAPI schema (/api/schema/), against the WSGI app in this process: every
operation with a token (staff with every permission) and with a session (a plain user, CSRF included), a
bounded, seeded set of examples each (positive and negative), a fresh database per operation. Asserted: no
server error, and each answer is one the schema documents (status, content type, headers, body).

Not asserted: schemathesis's positive_data_acceptance and negative_data_rejection, which hold the request
schema to be the whole rule (an address that parses, a template that exists are the services' rules, which
the schema only sketches); the webhook is not in the schema (tests/proof/test_hostile_bodies.py has it)."""

from __future__ import annotations

import json
import os
from typing import Any

import pytest
import schemathesis
from django.core import signals
from django.core.handlers.wsgi import WSGIHandler
from django.db import close_old_connections
from django.middleware.csrf import get_token
from django.test import Client, RequestFactory
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.renderers import OpenApiJsonRenderer
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings
from rest_framework.authtoken.models import Token
from schemathesis.checks import not_a_server_error
from schemathesis.config import SchemathesisConfig
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.factories import UserFactory

# The coverage phase (boundary values of every parameter, undocumented methods) multiplies the cases tenfold:
# FUZZ_COVERAGE=1 runs it (about 100 s more here); CI runs the seeded fuzzing phase.
COVERAGE = os.environ.get("FUZZ_COVERAGE", "0") == "1"


class InProcess:
    """Django's WSGI handler run as the test client runs it: the end of a request does not close the database
    connection, which holds the test's transaction (and, on SQLite, the in-memory test database itself)."""

    def __init__(self) -> None:
        self.handler = WSGIHandler()

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        signals.request_started.disconnect(close_old_connections)
        signals.request_finished.disconnect(close_old_connections)
        try:
            response = self.handler(environ, start_response)
            response.close()  # its request_finished, while the connection is spared
            return response
        finally:
            signals.request_started.connect(close_old_connections)
            signals.request_finished.connect(close_old_connections)


def _served_schema() -> dict[str, Any]:
    """The document /api/schema/ serves (drf-spectacular's generator and JSON renderer), built without a request."""
    generated = SchemaGenerator().get_schema(request=None, public=True)
    return dict(json.loads(OpenApiJsonRenderer().render(generated)))


CONFIG = SchemathesisConfig.from_dict(
    {
        "generation": {"mode": "all", "deterministic": True},
        # The boundary values of each parameter and body (and the methods no operation documents): bounded too.
        "phases": {"coverage": {"enabled": COVERAGE}},
    }
)
schema = schemathesis.openapi.from_dict(_served_schema(), config=CONFIG)
schema.app = InProcess()
# What each answer is held to: never a 500, and the status, content type, headers and body the schema documents.
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_headers_conformance,
          response_schema_conformance]  # fmt: skip

# Few examples per operation, the same ones every run: CI stays quick and a failure reproduces.
FUZZ = hypothesis_settings(
    max_examples=8,
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=list(HealthCheck),
)


@pytest.fixture
def fuzz_world(ses: Any, settings: Any) -> None:
    """SES answered by moto and files on disk under the test's MEDIA_ROOT, so no call leaves the machine."""
    settings.STORAGES = {**settings.STORAGES, "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"}}


@pytest.fixture
def staff_token(db: Any) -> str:
    staff = UserFactory(is_staff=True, is_superuser=True)
    return Token.objects.create(user=staff).key


@pytest.fixture
def session_headers(user: Any) -> dict[str, str]:
    """A plain user's session, with the CSRF cookie and header a browser's script sends (DRF checks them)."""
    client = Client()
    client.force_login(user)
    request = RequestFactory().get("/")
    masked = get_token(request)
    cookies = f"sessionid={client.cookies['sessionid'].value}; csrftoken={request.META['CSRF_COOKIE']}"
    return {"Cookie": cookies, "X-CSRFToken": masked}


def test_the_fuzzed_session_gets_past_csrf(session_headers: dict[str, str], fuzz_world: None) -> None:
    """Else every unsafe call of the session run would be a 403 the schema documents, and test nothing."""
    body = {"fileName": "a.pdf", "contentType": "application/pdf", "category": "general", "maxSizeBytes": 1000}
    response = InProcessClient(session_headers).post("/api/files/upload-url", body)
    assert response.status_code == 201, response.content


class InProcessClient(Client):
    def __init__(self, headers: dict[str, str]) -> None:
        super().__init__(enforce_csrf_checks=True, headers=headers)


@schema.parametrize()
@FUZZ
def test_the_api_with_a_token(case: Any, fuzz_world: None, staff_token: str) -> None:
    case.call_and_validate(headers={"Authorization": f"Token {staff_token}"}, checks=CHECKS)


@schema.parametrize()
@FUZZ
def test_the_api_with_a_session(case: Any, fuzz_world: None, session_headers: dict[str, str]) -> None:
    case.call_and_validate(headers=session_headers, checks=CHECKS)


# What the coverage phase found (FUZZ_COVERAGE=1), kept here so CI holds it without that phase's cost.


@pytest.mark.parametrize("path", ["/api/email", "/api/files/upload-url", "/api/email/bulk", "/api/email/suppressions"])
def test_options_is_no_operation_and_a_405(path: str, fuzz_world: None, staff_token: str) -> None:
    """DRF's metadata asked a viewset without a serializer_class for one, and answered 500."""
    response = Client().options(path, headers={"Authorization": f"Token {staff_token}"})
    assert response.status_code == 405
    assert response.json()["success"] is False


@pytest.mark.parametrize(
    "path",
    ["/api/email/not-a-uuid", "/api/files/x/download-url", "/api/email/templates/a.b"],
)
def test_a_path_no_api_route_takes_is_the_envelopes_404(path: str, staff_token: str) -> None:
    """It was Django's HTML page, which no API client reads (and the schema documents JSON)."""
    response = Client().get(path, headers={"Authorization": f"Token {staff_token}"})
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"success": False, "error": "Not found."}


def test_a_page_no_route_takes_is_still_the_html_404(db: Any) -> None:
    response = Client().get("/no-such-page")
    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")
