"""The accepting wing: a send is checked (every rule, every error at once), rendered, stored and queued.

Its interface: EmailDraft (and its attachment refs) in, `email_queue` to
accept one, `html_sanitise` for showing stored HTML to people.
"""

from emails.accepting.draft import EmailDraft, InlineAttachment, StoredAttachment, draft_plain_fields
from emails.accepting.rendering import html_sanitise
from emails.accepting.services import QueueResult, email_queue
from emails.accepting.validation import MAX_PER_FIELD, MAX_RECIPIENTS

__all__ = [
    "MAX_PER_FIELD",
    "MAX_RECIPIENTS",
    "EmailDraft",
    "InlineAttachment",
    "QueueResult",
    "StoredAttachment",
    "draft_plain_fields",
    "email_queue",
    "html_sanitise",
]
