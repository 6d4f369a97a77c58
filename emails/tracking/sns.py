"""Amazon SNS: verify what it posts to the webhook, and confirm subscriptions.

The one module that talks to SNS hosts. A message is accepted only when all of
these hold, checked cheapest first so a forged message costs no network call:
its shape and Type are known; SignatureVersion is 1 (SHA1withRSA) or 2
(SHA256withRSA); SigningCertURL is https on `sns.<region>.amazonaws.com[.cn]`
and names a `.pem`; TopicArn is in SNS_TOPIC_ARNS; Timestamp is recent; and the
signature verifies, with the certificate fetched from that URL (timeout,
cached), over the fields AWS signs for the message's Type.

django-ses's `EventMessageVerifier` checks SignatureVersion 1 only, accepts
any topic and any age, and remembers a failed certificate download forever,
so verification is ours; we reuse its SNS host pattern.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import logging
import threading
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import requests
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from django.conf import settings
from django.core.cache import cache
from django.utils import timezone
from django_ses.utils import SES_REGEX_SNS_ENDPOINT_HOST

from core.text import text_problem
from emails.exceptions import SnsRejected, SnsUnavailable

logger = logging.getLogger(__name__)

# The fields AWS signs, in this order, as "Key\nValue\n" each. Subject is
# signed only when the message has one.
SIGNED_FIELDS = {
    "Notification": ("Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type"),
    "SubscriptionConfirmation": ("Message", "MessageId", "SubscribeURL", "Timestamp", "Token", "TopicArn", "Type"),
    "UnsubscribeConfirmation": ("Message", "MessageId", "SubscribeURL", "Timestamp", "Token", "TopicArn", "Type"),
}
OPTIONAL_FIELDS = {"Subject"}
SIGNATURE_HASHES: dict[str, type[hashes.HashAlgorithm]] = {"1": hashes.SHA1, "2": hashes.SHA256}
# A sender's clock may run a little ahead of ours; more than this is not a clock.
MAX_FUTURE_SKEW = timedelta(minutes=5)
# SNS certificates and confirmation answers are a few KB.
MAX_RESPONSE_BYTES = 64 * 1024
CERTIFICATE_CACHE_SECONDS = 24 * 3600

# Parsed certificates by URL, so a burst of messages parses (and fetches) once
# per process; the Django cache shares the PEM between processes.
_certificates: dict[str, x509.Certificate] = {}
_certificates_lock = threading.Lock()


def sns_verify(body: bytes | str) -> dict[str, Any]:
    """The SNS message in `body` once every check passed; SnsRejected says which did not."""
    message = _parse(body)
    version = message["SignatureVersion"]
    if version not in SIGNATURE_HASHES:
        raise SnsRejected(f"Unsupported SignatureVersion {version!r}")
    cert_url = message["SigningCertURL"]
    sns_url_check(cert_url, name="SigningCertURL")
    cert_parts = urlsplit(cert_url)
    if not cert_parts.path.endswith(".pem") or cert_parts.query or cert_parts.fragment:
        raise SnsRejected("SigningCertURL does not name a .pem certificate")
    if message["Type"] in ("SubscriptionConfirmation", "UnsubscribeConfirmation"):
        sns_url_check(message["SubscribeURL"], name="SubscribeURL")
    sns_topic_check(message["TopicArn"])
    _freshness_check(message["Timestamp"])
    _signature_check(message, _certificate(cert_url), SIGNATURE_HASHES[version]())
    return message


def sns_subscription_confirm(message: dict[str, Any]) -> None:
    """Confirm a SubscriptionConfirmation by visiting its SubscribeURL, an SNS host of an allowed topic only.

    Raises SnsRejected (nothing fetched) when the topic or the URL is not
    trusted, SnsUnavailable when SNS could not be reached.
    """
    if message.get("Type") != "SubscriptionConfirmation":
        raise SnsRejected("Not a SubscriptionConfirmation")
    sns_topic_check(message.get("TopicArn"))
    url = message.get("SubscribeURL")
    sns_url_check(url, name="SubscribeURL")
    assert isinstance(url, str)  # sns_url_check refused anything else
    sns_fetch(url)
    logger.info("Confirmed the SNS subscription to %s", message["TopicArn"])


def sns_url_check(url: Any, *, name: str) -> None:
    """Refuse anything but a plain https URL on an SNS host: `sns.<region>.amazonaws.com[.cn]`."""
    if not isinstance(url, str) or not url:
        raise SnsRejected(f"{name} is missing")
    # Parsers disagree about backslashes, blanks and credentials in URLs
    # (the host one sees is not the host another connects to): refuse them.
    if any(char <= " " or char in "\\\x7f" for char in url):
        raise SnsRejected(f"{name} is not a plain URL")
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        port = parts.port
    except ValueError as exc:
        raise SnsRejected(f"{name} is not a URL") from exc
    if parts.scheme != "https":
        raise SnsRejected(f"{name} is not https")
    if parts.netloc.lower() not in (host, f"{host}:443") or port not in (None, 443):
        raise SnsRejected(f"{name} carries credentials or a port")
    if not SES_REGEX_SNS_ENDPOINT_HOST.match(host):
        raise SnsRejected(f"{name} host {host!r} is not an SNS host")


def sns_topic_check(topic_arn: Any) -> None:
    """Refuse a topic that is not in SNS_TOPIC_ARNS (an empty list allows none)."""
    if not settings.SNS_TOPIC_ARNS:
        raise SnsRejected("No SNS topic is allowed (SNS_TOPIC_ARNS is empty)")
    if topic_arn not in settings.SNS_TOPIC_ARNS:
        raise SnsRejected(f"Topic {topic_arn!r} is not allowed")


def sns_fetch(url: str) -> bytes:
    """GET an SNS URL that passed `sns_url_check`, with the configured timeout and no redirects."""
    try:
        response = requests.get(url, timeout=settings.SNS_CERT_TIMEOUT_SECONDS, allow_redirects=False, stream=True)
    except requests.RequestException as exc:
        raise SnsUnavailable(f"{url} could not be fetched: {exc}") from exc
    with response:
        if response.status_code >= 500:
            raise SnsUnavailable(f"{url} answered {response.status_code}")
        if response.status_code != 200:
            # A missing certificate on the real SNS host means a made-up URL.
            raise SnsRejected(f"{url} answered {response.status_code}")
        content = b""
        try:
            for chunk in response.iter_content(8192):
                content += chunk
                if len(content) > MAX_RESPONSE_BYTES:
                    raise SnsRejected(f"{url} answered more than {MAX_RESPONSE_BYTES} bytes")
        except requests.RequestException as exc:
            raise SnsUnavailable(f"{url} could not be read: {exc}") from exc
    return content


def sns_certificate_remember(url: str, pem: bytes) -> None:
    """Put a certificate in the shared cache as if fetched from `url` (a server that cannot reach SNS)."""
    cache.set(_cache_key(url), pem, CERTIFICATE_CACHE_SECONDS)


def sns_certificates_forget() -> None:
    """Drop this process's parsed certificates (tests; the shared cache is cleared with the cache)."""
    with _certificates_lock:
        _certificates.clear()


