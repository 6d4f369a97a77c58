"""The SNS webhook: only genuine, fresh messages of an allowed topic are stored, each once."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
import pytest
import requests
import responses
from django.core.cache import cache
from django.db import connection

from emails.exceptions import SnsRejected, SnsUnavailable
from emails.models import InboundNotification
from emails.tracking import notification_payload
from emails.tracking.sns import sns_certificates_forget, sns_subscription_confirm, sns_url_check, sns_verify
from tests.sns_signing import (
    CERT_URL,
    SUBSCRIBE_URL,
    TOPIC_ARN,
    certificate_pem,
    other_key,
    ses_delivery,
    signing_key,
    sns_envelope,
    sns_host,
    sns_sign,
)

pytestmark = pytest.mark.django_db

WEBHOOK = "/api/email/webhook"
EVENT = ses_delivery(ses_message_id="0100018c-0000-0000-0000-000000000000-000000", recipient="ann@example.com")


@pytest.fixture
def host(sns: None) -> Iterator[responses.RequestsMock]:
    """SNS's HTTPS host answered here: the certificate, and the confirmation URL."""
    with sns_host(SUBSCRIBE_URL) as mock:
        yield mock


@pytest.fixture
def post(client: Any, django_capture_on_commit_callbacks: Any) -> Any:
    """POST a body as SNS does; `response.scheduled` is what the commit would have run (not run here)."""

    def post(envelope: dict[str, Any] | str | bytes, path: str = WEBHOOK) -> Any:
        body = envelope if isinstance(envelope, (str, bytes)) else json.dumps(envelope)
        with django_capture_on_commit_callbacks(execute=False) as callbacks:
            # SNS's own header; raw bytes go as they are.
            content_type = "text/plain" if isinstance(body, bytes) else "text/plain; charset=UTF-8"
            response = client.post(path, body, content_type=content_type)
        response.scheduled = callbacks
        return response

    return post


def fetched(host: responses.RequestsMock) -> list[str]:
    return [call.request.url for call in host.calls]


@pytest.mark.parametrize("version", ["1", "2"])
def test_a_signed_notification_is_stored_verbatim_and_processing_scheduled(
    host: responses.RequestsMock, post: Any, version: str
) -> None:
    envelope = sns_envelope(EVENT, version=version)
    body = json.dumps(envelope, indent=2)

    response = post(body)

    assert response.status_code == 200, response.content
    assert response.json() == {"success": True}
    stored = InboundNotification.objects.get()
    assert stored.sns_message_id == envelope["MessageId"]
    assert stored.type == "Notification"
    assert stored.topic_arn == TOPIC_ARN
    assert stored.body == body
    assert stored.processed_at is None
    assert len(response.scheduled) == 1
    assert fetched(host) == [CERT_URL]


def test_a_notification_with_a_subject_is_verified_over_it(host: responses.RequestsMock, post: Any) -> None:
    envelope = sns_envelope("Plain text from the SNS console", subject="Test", version="2")

    assert post(envelope).status_code == 200

    forged = sns_envelope("Plain text from the SNS console", subject="Test", version="2")
    forged["Subject"] = "Changed"
    assert post(forged).status_code == 403
    assert InboundNotification.objects.count() == 1


def _forged_message() -> dict[str, Any]:
    envelope = sns_envelope(EVENT)
    envelope["Message"] = envelope["Message"].replace("ann@example.com", "eve@example.com")
    return envelope


def _with(**changes: Any) -> Any:
    """An envelope signed with the test key after `changes`, so only the changed check can refuse it."""

    def build() -> dict[str, Any]:
        envelope = sns_envelope(EVENT)
        envelope.update(changes)
        return sns_sign(envelope)

    return build


def _json(value: Any) -> Any:
    return lambda: json.dumps(value)


