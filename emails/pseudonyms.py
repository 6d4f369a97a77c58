"""What stands for an erased address: a keyed hash, and the scrubbing of an address out of text and JSON.

An erased address is stored everywhere as `erased:<hex>`, HMAC-SHA256 of the
lower-cased address under a key of its own, derived from SECRET_KEY for this
purpose alone (HMAC-SHA256 of a purpose label under SECRET_KEY): the hash
says nothing readable, yet the same address always gives the same hash, so
the send path can still tell that an erased, suppressed address is not to
be mailed. SECRET_KEY_FALLBACKS give the hashes made under earlier keys.

Shared ground of the suppression matcher, the event pipeline and the
privacy wing; it imports nothing of theirs.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cached_property, lru_cache
from typing import Any

from django.conf import settings

PREFIX = "erased:"
_PURPOSE = b"crm-email: erased address, v1"
# A JSON string inside a string (an SNS body's `Message`) is walked as JSON too, this deep.
_MAX_DEPTH = 12


@lru_cache(maxsize=8)
def _key(secret: str) -> bytes:
    return hmac.new(secret.encode(), _PURPOSE, hashlib.sha256).digest()


def _normal(address: str) -> str:
    return address.strip().lower()


def address_pseudonym(address: str, *, secret: str | None = None) -> str:
    """The form an erased address is stored in, under the current key (or `secret`)."""
    key = _key(settings.SECRET_KEY if secret is None else secret)
    return PREFIX + hmac.new(key, _normal(address).encode(), hashlib.sha256).hexdigest()


def address_pseudonyms(address: str) -> list[str]:
    """The forms the address may have been erased to: under the current key and each fallback key."""
    secrets = [settings.SECRET_KEY, *getattr(settings, "SECRET_KEY_FALLBACKS", [])]
    return list(dict.fromkeys(address_pseudonym(address, secret=secret) for secret in secrets))


def pseudonyms_of(addresses: Iterable[str]) -> dict[str, str]:
    """Each pseudonym of these addresses, mapped back to its (lower-cased) address."""
    return {pseudonym: _normal(a) for a in addresses for pseudonym in address_pseudonyms(a)}


def is_pseudonym(value: str) -> bool:
    return value.startswith(PREFIX)


def address_forms(address: str) -> list[str]:
    """How an address can appear inside stored text: as it is, and JSON-escaped once and twice (a string inside
    a JSON string, as an SNS body's `Message` holds SES's event)."""
    once = json.dumps(_normal(address))[1:-1]
    twice = json.dumps(once)[1:-1]
    return list(dict.fromkeys([_normal(address), once, twice]))


@dataclass(frozen=True)
class Scrubber:
    """Replaces one address by its pseudonym in text and JSON, and the display names it went by beside it."""

    address: str
    pseudonym: str
    names: tuple[str, ...] = ()

    @classmethod
    def of(cls, address: str, *, names: Iterable[str] = ()) -> Scrubber:
        # Only real names: a one-letter name would eat letters out of any text beside the address.
        kept = sorted({n.strip() for n in names if len(n.strip()) >= 2}, key=len, reverse=True)
        return cls(address=_normal(address), pseudonym=address_pseudonym(address), names=tuple(kept))

    @cached_property
    def _pattern(self) -> re.Pattern[str]:
        return re.compile("|".join(re.escape(form) for form in address_forms(self.address)), re.IGNORECASE)

    @cached_property
    def _names(self) -> re.Pattern[str] | None:
        if not self.names:
            return None
        return re.compile("|".join(rf"(?<!\w){re.escape(n)}(?!\w)" for n in self.names), re.IGNORECASE)

    def mentions(self, text: str) -> bool:
        return bool(self._pattern.search(text))

    def text(self, text: str) -> str:
        """The text with the address replaced; in a string that named it, the names it went by are removed too
        ("Jane Doe <jane@example.com>" becomes " <erased:...>")."""
        if not self.mentions(text):
            return text
        parts = self._pattern.split(text)
        if self._names is not None:
            # Between the address's places only, so a name never eats into the pseudonym.
            parts = [self._names.sub("", part) for part in parts]
        return self.pseudonym.join(parts)

    def json(self, value: Any, depth: int = 0) -> Any:
        """A JSON value with every string (and key) scrubbed, strings that hold JSON themselves walked too."""
        if isinstance(value, str):
            return self._string(value, depth)
        if isinstance(value, dict):
            return {self.text(str(k)): self.json(v, depth + 1) for k, v in value.items()}
        if isinstance(value, list):
            return [self.json(v, depth + 1) for v in value]
        return value

    def _string(self, value: str, depth: int) -> str:
        if not self.mentions(value):
            return value
        stripped = value.lstrip()
        if depth < _MAX_DEPTH and stripped[:1] in ("{", "["):
            try:
                inner = json.loads(value)
            except (ValueError, RecursionError):
                pass
            else:
                return json.dumps(self.json(inner, depth + 1), ensure_ascii=False)
        return self.text(value)

    def document(self, body: str) -> str:
        """A stored document (an SNS body): walked as JSON when it is JSON, scrubbed as text otherwise."""
        if not self.mentions(body):
            return body
        try:
            parsed = json.loads(body)
        except (ValueError, RecursionError):
            return self.text(body)
        return json.dumps(self.json(parsed), ensure_ascii=False)
