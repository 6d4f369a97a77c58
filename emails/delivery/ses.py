"""The one module that talks to Amazon SES: the EMAIL_BACKEND for sending, and its client for the quota."""

from __future__ import annotations

import logging
import threading
from datetime import UTC, timedelta
from typing import Any

import boto3
import django_ses
from botocore.exceptions import BotoCoreError, ClientError
from django.conf import settings
from django.core.cache import cache
from django.core.mail import EmailMessage, get_connection
from django.core.mail.backends.base import BaseEmailBackend
from django.utils import timezone

from emails.exceptions import ProviderUnavailable, SendPermanentError, SendTransientError

logger = logging.getLogger(__name__)

# Error codes SES answers when the same call may succeed later.
_TRANSIENT_CODES = frozenset(
    {
        "Throttling",
        "ThrottlingException",
        "TooManyRequestsException",
        "ServiceUnavailable",
        "ServiceUnavailableException",
        "InternalFailure",
        "InternalServerError",
        "RequestTimeout",
        "RequestTimeoutException",
    }
)


_clients: dict[tuple[Any, ...], Any] = {}
_clients_lock = threading.Lock()


class SESBackend(django_ses.SESBackend):
    """django-ses's backend, with one boto3 client per process and configuration, not one per connection.

    django-ses builds a new session and client on every open(): about 40 ms
    of CPU, which a worker paid for each message it sent one by one. boto3
    clients are thread-safe, and one refreshes an instance role's
    credentials by itself.
    """

    connection: Any

    def open(self) -> bool | None:
        if self.connection:
            return False
        service = "sesv2" if self._use_ses_v2 else "ses"
        key = (self._session_profile, self._access_key_id, self._access_key, self._session_token,
               self._region_name, self._endpoint_url, id(self._config), service)  # fmt: skip
        with _clients_lock:
            client = _clients.get(key)
            if client is None:
                client = self.create_session().client(
                    service, region_name=self._region_name, endpoint_url=self._endpoint_url, config=self._config
                )
                _clients[key] = client
        self.connection = client
        return None


def ses_client() -> Any:
    """The boto3 SES client of EMAIL_BACKEND when it is django-ses's (or the emulation's); else one from settings."""
    backend = get_connection(fail_silently=False)
    if isinstance(backend, django_ses.SESBackend):
        backend.open()
        return backend.connection
    return boto3.client(
        "ses",
        region_name=settings.AWS_SES_REGION_NAME,
        endpoint_url=settings.AWS_SES_REGION_ENDPOINT_URL,
        aws_access_key_id=settings.AWS_ACCESS_KEY_ID,
        aws_secret_access_key=settings.AWS_SECRET_ACCESS_KEY,
        aws_session_token=settings.AWS_SESSION_TOKEN,
    )


def ses_connection() -> BaseEmailBackend:
    """An open connection of EMAIL_BACKEND (django-ses in production), reused for a batch."""
    connection: BaseEmailBackend = get_connection(fail_silently=False)
    connection.open()
    return connection


def ses_send(*, connection: BaseEmailBackend, email: EmailMessage) -> str:
    """Send one message through EMAIL_BACKEND and return SES's MessageId.

    Backends other than django-ses (locmem in tests, the benchmark's) return
    no MessageId; the empty string is recorded then.
    """
    try:
        connection.send_messages([email])
    except ClientError as exc:
        error = exc.response.get("Error", {})
        code = str(error.get("Code", ""))
        reason = f"{code}: {error.get('Message', '')}".strip(": ")
        status = int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0)
        if code in _TRANSIENT_CODES or status >= 500:
            raise SendTransientError(reason) from exc
        raise SendPermanentError(reason, code=code) from exc
    except BotoCoreError as exc:
        # Connection resets, timeouts, DNS: the request may not have reached
        # SES at all; trying again is the only safe move.
        raise SendTransientError(f"{type(exc).__name__}: {exc}") from exc
    return str(email.extra_headers.pop("message_id", "") or "")


def ses_quota() -> dict[str, Any]:
    """SES's sending limits and what was used of them in the last 24 hours."""
    client = ses_client()
    try:
        quota = client.get_send_quota()
        points = client.get_send_statistics().get("SendDataPoints", [])
    except (ClientError, BotoCoreError) as exc:
        raise ProviderUnavailable(f"SES did not answer: {exc}") from exc
    since = timezone.now() - timedelta(hours=24)
    usage = {"deliveryAttempts": 0, "bounces": 0, "complaints": 0, "rejects": 0}
    for point in points:
        if point["Timestamp"] >= since:
            usage["deliveryAttempts"] += int(point.get("DeliveryAttempts", 0))
            usage["bounces"] += int(point.get("Bounces", 0))
            usage["complaints"] += int(point.get("Complaints", 0))
            usage["rejects"] += int(point.get("Rejects", 0))
    max_24h = float(quota["Max24HourSend"])
    sent = float(quota["SentLast24Hours"])
    return {
        "maxSend24Hour": max_24h,
        "maxSendRate": float(quota["MaxSendRate"]),
        "sentLast24Hours": sent,
        "remaining24Hour": max(max_24h - sent, 0.0),
        "usagePercent": round(sent / max_24h * 100, 2) if max_24h > 0 else 0.0,
        "last24Hours": usage,
    }


QUOTA_CACHE_KEY = "emails:ses-quota"


def ses_quota_cached() -> dict[str, Any]:
    """SES's quota and 24 h usage, asked of SES at most once per EMAIL_QUOTA_CACHE_SECONDS."""
    quota = cache.get(QUOTA_CACHE_KEY)
    if quota is None:
        quota = {**ses_quota(), "fetchedAt": timezone.now().isoformat()}
        cache.set(QUOTA_CACHE_KEY, quota, settings.EMAIL_QUOTA_CACHE_SECONDS)
    return dict(quota)


STATISTICS_CACHE_KEY = "emails:ses-statistics"
STATISTICS_FIELDS = {"DeliveryAttempts": "deliveryAttempts", "Bounces": "bounces", "Complaints": "complaints",
                     "Rejects": "rejects"}  # fmt: skip


def ses_statistics_daily() -> list[dict[str, Any]]:
    """GetSendStatistics (15-minute points over two weeks) summed per UTC day, oldest first; cached as the quota."""
    days = cache.get(STATISTICS_CACHE_KEY)
    if days is None:
        try:
            points = ses_client().get_send_statistics().get("SendDataPoints", [])
        except (ClientError, BotoCoreError) as exc:
            raise ProviderUnavailable(f"SES did not answer: {exc}") from exc
        by_day: dict[str, dict[str, Any]] = {}
        for point in points:
            day = point["Timestamp"].astimezone(UTC).date().isoformat()
            row = by_day.setdefault(day, {"date": day, **dict.fromkeys(STATISTICS_FIELDS.values(), 0)})
            for source, name in STATISTICS_FIELDS.items():
                row[name] += int(point.get(source, 0))
        days = [by_day[day] for day in sorted(by_day)]
        cache.set(STATISTICS_CACHE_KEY, days, settings.EMAIL_QUOTA_CACHE_SECONDS)
    return list(days)