REFUSED = {
    "body changed after signing": (_forged_message, "The signature does not verify"),
    "signed with another key": (lambda: sns_envelope(EVENT, key=other_key()), "The signature does not verify"),
    "signature not base64": (lambda: {**sns_envelope(EVENT), "Signature": "not base64!"}, "Signature is not base64"),
    "signature missing": (
        lambda: {k: v for k, v in sns_envelope(EVENT).items() if k != "Signature"},
        "Signature is missing",
    ),
    "unsupported SignatureVersion": (lambda: sns_envelope(EVENT, version="3"), "Unsupported SignatureVersion '3'"),
    "topic not allowed": (
        lambda: sns_envelope(EVENT, topic_arn="arn:aws:sns:us-east-1:999999999999:other"),
        "Topic 'arn:aws:sns:us-east-1:999999999999:other' is not allowed",
    ),
    "two hours old": (
        lambda: sns_envelope(EVENT, timestamp=datetime.now(UTC) - timedelta(hours=2)),
        "Timestamp is too old",
    ),
    "an hour ahead": (
        lambda: sns_envelope(EVENT, timestamp=datetime.now(UTC) + timedelta(hours=1)),
        "Timestamp is in the future",
    ),
    "timestamp without a zone": (lambda: sns_envelope(EVENT, timestamp="2030-01-01T00:00:00"), "no time zone"),
    "timestamp not a date": (lambda: sns_envelope(EVENT, timestamp="yesterday"), "Timestamp is not a date"),
    "invalid JSON": (lambda: '{"Type": "Notification", ', "The body is not JSON"),
    "JSON but not an object": (_json(["Notification"]), "The body is not an SNS message"),
    "unknown Type": (_with(Type="Unknown"), "Unknown message Type 'Unknown'"),
    "MessageId missing": (_with(MessageId=""), "MessageId is missing"),
    "not UTF-8": (lambda: b'{"Type": "Notification", "Message": "\xff"}', "The body is not JSON"),
}


@pytest.mark.parametrize("case", REFUSED.keys())
def test_it_refuses_what_is_not_a_genuine_fresh_message_of_an_allowed_topic(
    host: responses.RequestsMock, post: Any, case: str
) -> None:
    build, reason = REFUSED[case]

    response = post(build())

    assert response.status_code == 403
    assert response.json()["success"] is False
    assert reason in response.json()["error"]
    assert not InboundNotification.objects.exists()
    assert response.scheduled == []


BAD_CERT_URLS = {
    "https://evil.amazonaws.com/x.pem": "is not an SNS host",
    "https://s3.amazonaws.com/SimpleNotificationService-test.pem": "is not an SNS host",
    "https://sns.us-east-1.amazonaws.com.evil.com/SimpleNotificationService-test.pem": "is not an SNS host",
    "https://sns.us-east-1.evil.com/SimpleNotificationService-test.pem": "is not an SNS host",
    "https://evil.com/sns.us-east-1.amazonaws.com/x.pem": "is not an SNS host",
    "http://sns.us-east-1.amazonaws.com/SimpleNotificationService-test.pem": "is not https",
    "https://sns.us-east-1.amazonaws.com/SimpleNotificationService-test.txt": "does not name a .pem",
    "https://sns.us-east-1.amazonaws.com/x.pem?.txt": "does not name a .pem",
    "https://sns.us-east-1.amazonaws.com:8443/x.pem": "carries credentials or a port",
    "https://evil.com@sns.us-east-1.amazonaws.com/x.pem": "carries credentials or a port",
    "https://sns.us-east-1.amazonaws.com\\@evil.com/x.pem": "is not a plain URL",
    "file:///etc/ssl/cert.pem": "is not https",
    "": "SigningCertURL is missing",
}


@pytest.mark.parametrize("cert_url", BAD_CERT_URLS.keys())
def test_it_fetches_certificates_only_from_sns_hosts(host: responses.RequestsMock, post: Any, cert_url: str) -> None:
    response = post(sns_envelope(EVENT, cert_url=cert_url))

    assert response.status_code == 403
    assert BAD_CERT_URLS[cert_url] in response.json()["error"]
    assert not InboundNotification.objects.exists()
    assert fetched(host) == []


@pytest.mark.parametrize(
    "cert_url",
    [
        CERT_URL.replace("us-east-1", "eu-west-1"),
        "https://sns.cn-north-1.amazonaws.com.cn/SimpleNotificationService-test.pem",
    ],
)
def test_it_fetches_certificates_from_any_regions_sns_host(
    host: responses.RequestsMock, post: Any, cert_url: str
) -> None:
    host.get(cert_url, body=certificate_pem())

    assert post(sns_envelope(EVENT, cert_url=cert_url)).status_code == 200
    assert fetched(host) == [cert_url]


def test_an_empty_topic_allowlist_refuses_everything(host: responses.RequestsMock, post: Any, settings: Any) -> None:
    settings.SNS_TOPIC_ARNS = []

    response = post(sns_envelope(EVENT))

    assert response.status_code == 403
    assert "SNS_TOPIC_ARNS is empty" in response.json()["error"]
    assert not InboundNotification.objects.exists()
    assert fetched(host) == []


