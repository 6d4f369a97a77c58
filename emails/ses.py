"""The one module that talks to Amazon SES (or to moto standing in for it)."""

from __future__ import annotations

import logging
import threading
from datetime import timedelta
from email.utils import parseaddr
from typing import Any

import boto3
from botocore.exceptions import BotoCoreError, ClientError
from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.core.mail.backends.base import BaseEmailBackend
from django.utils import timezone

from emails.exceptions import ProviderUnavailable, SendPermanentError, SendTransientError
from emails.mime import SES_MAX_ADDRESSES_PER_CALL

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


def ses_client() -> Any:
    """A boto3 SES client configured like django-ses's backend."""
    ses_emulator_ensure()
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
    ses_emulator_ensure()
    connection = get_connection(fail_silently=False)
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


_emulator_lock = threading.Lock()
_emulator: Any = None


def ses_emulator_ensure() -> None:
    """With SES_EMULATED, answer this process's AWS calls with moto and verify our sender.

    Used by the embedded default only: the whole django-ses path runs, real
    SES API calls included, with no AWS account. Started on first use.
    """
    global _emulator
    if _emulator is not None or not settings.SES_EMULATED:
        return
    with _emulator_lock:
        if _emulator is not None:
            return
        from moto import mock_aws

        emulator = mock_aws()
        emulator.start()
        moto_recipient_count_fix()
        _emulator = emulator
        ses_identity_verify(settings.DEFAULT_FROM_EMAIL)
        logger.info("SES is emulated by moto in this process (SES_EMULATED).")


def ses_identity_verify(from_email: str) -> None:
    """Verify the sender's domain; moto, like SES in the sandbox, refuses unverified senders."""
    address = parseaddr(from_email)[1]
    ses_client().verify_domain_identity(Domain=address.rpartition("@")[2])


def moto_recipient_count_fix() -> None:
    """Make moto count a call's recipients as SES does.

    moto adds the To/Cc header addresses to the Destinations it was given and
    counts both, so a call of 50 addresses with any of them in To or Cc,
    which SES accepts, is refused by moto. SES counts the Destinations.
    Our own grouping (emails.mime) keeps every call within 50.
    """
    import moto.ses.models

    moto.ses.models.RECIPIENT_LIMIT = 2 * SES_MAX_ADDRESSES_PER_CALL
