"""Request ids and JSON logs: the id a request comes with (or a new one) is said back, and it is on every log line
of the SES call that request caused, through the embedded default's in-process worker and through Celery."""

from __future__ import annotations

import io
import json
import logging
import re
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from celery.signals import setup_logging
from django.core.exceptions import ImproperlyConfigured
from django.db import connection
from django.test import Client
from rest_framework.test import APIClient

from core.observability.context import request_id_bound, request_id_get
from core.observability.logs import JsonFormatter, RequestIdFilter
from core.tasks import _in_process_worker
from emails.models import Message
from tests.test_settings import settings_with

NEW_ID = re.compile(r"[0-9a-f]{32}")
SEND = {"to": "ada@example.com", "subject": "Hello", "textContent": "Hi", "category": "notification"}

Lines = Callable[[], list[dict[str, Any]]]


@pytest.fixture
def json_lines() -> Iterator[Lines]:
    """Every record of the app's loggers (and these tests'), from every thread, as the LOG_FORMAT=json handler
    writes it, parsed back line by line.

    On the app's loggers rather than the root: Celery's Django fix-up calls django.setup() whenever it imports
    the task modules (a worker starting, the first task looked up), which configures LOGGING afresh and so
    replaces the root's handlers; loggers LOGGING does not name keep theirs.
    """
    buffer = io.StringIO()
    handler = logging.StreamHandler(buffer)
    handler.setFormatter(JsonFormatter())
    handler.addFilter(RequestIdFilter())
    loggers = [logging.getLogger(name) for name in ("emails", "core", "tests")]
    for logger in loggers:
        logger.addHandler(handler)
    try:
        yield lambda: [json.loads(line) for line in buffer.getvalue().splitlines()]
    finally:
        for logger in loggers:
            logger.removeHandler(handler)


def ses_call_lines(lines: list[dict[str, Any]], message_id: str) -> list[dict[str, Any]]:
    """The lines of the delivery of one message: everything emails.delivery logged about it."""
    return [line for line in lines if line["logger"].startswith("emails.delivery") and message_id in line["message"]]


# --- the id of a request ---------------------------------------------------------------------------------------


def test_the_callers_request_id_is_said_back() -> None:
    response = Client().get("/healthz", headers={"x-request-id": "abc"})
    assert response["X-Request-ID"] == "abc"


def test_a_request_without_an_id_gets_a_new_one() -> None:
    first, second = Client().get("/healthz"), Client().get("/healthz")
    assert NEW_ID.fullmatch(first["X-Request-ID"]) and NEW_ID.fullmatch(second["X-Request-ID"])
    assert first["X-Request-ID"] != second["X-Request-ID"]


@pytest.mark.parametrize(
    "hostile",
    ["abc\r\nSet-Cookie: session=stolen", "a" * 10 * 1024, "two words", '"quoted"', "caf\u00e9", "<script>", ""],
)
def test_a_hostile_request_id_is_replaced_not_echoed(hostile: str) -> None:
    response = Client().get("/healthz", headers={"x-request-id": hostile})
    assert NEW_ID.fullmatch(response["X-Request-ID"])
    assert "stolen" not in str(response.headers) and "Set-Cookie" not in response.headers


# --- JSON lines --------------------------------------------------------------------------------------------------