def test_the_maximum_age_is_configurable(host: responses.RequestsMock, post: Any, settings: Any) -> None:
    settings.SNS_MAX_AGE_SECONDS = 60
    two_minutes_ago = datetime.now(UTC) - timedelta(minutes=2)

    assert post(sns_envelope(EVENT, timestamp=two_minutes_ago)).status_code == 403

    settings.SNS_MAX_AGE_SECONDS = 3600
    assert post(sns_envelope(EVENT, timestamp=two_minutes_ago)).status_code == 200


def test_a_refusal_is_logged_with_its_reason(host: responses.RequestsMock, post: Any, caplog: Any) -> None:
    with caplog.at_level(logging.WARNING, logger="emails.webhook"):
        post(sns_envelope(EVENT, version="3"))

    assert [(r.levelno, r.getMessage()) for r in caplog.records if r.name == "emails.webhook"] == [
        (logging.WARNING, "SNS message refused: Unsupported SignatureVersion '3'")
    ]


def test_a_replay_answers_200_and_stores_and_schedules_nothing(host: responses.RequestsMock, post: Any) -> None:
    envelope = sns_envelope(EVENT)

    first = post(envelope)
    again = post(envelope)

    assert (first.status_code, again.status_code) == (200, 200)
    assert again.json() == {"success": True}
    assert InboundNotification.objects.count() == 1
    assert len(first.scheduled) == 1
    assert again.scheduled == []


def test_a_replay_with_a_forged_body_is_still_refused(host: responses.RequestsMock, post: Any) -> None:
    envelope = sns_envelope(EVENT)
    assert post(envelope).status_code == 200

    forged = {**envelope, "Message": envelope["Message"].replace("Delivery", "Bounce")}

    assert post(forged).status_code == 403
    assert InboundNotification.objects.get().body == json.dumps(envelope)


def test_the_certificate_is_fetched_once_for_many_messages(host: responses.RequestsMock, post: Any) -> None:
    for version in ["1", "2", "1", "2", "1"]:
        assert post(sns_envelope(EVENT, version=version)).status_code == 200
    # Another process finds it in the shared cache.
    sns_certificates_forget()
    assert post(sns_envelope(EVENT)).status_code == 200

    assert InboundNotification.objects.count() == 6
    assert fetched(host) == [CERT_URL]


def test_the_certificate_is_fetched_with_the_configured_timeout(
    host: responses.RequestsMock, post: Any, settings: Any
) -> None:
    settings.SNS_CERT_TIMEOUT_SECONDS = 2.5

    post(sns_envelope(EVENT))

    assert host.calls[0].request.req_kwargs["timeout"] == 2.5


def test_a_missing_certificate_refuses_and_is_not_remembered(host: responses.RequestsMock, post: Any) -> None:
    missing = "https://sns.us-east-1.amazonaws.com/SimpleNotificationService-missing.pem"
    host.get(missing, status=404)

    first = post(sns_envelope(EVENT, cert_url=missing))
    second = post(sns_envelope(EVENT, cert_url=missing))

    assert (first.status_code, second.status_code) == (403, 403)
    assert "answered 404" in first.json()["error"]
    assert fetched(host) == [missing, missing]
    assert not InboundNotification.objects.exists()


def test_a_redirect_from_the_certificate_url_is_not_followed(host: responses.RequestsMock, post: Any) -> None:
    moved = "https://sns.us-east-1.amazonaws.com/SimpleNotificationService-moved.pem"
    host.get(moved, status=302, headers={"Location": "https://evil.com/x.pem"})

    response = post(sns_envelope(EVENT, cert_url=moved))

    assert response.status_code == 403
    assert fetched(host) == [moved]


def test_a_certificate_url_that_holds_no_certificate_refuses(host: responses.RequestsMock, post: Any) -> None:
    garbage = "https://sns.us-east-1.amazonaws.com/SimpleNotificationService-garbage.pem"
    host.get(garbage, body=b"<html>not a certificate</html>")

    response = post(sns_envelope(EVENT, cert_url=garbage))

    assert response.status_code == 403
    assert "does not hold a PEM certificate" in response.json()["error"]


def test_a_certificate_that_is_not_valid_now_refuses(host: responses.RequestsMock, post: Any) -> None:
    expired = "https://sns.us-east-1.amazonaws.com/SimpleNotificationService-expired.pem"
    host.get(expired, body=certificate_pem(signing_key(), valid_from=datetime.now(UTC) - timedelta(days=400)))

    response = post(sns_envelope(EVENT, cert_url=expired))

    assert response.status_code == 403
    assert "not valid now" in response.json()["error"]


