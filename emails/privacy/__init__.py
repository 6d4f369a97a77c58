"""The privacy wing: how long bodies are kept (retention), and one address's export and erasure.

It reads and rewrites rows of every kind, and sends nothing; the hash an
erased address becomes is emails.pseudonyms', which the suppression matcher
shares.
"""

from emails.privacy.address import contact_address
from emails.privacy.erasure import ErasureResult, contact_erase
from emails.privacy.export import BulkRows, ContactExport, contact_export
from emails.privacy.retention import (
    RetentionResult,
    message_bodies_due,
    message_bodies_remove,
    notification_bodies_due,
    notification_bodies_remove,
    retention_run,
)

__all__ = [
    "BulkRows",
    "ContactExport",
    "ErasureResult",
    "RetentionResult",
    "contact_address",
    "contact_erase",
    "contact_export",
    "message_bodies_due",
    "message_bodies_remove",
    "notification_bodies_due",
    "notification_bodies_remove",
    "retention_run",
]
