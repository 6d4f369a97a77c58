"""Sender identities: the domains and addresses SES lets us send from, adding one, and judging a send's `from`.

A wing beside suppression: accepting asks it whether a `from` may be used;
the API and the pages list and add identities through it. It talks to SES
through emails.ses only, and knows no other wing.
"""

from emails.senders.identities import (
    IDENTITIES_CACHE_KEY,
    IDENTITY_TYPES,
    Dkim,
    DnsRecord,
    Identity,
    Verification,
    identities_forget,
    identities_known,
    identities_list,
    identity_verify,
)
from emails.senders.sender import sender_check

__all__ = [
    "IDENTITIES_CACHE_KEY",
    "IDENTITY_TYPES",
    "Dkim",
    "DnsRecord",
    "Identity",
    "Verification",
    "identities_forget",
    "identities_known",
    "identities_list",
    "identity_verify",
    "sender_check",
]