@pytest.mark.parametrize(
    "failure",
    [
        {"body": requests.ConnectTimeout("timed out")},
        {"body": requests.ConnectionError("refused")},
        {"status": 503},
    ],
    ids=["timeout", "connection refused", "503"],
)
def test_an_unreachable_certificate_host_answers_503_so_sns_retries(
    sns: None, post: Any, failure: dict[str, Any]
) -> None:
    with sns_host() as host:
        host.replace(responses.GET, CERT_URL, **failure)
        response = post(sns_envelope(EVENT))
        host.replace(responses.GET, CERT_URL, body=certificate_pem())
        retried = post(sns_envelope(EVENT))

    assert response.status_code == 503
    assert retried.status_code == 200
    assert InboundNotification.objects.count() == 1


def test_only_post_is_allowed(client: Any) -> None:
    assert client.get(WEBHOOK).status_code == 405
    assert client.put(WEBHOOK, "{}", content_type="text/plain").status_code == 405


def test_the_path_answers_with_and_without_a_trailing_slash(host: responses.RequestsMock, post: Any) -> None:
    assert post(sns_envelope(EVENT), path=WEBHOOK + "/").status_code == 200
    assert post(sns_envelope(EVENT), path=WEBHOOK).status_code == 200


# --- Subscriptions ------------------------------------------------------------


def test_a_subscription_confirmation_from_an_allowed_topic_is_stored_then_confirmed(
    host: responses.RequestsMock, post: Any, settings: Any
) -> None:
    envelope = sns_envelope("You have chosen to subscribe to the topic ...", type="SubscriptionConfirmation")

    response = post(envelope)

    assert response.status_code == 200
    stored = InboundNotification.objects.get()
    assert stored.type == "SubscriptionConfirmation"
    assert len(response.scheduled) == 1
    assert fetched(host) == [CERT_URL]

    sns_subscription_confirm(notification_payload(stored))

    assert fetched(host) == [CERT_URL, SUBSCRIBE_URL]
    assert host.calls[1].request.req_kwargs["timeout"] == settings.SNS_CERT_TIMEOUT_SECONDS


def test_a_subscription_confirmation_from_another_topic_is_refused_and_not_confirmed(
    host: responses.RequestsMock, post: Any
) -> None:
    other = "arn:aws:sns:us-east-1:999999999999:someone-elses"
    envelope = sns_envelope("Subscribe?", type="SubscriptionConfirmation", topic_arn=other)

    assert post(envelope).status_code == 403
    with pytest.raises(SnsRejected, match="is not allowed"):
        sns_subscription_confirm(envelope)

    assert not InboundNotification.objects.exists()
    assert fetched(host) == []


@pytest.mark.parametrize(
    "subscribe_url",
    [
        "https://evil.com/?Action=ConfirmSubscription",
        "https://evil.amazonaws.com/?Action=ConfirmSubscription",
        "http://sns.us-east-1.amazonaws.com/?Action=ConfirmSubscription",
        "https://sns.us-east-1.amazonaws.com.evil.com/?Action=ConfirmSubscription",
    ],
)
def test_a_subscribe_url_off_sns_is_never_fetched(host: responses.RequestsMock, post: Any, subscribe_url: str) -> None:
    host.get(subscribe_url, body="confirmed")
    envelope = sns_envelope("Subscribe?", type="SubscriptionConfirmation", subscribe_url=subscribe_url)

    assert post(envelope).status_code == 403
    with pytest.raises(SnsRejected, match="SubscribeURL"):
        sns_subscription_confirm(envelope)

    assert not InboundNotification.objects.exists()
    assert subscribe_url not in fetched(host)


def test_a_failed_confirmation_says_sns_was_unreachable(host: responses.RequestsMock) -> None:
    host.replace(responses.GET, SUBSCRIBE_URL, status=500)

    with pytest.raises(SnsUnavailable):
        sns_subscription_confirm(sns_envelope("Subscribe?", type="SubscriptionConfirmation"))


def test_only_a_subscription_confirmation_is_confirmed(host: responses.RequestsMock) -> None:
    with pytest.raises(SnsRejected):
        sns_subscription_confirm(sns_envelope(EVENT))
    with pytest.raises(SnsRejected):
        sns_subscription_confirm(sns_envelope("Bye", type="UnsubscribeConfirmation"))

    assert fetched(host) == []


