"""Throttles: sends and uploads per user (a token is its user), a 429 with Retry-After in the API's envelope; failed
sign-ins per username and per address, a correct password refused too while throttled, nothing told of accounts."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.contrib.auth.models import Permission
from django.core.cache import cache
from django.test import Client, RequestFactory
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from core import signin
from core.rest.throttles import PerUserThrottle
from emails.models import Message
from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

SEND = {"to": "ada@example.com", "subject": "Hello", "textContent": "Hi", "category": "notification"}
NO_ID = "00000000-0000-0000-0000-000000000000"
SENDS = [
    "/api/email",
    "/api/email/bulk",
    f"/api/email/{NO_ID}/resend",
    f"/api/email/bulk/{NO_ID}/retry-failed",
    "/api/email/templates/no-such-template/test",
]
UPLOADS = ["/api/files/upload-url", "/api/files/complete"]


class Clock:
    """The wall clock, moved by hand."""

    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch: Any) -> Clock:
    clock = Clock()
    monkeypatch.setattr(PerUserThrottle, "timer", clock)
    monkeypatch.setattr(signin, "clock", clock)
    return clock


def client_of(user: Any) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def assert_throttled(response: Any, *, at_most: int = 60) -> int:
    assert response.status_code == 429, response.content
    body = response.json()
    assert body["success"] is False and "throttled" in body["error"]
    retry_after = int(response["Retry-After"])
    assert 1 <= retry_after <= at_most
    return retry_after


# --- the API -----------------------------------------------------------------------------------------------------


def test_a_send_past_the_rate_is_a_429_with_retry_after_and_stores_nothing(
    settings: Any, api: APIClient, clock: Clock
) -> None:
    settings.API_THROTTLE_SENDS_PER_MINUTE = 2
    assert [api.post("/api/email", SEND, format="json").status_code for _ in range(2)] == [201, 201]
    clock.now += 15
    assert assert_throttled(api.post("/api/email", SEND, format="json")) == 45  # the window opened 15 s ago
    assert Message.objects.count() == 2
    assert api.get("/api/email").status_code == 200  # reading is not throttled


def test_another_user_is_not_affected(settings: Any, api: APIClient, other_user: Any, clock: Clock) -> None:
    settings.API_THROTTLE_SENDS_PER_MINUTE = 1
    assert api.post("/api/email", SEND, format="json").status_code == 201
    assert_throttled(api.post("/api/email", SEND, format="json"))
    assert client_of(other_user).post("/api/email", SEND, format="json").status_code == 201


def test_the_window_opens_again_after_a_minute(settings: Any, api: APIClient, clock: Clock) -> None:
    settings.API_THROTTLE_SENDS_PER_MINUTE = 1
    assert api.post("/api/email", SEND, format="json").status_code == 201
    clock.now += 59
    assert assert_throttled(api.post("/api/email", SEND, format="json")) == 1
    clock.now += 1
    assert api.post("/api/email", SEND, format="json").status_code == 201


def test_a_token_and_a_session_of_one_user_share_one_budget(settings: Any, user: Any, clock: Clock) -> None:
    settings.API_THROTTLE_SENDS_PER_MINUTE = 2
    token = APIClient()
    token.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=user).key}")
    session = APIClient()
    session.force_login(user)
    assert token.post("/api/email", SEND, format="json").status_code == 201
    assert session.post("/api/email", SEND, format="json").status_code == 201
    assert_throttled(token.post("/api/email", SEND, format="json"))


@pytest.mark.parametrize("path", SENDS)
def test_every_send_endpoint_is_throttled(settings: Any, user: Any, path: str, clock: Clock) -> None:
    user.user_permissions.add(Permission.objects.get(codename="view_template"))
    settings.API_THROTTLE_SENDS_PER_MINUTE = 1
    client = client_of(user)
    first = client.post(path, {}, format="json")
    assert first.status_code in (400, 404), first.content  # refused for what it is, but counted
    assert_throttled(client.post(path, {}, format="json"))


def test_all_sends_draw_on_one_budget(settings: Any, user: Any, clock: Clock) -> None:
    user.user_permissions.add(Permission.objects.get(codename="view_template"))
    settings.API_THROTTLE_SENDS_PER_MINUTE = 2
    client = client_of(user)
    assert client.post("/api/email", SEND, format="json").status_code == 201
    assert client.post("/api/email/bulk", {}, format="json").status_code == 400
    assert_throttled(client.post("/api/email/templates/no-such-template/test", {}, format="json"))


@pytest.mark.parametrize("path", UPLOADS)
def test_uploads_are_throttled_on_their_own_budget(settings: Any, api: APIClient, path: str, clock: Clock) -> None:
    settings.API_THROTTLE_UPLOADS_PER_MINUTE = 1
    settings.API_THROTTLE_SENDS_PER_MINUTE = 1
    assert api.post(path, {}, format="json").status_code == 400
    assert_throttled(api.post(path, {}, format="json"))
    assert api.post("/api/email", SEND, format="json").status_code == 201  # sends are counted apart


def test_zero_is_no_limit(settings: Any, api: APIClient, clock: Clock) -> None:
    settings.API_THROTTLE_UPLOADS_PER_MINUTE = 0
    assert {api.post("/api/files/complete", {}, format="json").status_code for _ in range(5)} == {400}


def test_the_defaults_are_far_above_what_the_suite_or_a_crm_sends(settings: Any) -> None:
    assert settings.API_THROTTLE_SENDS_PER_MINUTE >= 1000
    assert settings.API_THROTTLE_UPLOADS_PER_MINUTE >= 300


# --- sign-in -----------------------------------------------------------------------------------------------------

LOGIN = "/accounts/login/"
INVALID = "Please enter a correct username and password"
REFUSED = "Too many failed sign-in attempts"


def sign_in(username: str, password: str, *, ip: str = "127.0.0.1", path: str = LOGIN) -> Any:
    return Client(REMOTE_ADDR=ip).post(path, {"username": username, "password": password})


def test_sign_in_is_refused_after_n_failures_even_with_the_right_password(
    settings: Any, user: Any, clock: Clock
) -> None:
    settings.SIGNIN_FAILURES_PER_USERNAME = 3
    for _ in range(3):
        response = sign_in(user.username, "wrong")
        assert response.status_code == 200 and INVALID in response.content.decode()
    refused = sign_in(user.username, PASSWORD)
    assert refused.status_code == 429
    assert REFUSED in refused.content.decode() and "15 minute" in refused.content.decode()
    assert int(refused["Retry-After"]) == 900
    assert "_auth_user_id" not in refused.wsgi_request.session  # not signed in
    clock.now += 900  # the window closes
    assert sign_in(user.username, PASSWORD).status_code == 302


def test_a_throttled_unknown_username_gets_the_same_answer_as_a_known_one(
    settings: Any, user: Any, clock: Clock
) -> None:
    settings.SIGNIN_FAILURES_PER_USERNAME = 2
    answers = {}
    for name in (user.username, "nobody-by-this-name"):
        failures = [sign_in(name, "wrong", ip=f"192.0.2.{len(answers) + 1}") for _ in range(2)]
        refused = sign_in(name, "wrong", ip=f"192.0.2.{len(answers) + 1}")
        answers[name] = [(r.status_code, errors(r)) for r in [*failures, refused]]
    known, unknown = answers.values()
    assert known == unknown
    assert known[-1][0] == 429


def test_failures_from_one_address_are_throttled_across_usernames(settings: Any, user: Any, clock: Clock) -> None:
    settings.SIGNIN_FAILURES_PER_IP = 3
    for i in range(3):
        assert sign_in(f"guess{i}", "wrong", ip="198.51.100.7").status_code == 200
    assert sign_in(user.username, PASSWORD, ip="198.51.100.7").status_code == 429
    assert sign_in(user.username, PASSWORD, ip="198.51.100.8").status_code == 302  # another address is not


def test_a_success_forgets_the_usernames_failures(settings: Any, user: Any, clock: Clock) -> None:
    settings.SIGNIN_FAILURES_PER_USERNAME = 2
    assert sign_in(user.username, "wrong").status_code == 200
    assert sign_in(user.username, PASSWORD).status_code == 302
    assert sign_in(user.username, "wrong").status_code == 200
    assert sign_in(user.username, PASSWORD).status_code == 302


def test_the_admin_sign_in_is_throttled_too(settings: Any, clock: Clock) -> None:
    settings.SIGNIN_FAILURES_PER_USERNAME = 2
    staff = UserFactory(is_staff=True)
    for _ in range(2):
        assert sign_in(staff.username, "wrong", path="/admin/login/").status_code == 200
    refused = sign_in(staff.username, PASSWORD, path="/admin/login/")
    assert refused.status_code == 429 and REFUSED in refused.content.decode()
    assert int(refused["Retry-After"]) == 900


def test_the_counts_are_in_the_cache(settings: Any, user: Any, clock: Clock) -> None:
    settings.SIGNIN_FAILURES_PER_USERNAME = 1
    sign_in(user.username, "wrong")
    assert sign_in(user.username, PASSWORD).status_code == 429
    cache.clear()  # what the suite does between tests
    assert sign_in(user.username, PASSWORD).status_code == 302


def test_the_client_address_behind_trusted_proxies(settings: Any) -> None:
    request = RequestFactory().get("/", REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="6.6.6.6, 203.0.113.9")
    settings.TRUSTED_PROXY_COUNT = 0
    assert signin.client_ip(request) == "10.0.0.2"  # no proxy trusted: the connection's address
    settings.TRUSTED_PROXY_COUNT = 1
    assert signin.client_ip(request) == "203.0.113.9"  # what our proxy saw; the client's own claim is ignored


def errors(response: Any) -> list[str]:
    return re.findall(r'<div class="alert alert-error" role="alert">\s*(.*?)\s*</div>', response.content.decode(), re.S)
