"""The sender identities SES knows (domains and addresses), as SES answers for them, cached; and starting a new one.

SES says who may appear in From; this module asks it (ListIdentities, then
the verification and DKIM attributes) and keeps the answer in Django's cache
for SES_IDENTITIES_CACHE_SECONDS. The entry itself never expires: past that
age SES is asked again, and while SES cannot be reached the last answer still
serves `sender_check` (asking again every OUTAGE_RETRY_SECONDS, not on every
send), so an SES outage neither refuses nor slows every send.
"""

from __future__ import annotations

import logging
import re
import time
import unicodedata
from collections.abc import Iterator, Sequence
from typing import Any, Literal, TypedDict

from botocore.exceptions import BotoCoreError, ClientError
from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.core.validators import validate_email

from core.errors import FieldErrors
from emails.exceptions import ProviderUnavailable
from emails.ses import ses_client

logger = logging.getLogger(__name__)

IDENTITIES_CACHE_KEY = "emails:ses-identities"
# GetIdentityVerificationAttributes and GetIdentityDkimAttributes take at most this many identities a call.
SES_ATTRIBUTES_BATCH = 100
DOMAIN_MAX_LENGTH = 253
# While SES cannot be reached, how long senders are judged by the last list before SES is tried again.
OUTAGE_RETRY_SECONDS = 30
_LABEL = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?")

IdentityType = Literal["domain", "email"]
IDENTITY_TYPES = [("domain", "Domain"), ("email", "Email address")]


class Dkim(TypedDict):
    enabled: bool
    status: str
    tokens: list[str]


class Identity(TypedDict):
    identity: str
    type: IdentityType
    verified: bool
    status: str
    dkim: Dkim


class DnsRecord(TypedDict):
    type: str
    name: str
    value: str


class Verification(TypedDict):
    identity: str
    type: IdentityType
    records: list[DnsRecord]
    note: str


class _CacheEntry(TypedDict):
    fetched: float  # when SES gave this list
    retry_after: float  # after an outage: not before then is SES asked again for `sender_check`
    identities: list[Identity]


