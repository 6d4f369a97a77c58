"""The accepting wing: a send is checked (every rule, every error at once), rendered, stored and queued.

Its interface: EmailDraft (and its attachment refs) in, `email_queue` to
accept one; cancel, reschedule and resend an accepted one; a template's test send.
"""

from emails.accepting.bulk import MAX_BULK_RECIPIENTS, PreviewRow, bulk_accept, bulk_preview
from emails.accepting.bulk_changes import bulk_cancel, bulk_pause, bulk_resume, bulk_retry_failed
from emails.accepting.bulk_csv import LocalCsvRows, TextCsvRows, csv_header_problem
from emails.accepting.changes import CANCELLABLE, UNSENT, Which, email_cancel, email_reschedule, email_resend, retryable
from emails.accepting.draft import (
    BulkDraft,
    BulkRow,
    EmailDraft,
    InlineAttachment,
    StoredAttachment,
    draft_plain_fields,
)
from emails.accepting.profile import SettingsDraft, sender_settings_get, sender_settings_save, signature_append
from emails.accepting.services import QueueResult, email_queue, template_test_send
from emails.accepting.validation import MAX_PER_FIELD, MAX_RECIPIENTS

__all__ = [
    "CANCELLABLE",
    "MAX_BULK_RECIPIENTS",
    "MAX_PER_FIELD",
    "MAX_RECIPIENTS",
    "UNSENT",
    "BulkDraft",
    "BulkRow",
    "EmailDraft",
    "InlineAttachment",
    "LocalCsvRows",
    "PreviewRow",
    "QueueResult",
    "SettingsDraft",
    "StoredAttachment",
    "TextCsvRows",
    "Which",
    "bulk_accept",
    "bulk_cancel",
    "bulk_pause",
    "bulk_preview",
    "bulk_resume",
    "bulk_retry_failed",
    "csv_header_problem",
    "draft_plain_fields",
    "email_cancel",
    "email_queue",
    "email_reschedule",
    "email_resend",
    "retryable",
    "sender_settings_get",
    "sender_settings_save",
    "signature_append",
    "template_test_send",
]
