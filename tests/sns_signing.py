"""Sign SNS messages the way Amazon SNS does, with a test key, and serve its certificate locally.

The key and its self-signed certificate are made once per process. Messages are
signed over the same fields as AWS (SignatureVersion 1: SHA1withRSA, 2:
SHA256withRSA), so `emails.sns.sns_verify` runs for real against them; only the
HTTPS GET of the certificate (and of a SubscribeURL) is answered locally, by
`sns_host()`.
"""

from __future__ import annotations

import base64
import json
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from functools import cache
from typing import Any

import responses
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509.oid import NameOID

TOPIC_ARN = "arn:aws:sns:us-east-1:123456789012:ses-events"
CERT_URL = "https://sns.us-east-1.amazonaws.com/SimpleNotificationService-test.pem"
SUBSCRIBE_URL = (
    "https://sns.us-east-1.amazonaws.com/?Action=ConfirmSubscription"
    f"&TopicArn={TOPIC_ARN}&Token=2336412f37fb687f5d51e6e241d09c805a5a57b30d712f794cc5f6a988666d92768dd60a747ba6f3"
)
SIGNED_FIELDS = {
    "Notification": ("Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type"),
    "SubscriptionConfirmation": ("Message", "MessageId", "SubscribeURL", "Timestamp", "Token", "TopicArn", "Type"),
    "UnsubscribeConfirmation": ("Message", "MessageId", "SubscribeURL", "Timestamp", "Token", "TopicArn", "Type"),
}


@cache
def signing_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@cache
def other_key() -> rsa.RSAPrivateKey:
    """A key whose certificate nobody serves: what a forger has."""
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def certificate_pem(key: rsa.RSAPrivateKey | None = None, *, valid_from: datetime | None = None) -> bytes:
    key = key or signing_key()
    if key is signing_key() and valid_from is None:
        return _default_certificate_pem()
    return _certificate_pem(key, valid_from or datetime.now(UTC) - timedelta(days=1))


@cache
def _default_certificate_pem() -> bytes:
    return _certificate_pem(signing_key(), datetime.now(UTC) - timedelta(days=1))


def _certificate_pem(key: rsa.RSAPrivateKey, valid_from: datetime) -> bytes:
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "sns.amazonaws.com")])
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(valid_from)
        .not_valid_after(valid_from + timedelta(days=365))
        .sign(key, hashes.SHA256())
    )
    return certificate.public_bytes(serialization.Encoding.PEM)


def sns_timestamp(when: datetime | None = None) -> str:
    """SNS's format: 2012-04-26T20:45:04.751Z."""
    when = (when or datetime.now(UTC)).astimezone(UTC)
    return when.strftime("%Y-%m-%dT%H:%M:%S.") + f"{when.microsecond // 1000:03d}Z"


def sns_sign(envelope: dict[str, Any], *, key: rsa.RSAPrivateKey | None = None) -> dict[str, Any]:
    """Set Signature over the fields AWS signs for the envelope's Type."""
    signed = "".join(
        f"{field}\n{envelope[field]}\n"
        for field in SIGNED_FIELDS.get(envelope["Type"], SIGNED_FIELDS["Notification"])
        if field in envelope
    ).encode()
    algorithm = hashes.SHA1() if envelope["SignatureVersion"] == "1" else hashes.SHA256()  # noqa: S303
    signature = (key or signing_key()).sign(signed, padding.PKCS1v15(), algorithm)
    envelope["Signature"] = base64.b64encode(signature).decode()
    return envelope


def sns_envelope(
    message: dict[str, Any] | str,
    *,
    type: str = "Notification",  # SNS's own field name
    topic_arn: str = TOPIC_ARN,
    version: str = "1",
    timestamp: datetime | str | None = None,
    cert_url: str = CERT_URL,
    message_id: str | None = None,
    subscribe_url: str | None = None,
    subject: str | None = None,
    key: rsa.RSAPrivateKey | None = None,
) -> dict[str, Any]:
    """An SNS message as SNS posts it, signed with the test key (or `key`)."""
    envelope: dict[str, Any] = {
        "Type": type,
        "MessageId": message_id or str(uuid.uuid4()),
        "TopicArn": topic_arn,
        "Message": message if isinstance(message, str) else json.dumps(message),
        "Timestamp": timestamp if isinstance(timestamp, str) else sns_timestamp(timestamp),
        "SignatureVersion": version,
        "SigningCertURL": cert_url,
    }
    if subject is not None:
        envelope["Subject"] = subject
    if type == "Notification":
        envelope["UnsubscribeURL"] = (
            "https://sns.us-east-1.amazonaws.com/?Action=Unsubscribe"
            f"&SubscriptionArn={topic_arn}:2bcfbf39-05c3-41de-beaa-fcfcc21c8f55"
        )
    else:
        envelope["Token"] = "2336412f37fb687f5d51e6e241d09c805a5a57b30d712f794cc5f6a988666d92768dd60a747ba6f3"
        envelope["SubscribeURL"] = subscribe_url or SUBSCRIBE_URL
    return sns_sign(envelope, key=key)


def ses_delivery(*, ses_message_id: str, recipient: str, when: datetime | None = None) -> dict[str, Any]:
    """An SES Delivery event as event publishing sends it (AWS's documented example, trimmed)."""
    timestamp = sns_timestamp(when)
    return {
        "eventType": "Delivery",
        "mail": {
            "timestamp": timestamp,
            "source": "CRM <noreply@crm.example.com>",
            "sendingAccountId": "123456789012",
            "messageId": ses_message_id,
            "destination": [recipient],
            "headersTruncated": False,
            "commonHeaders": {"from": ["CRM <noreply@crm.example.com>"], "to": [recipient], "subject": "Hello"},
            "tags": {"ses:configuration-set": ["crm"]},
        },
        "delivery": {
            "timestamp": timestamp,
            "processingTimeMillis": 546,
            "recipients": [recipient],
            "smtpResponse": "250 ok:  Message 64111812 accepted",
            "reportingMTA": "a8-70.smtp-out.amazonses.com",
        },
    }


@contextmanager
def sns_host(*urls: str) -> Iterator[responses.RequestsMock]:
    """Answer HTTPS GETs of SNS hosts here: the test certificate at CERT_URL, 200 at each of `urls`.

    Any other request raises ConnectionError, so nothing reaches the network.
    Start it after moto (moto answers every *.amazonaws.com URL it sees first).
    """
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        mock.get(CERT_URL, body=certificate_pem())
        for url in urls:
            mock.get(url, body="<ConfirmSubscriptionResponse/>")
        yield mock
