"""Delivering queued messages through SES: claim, send in groups, record outcomes, retry, sweep."""

from emails.delivery.claim import email_claim, email_claim_batch
from emails.delivery.retry import email_sweep
from emails.delivery.send import DeliveryOutcome, email_cost, email_deliver, email_drain

__all__ = [
    "DeliveryOutcome",
    "email_claim",
    "email_claim_batch",
    "email_cost",
    "email_deliver",
    "email_drain",
    "email_sweep",
]
