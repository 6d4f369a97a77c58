"""The accepting wing: a send is checked (every rule, every error at once), rendered, stored and queued.

Its interface: EmailDraft (and its attachment refs) in, `email_queue` to
accept one; cancel, reschedule and resend an accepted one; a template's test send.
"""

from emails.accepting.changes import email_cancel, email_reschedule, email_resend
from emails.accepting.draft import EmailDraft, InlineAttachment, StoredAttachment, draft_plain_fields
from emails.accepting.services import QueueResult, email_queue, template_test_send
from emails.accepting.validation import MAX_PER_FIELD, MAX_RECIPIENTS

__all__ = [
    "MAX_PER_FIELD",
    "MAX_RECIPIENTS",
    "EmailDraft",
    "InlineAttachment",
    "QueueResult",
    "StoredAttachment",
    "draft_plain_fields",
    "email_cancel",
    "email_queue",
    "email_reschedule",
    "email_resend",
    "template_test_send",
]
