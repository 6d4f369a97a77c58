"""Sending through SES and asking it for the quota; the client itself is emails.ses's."""

from __future__ import annotations

import logging
from datetime import UTC, timedelta
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError
from django.conf import settings
from django.core.cache import cache
from django.core.mail import EmailMessage, get_connection
from django.core.mail.backends.base import BaseEmailBackend
from django.utils import timezone

from emails.exceptions import ProviderUnavailable, SendPermanentError, SendTransientError
from emails.ses import SESBackend, ses_client

# EMAIL_BACKEND's dotted path before the client moved to emails.ses: a deployment may still name it.
__all__ = ["SESBackend", "ses_client", "ses_connection", "ses_quota", "ses_quota_cached", "ses_send",
           "ses_statistics_daily"]  # fmt: skip

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
