"""One-click unsubscribe (RFC 8058): the signed token in each marketing message's link, and what it does."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core import signing
from django.urls import reverse

from emails.choices import Category, SuppressionReason
from emails.models import Suppression
from emails.suppression.services import suppression_add

_UNSUBSCRIBE_SALT = "emails.unsubscribe"
# A different salt: a preference-centre link is no one-click unsubscribe, nor the other way round.
_PREFERENCES_SALT = "emails.preferences"


def unsubscribe_token(*, address: str, category: str) -> str:
    return signing.dumps({"a": address.lower(), "c": category}, salt=_UNSUBSCRIBE_SALT, compress=True)


def unsubscribe_token_read(token: str) -> tuple[str, str]:
    """The address and category a one-click token names; raises signing.BadSignature when forged."""
    data: Any = signing.loads(token, salt=_UNSUBSCRIBE_SALT)
    if not isinstance(data, dict) or not isinstance(data.get("a"), str) or data.get("c") not in Category.values:
        raise signing.BadSignature("Malformed unsubscribe token")
    return data["a"], data["c"]


def preferences_token(*, address: str) -> str:
    return signing.dumps({"a": address.lower()}, salt=_PREFERENCES_SALT, compress=True)


def preferences_token_read(token: str) -> str:
    """The address a preference-centre token names; raises signing.BadSignature when forged."""
    data: Any = signing.loads(token, salt=_PREFERENCES_SALT)
    if not isinstance(data, dict) or not isinstance(data.get("a"), str):
        raise signing.BadSignature("Malformed preferences token")
    return str(data["a"])


def unsubscribe_url(*, address: str, category: str) -> str:
    path = reverse("emails:unsubscribe", kwargs={"token": unsubscribe_token(address=address, category=category)})
    return f"{settings.PUBLIC_BASE_URL.rstrip('/')}{path}"


def unsubscribe(*, token: str) -> Suppression:
    address, category = unsubscribe_token_read(token)
    return suppression_add(
        address=address, scope=category, reason=SuppressionReason.UNSUBSCRIBE, detail="One-click unsubscribe"
    )
