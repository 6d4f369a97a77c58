"""A send's `from`: parsed strictly (one mailbox, one line) and judged by the verified SES identities."""

from __future__ import annotations

import unicodedata
from email.headerregistry import Address
from email.utils import getaddresses

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email

from emails.exceptions import ProviderUnavailable
from emails.senders.identities import identities_known

# The most of the verified identities a refusal names, so its message stays readable.
NAMED_IN_REFUSAL = 5
FROM_MAX_LENGTH = 320  # Message.from_email


def _parse(value: str) -> tuple[str, str] | str:
    """(display name, address) of one mailbox written `address` or `Name <address>`, or why it is not one."""
    if any(unicodedata.category(c).startswith("C") for c in value):
        # CR, LF and NUL would let a sender write headers of their own (Bcc:); no control character belongs here.
        return "Must be one address on one line, without control characters."
    mailboxes = getaddresses([value])
    if len(mailboxes) != 1:
        return "Must be exactly one address."
    name, address = mailboxes[0]
    try:
        validate_email(address)
    except ValidationError:
        return f"{value} is not a valid email address."
    # getaddresses mends what it cannot read ("junk a@x.com" is one address "junka@x.com"): accept only what
    # reads back as written, the bare address or a display name before it in angle brackets.
    if value != address and not value.endswith(f"<{address}>"):
        return f"{value} is not an address or Name <address>."
    return name, address


def sender_check(value: str) -> tuple[str, str | None]:
    """The From header for a send's `from`, and None; or "" and what is wrong with it. Never raises.

    Empty means DEFAULT_FROM_EMAIL, which is configuration and not checked.
    Otherwise the address itself, or its domain, must be a verified SES
    identity. The identities are read from the cache (one read per send);
    SES is asked only when that list is older than SES_IDENTITIES_CACHE_SECONDS.
    """
    value = value.strip()
    if not value:
        return settings.DEFAULT_FROM_EMAIL, None
    parsed = _parse(value)
    if isinstance(parsed, str):
        return "", parsed
    name, address = parsed
    try:
        identities = identities_known()
    except ProviderUnavailable:
        return "", f"{address} could not be checked: SES is unavailable; try again shortly."
    verified = [i["identity"] for i in identities if i["verified"]]
    domain = address.rpartition("@")[2].lower()
    if not {address.lower(), domain} & {identity.lower() for identity in verified}:
        named = ", ".join(verified[:NAMED_IN_REFUSAL]) + (", ..." if len(verified) > NAMED_IN_REFUSAL else "")
        return "", f"{address} is not a verified sender. Verified: {named or 'none'}."
    try:
        header = str(Address(display_name=name, addr_spec=address))
    except ValueError:  # the email package's HeaderParseError is one
        return "", f"{value} is not an address or Name <address>."
    if len(header) > FROM_MAX_LENGTH:
        return "", f"Must be at most {FROM_MAX_LENGTH} characters."
    return header, None
