"""The tracking wing: SES events through SNS, verified, stored, applied to each recipient by precedence.

Its interface: `webhook_receive` (the webhook's body), `notification_store`
(for whatever else produces SNS-shaped messages: the emulation's mailbox
simulator), `notifications_drain`, `notification_process` (replay) and
`notifications_sweep`.
"""

from emails.tracking.apply import notification_process, notifications_drain
from emails.tracking.inbound import (
    DRAIN_SCHEDULED_KEY,
    StoreResult,
    notification_payload,
    notification_store,
    notifications_sweep,
)
from emails.tracking.webhook import webhook_receive

__all__ = [
    "DRAIN_SCHEDULED_KEY",
    "StoreResult",
    "notification_payload",
    "notification_process",
    "notification_store",
    "notifications_drain",
    "notifications_sweep",
    "webhook_receive",
]