def _parse(body: bytes | str) -> dict[str, Any]:
    try:
        message = json.loads(body)
    except (ValueError, UnicodeDecodeError, RecursionError) as exc:
        raise SnsRejected("The body is not JSON") from exc
    if not isinstance(message, dict):
        raise SnsRejected("The body is not an SNS message")
    kind = message.get("Type")
    if not isinstance(kind, str) or kind not in SIGNED_FIELDS:
        raise SnsRejected(f"Unknown message Type {str(kind)[:40]!r}")
    for key in (*SIGNED_FIELDS[kind], "SignatureVersion", "Signature", "SigningCertURL"):
        value = message.get(key)
        if key in OPTIONAL_FIELDS and value is None:
            continue
        if not isinstance(value, str) or not value:
            raise SnsRejected(f"{key} is missing")
        if text_problem(value):  # SNS sends neither; kept, PostgreSQL would refuse them
            raise SnsRejected(f"{key} holds NUL or an unpaired surrogate")
    return message


def _freshness_check(timestamp: str) -> None:
    try:
        sent_at = datetime.fromisoformat(timestamp)
    except ValueError as exc:
        raise SnsRejected("Timestamp is not a date") from exc
    if sent_at.tzinfo is None:
        raise SnsRejected("Timestamp has no time zone")
    now = timezone.now()
    if now - sent_at > timedelta(seconds=settings.SNS_MAX_AGE_SECONDS):
        raise SnsRejected("Timestamp is too old")
    if sent_at - now > MAX_FUTURE_SKEW:
        raise SnsRejected("Timestamp is in the future")


def _signed_string(message: dict[str, Any]) -> bytes:
    fields = SIGNED_FIELDS[message["Type"]]
    return "".join(
        f"{key}\n{message[key]}\n" for key in fields if not (key in OPTIONAL_FIELDS and message.get(key) is None)
    ).encode("utf-8")


def _signature_check(message: dict[str, Any], certificate: x509.Certificate, algorithm: hashes.HashAlgorithm) -> None:
    now = timezone.now()
    if not certificate.not_valid_before_utc <= now <= certificate.not_valid_after_utc:
        raise SnsRejected("The signing certificate is not valid now")
    public_key = certificate.public_key()
    if not isinstance(public_key, rsa.RSAPublicKey):
        raise SnsRejected("The signing certificate has no RSA key")
    try:
        signature = base64.b64decode(message["Signature"], validate=True)
    except (binascii.Error, ValueError) as exc:
        raise SnsRejected("Signature is not base64") from exc
    try:
        public_key.verify(signature, _signed_string(message), padding.PKCS1v15(), algorithm)
    except InvalidSignature as exc:
        raise SnsRejected("The signature does not verify") from exc


def _cache_key(url: str) -> str:
    return "sns-cert:" + hashlib.sha256(url.encode()).hexdigest()


def _certificate(url: str) -> x509.Certificate:
    certificate = _certificates.get(url)
    if certificate is not None:
        return certificate
    # One fetch per process for a burst of messages signed with a new
    # certificate: the others wait here and find it parsed.
    with _certificates_lock:
        certificate = _certificates.get(url)
        if certificate is not None:
            return certificate
        pem = cache.get(_cache_key(url))
        if pem is None:
            pem = sns_fetch(url)
            fetched = True
        else:
            fetched = False
        try:
            certificate = x509.load_pem_x509_certificate(pem)
        except ValueError as exc:
            raise SnsRejected("SigningCertURL does not hold a PEM certificate") from exc
        if fetched:
            # Only a certificate that parsed is remembered; a failed fetch is
            # tried again by the next message.
            cache.set(_cache_key(url), pem, CERTIFICATE_CACHE_SECONDS)
        _certificates[url] = certificate
        return certificate
