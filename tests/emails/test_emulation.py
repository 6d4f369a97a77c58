"""The embedded default's SES: moto behind our django-ses backend, a production-like quota, the simulator."""

from __future__ import annotations

import time
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import EndpointConnectionError
from django.core.cache import cache
from django.test import Client
from django.urls import reverse

from emails.delivery import pacing
from emails.models import Message
from tests.emails.test_pages import make_message

EMULATED = "emails.dev.backend.EmulatedSESBackend"


@pytest.fixture
def emulated(settings: Any, ses: Any) -> Any:
    settings.EMAIL_BACKEND = EMULATED
    cache.clear()
    return ses


def test_the_emulation_reports_a_new_production_accounts_quota(emulated: Any, api: Any, settings: Any) -> None:
    quota = api.get("/api/email/quota").json()["data"]
    assert (quota["maxSendRate"], quota["maxSend24Hour"]) == (14.0, 50_000.0)

    settings.SES_EMULATED_MAX_SEND_RATE = 50
    cache.clear()
    assert api.get("/api/email/quota").json()["data"]["maxSendRate"] == 50.0
    assert pacing.send_rate() == 50.0  # what pacing keeps to, so a demo send is not paced at moto's 1 a second


def test_the_emulation_sends_through_moto_and_the_simulator_answers(emulated: Any, post_email: Any) -> None:
    response = post_email(
        {"to": ["bounce@simulator.amazonses.com", "jane@example.com"], "subject": "Hi", "textContent": "x",
         "category": "notification"}
    )  # fmt: skip
    message = Message.objects.get(pk=response.json()["data"]["messageId"])
    assert len(emulated.sent_messages) == 1
    assert dict(message.recipients.values_list("address", "status")) == {
        "bounce@simulator.amazonses.com": "bounced",
        "jane@example.com": "sent",
    }


def test_the_emulation_intercepts_nothing_but_its_own_client(emulated: Any, post_email: Any) -> None:
    """It used to start moto's mock_aws() for the whole process, which answered S3 calls too."""
    post_email({"to": "jane@example.com", "subject": "Hi", "textContent": "x", "category": "notification"})
    s3 = boto3.client(
        "s3", endpoint_url="http://127.0.0.1:9", region_name="us-east-1", aws_access_key_id="k",
        aws_secret_access_key="s", config=Config(retries={"max_attempts": 1}, connect_timeout=1),
    )  # fmt: skip
    with pytest.raises(EndpointConnectionError):
        s3.list_buckets()


def test_the_message_page_says_when_a_send_waits_for_the_rate(
    client: Client, user: Any, settings: Any, monkeypatch: Any
) -> None:
    settings.EMAIL_PACE_SENDS = True
    settings.EMAIL_PACE_USE_SES_QUOTA = False
    settings.EMAIL_MAX_SEND_RATE = 14
    settings.EMAIL_PACE_REDIS_URL = ""
    message = make_message(user, status="sending", recipient_status="queued", to=("a@example.com",))
    client.force_login(user)
    page = reverse("emails:detail", args=[message.pk])

    monkeypatch.setattr(pacing, "_local_free_at", time.monotonic() + 40)
    waiting = client.get(page).content.decode()
    monkeypatch.setattr(pacing, "_local_free_at", 0.0)
    not_waiting = client.get(page).content.decode()

    assert 'id="rate-note"' in waiting
    assert "Waiting for SES's send rate." in waiting
    assert "SES takes 14 recipients a second" in waiting
    assert 'id="rate-note"' not in not_waiting
