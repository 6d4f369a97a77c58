"""Shared fixtures: users, an API client, SES answered by moto, signed SNS posts, tasks run synchronously."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from email.utils import parseaddr
from typing import Any

import pytest
import redis
from django.contrib.auth.models import Permission
from django.core.cache import cache
from moto.core import DEFAULT_ACCOUNT_ID
from moto.server import ThreadedMotoServer
from moto.ses.models import ses_backends
from rest_framework.test import APIClient

from emails.dev.backend import moto_recipient_count_fix
from emails.tracking.sns import sns_certificates_forget
from tests.factories import UserFactory
from tests.sns_signing import SUBSCRIBE_URL, TOPIC_ARN, sns_envelope, sns_host

# Playwright's sync API runs an event loop in the test thread; Django's
# async-safety guard would otherwise refuse the ORM calls of live_server tests.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = "/usr/bin/chromium"


@pytest.fixture(autouse=True)
def _test_settings(settings: Any, tmp_path: Any) -> None:
    # Tasks run synchronously after commit, so a test sees the outcome.
    settings.TASKS_IN_BACKGROUND = False
    settings.EMAIL_RETRY_BACKOFF_SECONDS = 0
    # moto's quota allows one recipient a second; pacing has its own tests.
    settings.EMAIL_PACE_SENDS = False
    settings.MEDIA_ROOT = tmp_path / "media"
    # A million PBKDF2 rounds per test user is most of a suite's time; what
    # is tested here is who may do what, not the hasher.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    # Local memory caches outlive a settings change: start every test empty.
    cache.clear()


@pytest.fixture
def user(db: Any) -> Any:
    return UserFactory()


@pytest.fixture
def other_user(db: Any) -> Any:
    return UserFactory()


@pytest.fixture
def staff_user(db: Any) -> Any:
    staff = UserFactory(is_staff=True)
    staff.user_permissions.add(Permission.objects.get(codename="view_all_messages"))
    return staff


@pytest.fixture
def api(user: Any) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


@pytest.fixture(scope="session")
def moto_server() -> Iterator[str]:
    """moto as a real HTTP server in this process, for the whole session: SES and S3 reach it like AWS.

    Started once (about a second) rather than patched in per test; each test
    that uses a service resets that service's state (`ses`), or takes a fresh
    bucket (`s3_storage`).
    """
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    moto_recipient_count_fix()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def ses(settings: Any, moto_server: str) -> Any:
    """SES answered by moto through our django-ses backend, emptied; returns moto's SES backend."""
    settings.EMAIL_BACKEND = "emails.ses.SESBackend"
    settings.AWS_ACCESS_KEY_ID = "testing"
    settings.AWS_SECRET_ACCESS_KEY = "testing"
    settings.AWS_SES_REGION_ENDPOINT_URL = moto_server
    backend = ses_backends[DEFAULT_ACCOUNT_ID][settings.AWS_SES_REGION_NAME]
    backend.reset()
    # moto, like SES in the sandbox, refuses unverified senders.
    backend.verify_domain(parseaddr(settings.DEFAULT_FROM_EMAIL)[1].rpartition("@")[2])
    return backend


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict[str, Any]) -> dict[str, Any]:
    """Debian's Chromium: Playwright's own browser download does not work here."""
    return {
        **browser_type_launch_args,
        "executable_path": CHROMIUM,
        "args": [
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            "--disable-quic",
        ],
    }


@pytest.fixture
def post_email(api: APIClient, django_capture_on_commit_callbacks: Any) -> Any:
    """POST /api/email and run what the commit scheduled (the worker), as after a real commit."""

    def post(payload: dict[str, Any], client: APIClient | None = None, **headers: str) -> Any:
        with django_capture_on_commit_callbacks(execute=True):
            return (client or api).post("/api/email", payload, format="json", headers=headers)

    return post


@pytest.fixture
def sns(settings: Any) -> Iterator[None]:
    """The test topic allowed, and no SNS certificate remembered from another test."""
    settings.SNS_TOPIC_ARNS = [TOPIC_ARN]
    sns_certificates_forget()
    cache.clear()
    yield
    sns_certificates_forget()


@pytest.fixture
def post_sns(sns: None, client: Any, django_capture_on_commit_callbacks: Any) -> Any:
    """POST an SES event to /api/email/webhook as SNS does (signed, text/plain) and run what the commit scheduled.

    `post_sns(ses_event, **envelope)` takes `tests.sns_signing.sns_envelope`'s
    keywords (type, message_id, version, timestamp, ...). SNS's HTTPS host is
    answered locally; `response.sns_requests` lists the URLs the app fetched.
    """

    def post(event: dict[str, Any] | str, **envelope: Any) -> Any:
        body = json.dumps(sns_envelope(event, **envelope))
        is_notification = envelope.get("type", "Notification") == "Notification"
        confirm = [] if is_notification else [envelope.get("subscribe_url") or SUBSCRIBE_URL]
        # Started here, after any moto mock, so it answers SNS's URLs first.
        with sns_host(*confirm) as host:
            with django_capture_on_commit_callbacks(execute=True):
                response = client.post("/api/email/webhook", body, content_type="text/plain; charset=UTF-8")
            response.sns_requests = [call.request.url for call in host.calls]
        return response

    return post


TEST_REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


@pytest.fixture
def redis_url() -> str:
    """The test Redis (database 15), emptied. Every machine this runs on has Redis (.ci/run starts it), so a
    missing one fails the test rather than skipping what it checks."""
    client = redis.Redis.from_url(TEST_REDIS_URL, socket_connect_timeout=1)
    try:
        client.flushdb()
    except redis.RedisError as exc:
        pytest.fail(
            f"Redis is not reachable at {TEST_REDIS_URL} ({exc}): start it "
            "(redis-server --daemonize yes --port 6379) or point TEST_REDIS_URL at one"
        )
    return TEST_REDIS_URL
