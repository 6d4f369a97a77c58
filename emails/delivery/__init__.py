"""The delivery wing: claim queued messages, send them through SES in groups, record outcomes, retry, sweep.

Its interface: `email_deliver` and `email_drain` (the tasks' bodies),
`email_sweep`, the claims, `email_cost`, and for pages the quota and the
send rate's backlog.
"""

from emails.delivery.claim import email_claim, email_claim_batch
from emails.delivery.mime import SES_MAX_ADDRESSES_PER_CALL, ses_call_count
from emails.delivery.pacing import send_backlog, send_rate
from emails.delivery.retry import email_sweep
from emails.delivery.send import DeliveryOutcome, email_cost, email_deliver, email_drain
from emails.delivery.ses import ses_quota_cached, ses_statistics_daily

__all__ = [
    "SES_MAX_ADDRESSES_PER_CALL",
    "DeliveryOutcome",
    "email_claim",
    "email_claim_batch",
    "email_cost",
    "email_deliver",
    "email_drain",
    "email_sweep",
    "send_backlog",
    "send_rate",
    "ses_call_count",
    "ses_quota_cached",
    "ses_statistics_daily",
]