def test_json_lines_parse_and_carry_level_logger_message_request_id_and_extras(json_lines: Lines) -> None:
    log = logging.getLogger("tests.logs")
    with request_id_bound("req-1"):
        log.warning("two\nlines of %s", "text", extra={"message_id": "m-1", "recipients": 3, "thing": object()})
        try:
            raise ValueError("boom")
        except ValueError:
            log.exception("it failed")
    log.info("outside any request")
    warning, failure, outside = [line for line in json_lines() if line["logger"] == "tests.logs"]
    assert warning["level"] == "WARNING" and warning["message"] == "two\nlines of text"
    assert warning["request_id"] == "req-1"
    assert (warning["message_id"], warning["recipients"]) == ("m-1", 3)
    assert re.match(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d", warning["time"])
    assert failure["level"] == "ERROR" and "ValueError: boom" in failure["exc_info"]  # the traceback, same line
    assert outside["request_id"] is None


def test_log_format_json_puts_the_json_formatter_and_the_request_id_on_the_console(monkeypatch: Any) -> None:
    assert settings_with(monkeypatch)["LOGGING"]["handlers"]["console"]["formatter"] == "plain"  # the default
    logging_config = settings_with(monkeypatch, LOG_FORMAT="json")["LOGGING"]
    console = logging_config["handlers"]["console"]
    assert logging_config["formatters"][console["formatter"]] == {"()": "core.observability.logs.JsonFormatter"}
    assert [logging_config["filters"][name]["()"] for name in console["filters"]] == [
        "core.observability.logs.RequestIdFilter"
    ]
    with pytest.raises(ImproperlyConfigured, match=r"^LOG_FORMAT='xml'"):
        settings_with(monkeypatch, LOG_FORMAT="xml")


def test_the_request_id_middleware_comes_first(settings: Any) -> None:
    assert settings.MIDDLEWARE[0] == "core.observability.middleware.RequestIdMiddleware"


# --- from the request to the SES call ----------------------------------------------------------------------------


class Marker:
    """A stand-in task queued behind the send: once it ran, the worker is done with what came before."""

    name = "marker"

    def __init__(self) -> None:
        self.ran = threading.Event()

    def apply(self, args: tuple[Any, ...] = ()) -> None:
        self.ran.set()


# Committed for real: the in-process worker is another thread, with its own connection.
@pytest.mark.django_db(transaction=True)
def test_the_request_id_is_on_every_line_of_the_ses_call_made_by_the_in_process_worker(
    user: Any, ses: Any, settings: Any, json_lines: Lines
) -> None:
    settings.TASKS_IN_BACKGROUND = True  # the embedded default: after commit, on the worker thread
    client = APIClient()
    client.force_authenticate(user)
    response = client.post("/api/email", SEND, format="json", headers={"x-request-id": "abc"})
    assert response.status_code == 201, response.json()
    assert response["X-Request-ID"] == "abc"
    message_id = response.json()["data"]["messageId"]
    marker = Marker()
    _in_process_worker().submit(marker, (), 9)  # behind the send (priority 5)
    assert marker.ran.wait(30), "the in-process worker never got to the marker"
    assert Message.objects.get(pk=message_id).status == "sent"
    assert request_id_get() is None  # the test's own thread never had it

    lines = ses_call_lines(json_lines(), message_id)
    accepted = [line for line in lines if line["message"].startswith("SES accepted")]
    assert len(accepted) == 1, lines
    assert accepted[0]["ses_message_id"] == ses.sent_messages[0].id
    assert accepted[0]["message_id"] == message_id
    assert {line["request_id"] for line in lines} == {"abc"}


@pytest.mark.celery_redis
@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(
    connection.vendor == "sqlite",
    reason="the worker thread and the test share SQLite's in-memory test database, whose table locks do not wait; "
    "CI runs this on PostgreSQL",
)
def test_the_request_id_travels_to_a_celery_worker_in_the_task_header(
    user: Any, ses: Any, settings: Any, redis_url: str, json_lines: Lines
) -> None:
    from celery.contrib.testing.worker import start_worker

    from crm_email.celery import app

    def keep_our_logging(**kwargs: Any) -> None:
        """Celery configures logging (and drops the root's handlers) unless a receiver of setup_logging does."""

    settings.CELERY_TASK_ALWAYS_EAGER = False
    app.conf.update(broker_url=redis_url, task_always_eager=False, broker_connection_retry_on_startup=True)
    setup_logging.connect(keep_our_logging, weak=False)
    client = APIClient()
    client.force_authenticate(user)
    try:
        # Published at commit, before any worker is up: the header is all that carries the id.
        response = client.post("/api/email", SEND, format="json", headers={"x-request-id": "celery-abc"})
        assert response.status_code == 201, response.json()
        message_id = response.json()["data"]["messageId"]
        with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=10):
            deadline = time.monotonic() + 30
            while Message.objects.get(pk=message_id).status != "sent" and time.monotonic() < deadline:
                time.sleep(0.05)
    finally:
        setup_logging.disconnect(keep_our_logging)
        app.conf.update(task_always_eager=True)
    assert Message.objects.get(pk=message_id).status == "sent"
    lines = ses_call_lines(json_lines(), message_id)
    assert any(line["message"].startswith("SES accepted") for line in lines), lines
    assert {line["request_id"] for line in lines} == {"celery-abc"}