def _chunks(items: Sequence[str], size: int) -> Iterator[Sequence[str]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _ses_identities() -> list[Identity]:
    """Every identity of the account with its verification and DKIM state: 1 + 2 calls per 100 identities."""
    try:
        client = ses_client()
        names: list[str] = []
        for page in client.get_paginator("list_identities").paginate():
            names.extend(page.get("Identities", []))
        verification: dict[str, Any] = {}
        dkim: dict[str, Any] = {}
        for chunk in _chunks(names, SES_ATTRIBUTES_BATCH):
            answer = client.get_identity_verification_attributes(Identities=list(chunk))
            verification.update(answer.get("VerificationAttributes", {}))
            dkim.update(client.get_identity_dkim_attributes(Identities=list(chunk)).get("DkimAttributes", {}))
    except (ClientError, BotoCoreError) as exc:
        raise ProviderUnavailable(f"SES did not list the identities: {exc}") from exc
    identities: list[Identity] = []
    for name in names:
        status = str(verification.get(name, {}).get("VerificationStatus") or "NotStarted")
        signing = dkim.get(name, {})
        identities.append(
            {
                "identity": name,
                "type": "email" if "@" in name else "domain",
                "verified": status == "Success",
                "status": status,
                "dkim": {
                    "enabled": bool(signing.get("DkimEnabled", False)),
                    "status": str(signing.get("DkimVerificationStatus") or "NotStarted"),
                    "tokens": [str(token) for token in signing.get("DkimTokens", [])],
                },
            }
        )
    identities.sort(key=lambda i: (i["type"] != "domain", i["identity"]))
    return identities


def _identities_refresh() -> list[Identity]:
    identities = _ses_identities()
    entry: _CacheEntry = {"fetched": time.time(), "retry_after": 0.0, "identities": identities}
    cache.set(IDENTITIES_CACHE_KEY, entry, None)
    return identities


def _fresh(entry: _CacheEntry) -> bool:
    return time.time() - entry["fetched"] < settings.SES_IDENTITIES_CACHE_SECONDS


def identities_list() -> list[Identity]:
    """The account's identities, domains first; SES is asked at most once per SES_IDENTITIES_CACHE_SECONDS."""
    entry: _CacheEntry | None = cache.get(IDENTITIES_CACHE_KEY)
    if entry is not None and _fresh(entry):
        return entry["identities"]
    return _identities_refresh()


def identities_known() -> list[Identity]:
    """As `identities_list`, but while SES cannot be reached the last answer it gave, however old, if there is one."""
    entry: _CacheEntry | None = cache.get(IDENTITIES_CACHE_KEY)
    if entry is not None and (_fresh(entry) or time.time() < entry["retry_after"]):
        return entry["identities"]
    try:
        return _identities_refresh()
    except ProviderUnavailable:
        if entry is None:
            raise
        logger.warning("SES did not list the identities; judging senders by the list of %.0f s ago",
                       time.time() - entry["fetched"], exc_info=True)  # fmt: skip
        cache.set(IDENTITIES_CACHE_KEY, {**entry, "retry_after": time.time() + OUTAGE_RETRY_SECONDS}, None)
        return entry["identities"]


def identities_forget() -> None:
    """Drop the cached list, so the next read asks SES (after an identity was added)."""
    cache.delete(IDENTITIES_CACHE_KEY)


def _domain_problems(domain: str) -> list[tuple[str, str]]:
    """What is wrong with a domain name, as (message, code): empty when it is a plain DNS name of two labels or more."""
    problems = []
    if len(domain) > DOMAIN_MAX_LENGTH:
        problems.append((f"A domain name has at most {DOMAIN_MAX_LENGTH} characters.", "too_long"))
    if not domain.isascii():
        problems.append(("Write an international domain name in its ASCII form (xn--...).", "not_ascii"))
    labels = domain.split(".")
    if len(labels) < 2:
        problems.append(("A domain name has at least one dot (crm.example.com).", "no_dot"))
    if domain.isascii() and not all(_LABEL.fullmatch(label) for label in labels):
        problems.append(
            ("Each part of a domain name is 1 to 63 letters, digits or hyphens, not beginning or ending with a hyphen.",
             "bad_label")
        )  # fmt: skip
    if not problems and labels[-1].isdigit():
        problems.append(("Is an IP address, not a domain name.", "not_a_domain"))
    return problems


def _identity_clean(identity: str) -> tuple[str, IdentityType]:
    """The identity as SES should be given it (its domain lower-cased), or every problem with it at ["identity"]."""
    errors = FieldErrors()
    path = ("identity",)
    value = identity.strip()
    if not value:
        errors.add(path, "Enter a domain (crm.example.com) or an email address.", "required")
        errors.raise_any()
    if any(unicodedata.category(c).startswith("C") for c in value):
        # Control characters, NUL and line breaks: nothing else is worth saying about such a value.
        errors.add(path, "Must not contain control characters or line breaks.", "control_characters")
        errors.raise_any()
    kind: IdentityType = "email" if "@" in value else "domain"
    if kind == "email":
        local, _, domain = value.rpartition("@")
        domain = domain.lower()
        value = f"{local}@{domain}"
        try:
            validate_email(value)
        except ValidationError:
            errors.add(path, "Is not a valid email address.", "invalid_email")
    else:
        value = domain = value.lower()
    if not errors:  # a malformed address has nothing more to say of its domain
        for message, code in _domain_problems(domain):
            errors.add(path, message if kind == "domain" else f"Its domain: {message[0].lower()}{message[1:]}", code)
    errors.raise_any()
    return value, kind


def identity_verify(identity: str) -> Verification:
    """Ask SES to verify a domain (and sign its mail with DKIM) or an address; answers what to publish in DNS."""
    name, kind = _identity_clean(identity)
    try:
        client = ses_client()
        if kind == "email":
            client.verify_email_identity(EmailAddress=name)
        else:
            token = str(client.verify_domain_identity(Domain=name)["VerificationToken"])
            dkim_tokens = [str(t) for t in client.verify_domain_dkim(Domain=name)["DkimTokens"]]
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") == "InvalidParameterValue":
            # SES's own rules of a name are wider than ours in places; its refusal is the caller's to correct.
            errors = FieldErrors()
            errors.add(("identity",), f"SES refused it: {exc.response['Error'].get('Message', '')}", "ses_refused")
            errors.raise_any()
        raise ProviderUnavailable(f"SES did not start verifying {name}: {exc}") from exc
    except BotoCoreError as exc:
        raise ProviderUnavailable(f"SES did not start verifying {name}: {exc}") from exc
    finally:
        identities_forget()
    if kind == "email":
        return {
            "identity": name,
            "type": "email",
            "records": [],
            "note": f"SES has mailed a verification link to {name}; the address is verified once someone follows it. "
            "No DNS records are needed.",
        }
    records: list[DnsRecord] = [{"type": "TXT", "name": f"_amazonses.{name}", "value": token}]
    records += [
        {"type": "CNAME", "name": f"{t}._domainkey.{name}", "value": f"{t}.dkim.amazonses.com"} for t in dkim_tokens
    ]
    return {
        "identity": name,
        "type": "domain",
        "records": records,
        "note": f"Publish these records in the DNS of {name}. SES looks for them for up to 72 hours: the TXT record "
        "verifies the domain, the CNAME records let SES sign its mail with DKIM.",
    }