def test_an_unsubscribe_confirmation_is_verified_and_stored(host: responses.RequestsMock, post: Any) -> None:
    response = post(sns_envelope("You have chosen to deactivate ...", type="UnsubscribeConfirmation", version="2"))

    assert response.status_code == 200
    assert InboundNotification.objects.get().type == "UnsubscribeConfirmation"


# --- The verifier on its own ------------------------------------------------------


def test_sns_verify_returns_the_message(host: responses.RequestsMock) -> None:
    envelope = sns_envelope(EVENT, version="2")

    message = sns_verify(json.dumps(envelope).encode())

    assert message == envelope
    assert json.loads(message["Message"]) == EVENT


@pytest.mark.parametrize(
    "url",
    [
        "https://sns.us-east-1.amazonaws.com/SimpleNotificationService-abc.pem",
        "https://sns.ap-southeast-2.amazonaws.com/?Action=ConfirmSubscription&Token=x",
        "https://sns.cn-northwest-1.amazonaws.com.cn/x.pem",
        "https://SNS.US-EAST-1.AMAZONAWS.COM/x.pem",
        "https://sns.us-east-1.amazonaws.com:443/x.pem",
    ],
)
def test_sns_hosts_pass_the_url_check(url: str) -> None:
    sns_url_check(url, name="URL")


@pytest.mark.parametrize(
    "url",
    [
        None,
        "https://sns.amazonaws.com/x.pem",
        "https://sns.us-east-1.amazonaws.com./x.pem",
        "https://sns.us_east_1.amazonaws.com/x.pem",
        "https://sns.us-east-1.amazonaws.com\n.evil.com/x.pem",
        "https://user:pass@sns.us-east-1.amazonaws.com/x.pem",
        "https://sns.us-east-1.amazonaws.com:99999/x.pem",
        "https://[::1]/x.pem",
        "//sns.us-east-1.amazonaws.com/x.pem",
    ],
)
def test_other_urls_fail_the_url_check(url: str | None) -> None:
    with pytest.raises(SnsRejected):
        sns_url_check(url, name="URL")


def test_a_cleared_cache_fetches_again(host: responses.RequestsMock) -> None:
    sns_verify(json.dumps(sns_envelope(EVENT)))
    sns_certificates_forget()
    cache.clear()

    sns_verify(json.dumps(sns_envelope(EVENT)))

    assert fetched(host) == [CERT_URL, CERT_URL]


def test_post_sns_signs_and_posts_an_ses_event_beside_moto(ses: Any, post_sns: Any) -> None:
    response = post_sns(EVENT, version="2")

    assert response.status_code == 200
    assert InboundNotification.objects.get().topic_arn == TOPIC_ARN
    assert response.sns_requests == [CERT_URL]


# In production the webhook runs in autocommit (no transaction around the request), where the INSERT is also
# the connection's health check: these run it so, and the drain it schedules runs at once (no broker in tests).
@pytest.mark.django_db(transaction=True)
def test_in_autocommit_a_notification_is_stored_once_and_applied_and_a_replay_stores_nothing(
    host: responses.RequestsMock, client: Any
) -> None:
    envelope = sns_envelope(EVENT)

    first = client.post(WEBHOOK, json.dumps(envelope), content_type="text/plain; charset=UTF-8")
    again = client.post(WEBHOOK, json.dumps(envelope), content_type="text/plain; charset=UTF-8")

    assert (first.status_code, again.status_code) == (200, 200)
    stored = InboundNotification.objects.get()
    assert stored.sns_message_id == envelope["MessageId"]
    assert stored.processed_at is not None  # the drain it scheduled ran


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="a server that closes its connections: PostgreSQL")
def test_a_connection_the_server_closed_since_the_last_request_is_replaced_and_the_message_stored(
    host: responses.RequestsMock, client: Any
) -> None:
    connection.ensure_connection()
    backend = connection.connection.info.backend_pid
    params = connection.get_connection_params()
    with psycopg.connect(**params, autocommit=True) as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", [backend])
    envelope = sns_envelope(EVENT)

    response = client.post(WEBHOOK, json.dumps(envelope), content_type="text/plain; charset=UTF-8")

    assert response.status_code == 200, response.content
    assert connection.connection.info.backend_pid != backend
    assert InboundNotification.objects.get().sns_message_id == envelope["MessageId"]
