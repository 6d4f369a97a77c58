"""The suppression wing: who may not receive what (bounces, complaints, unsubscribes, staff), and the reputation guard.

Delivery asks it who is suppressed and whether marketing is held; tracking
tells it about bounces and complaints. It knows neither of them.
"""

from emails.suppression.preferences import (
    ALWAYS_SENT,
    CHOOSABLE,
    Preferences,
    preferences_of,
    preferences_set,
    preferences_url,
)
from emails.suppression.reputation import (
    reputation_check,
    reputation_hold_active,
    reputation_rates,
    reputation_resume,
)
from emails.suppression.services import SuppressionList, suppression_add, suppression_lift, suppression_reason_text
from emails.suppression.unsubscribe import (
    preferences_token,
    preferences_token_read,
    unsubscribe,
    unsubscribe_token_read,
    unsubscribe_url,
)

__all__ = [
    "ALWAYS_SENT",
    "CHOOSABLE",
    "Preferences",
    "SuppressionList",
    "preferences_of",
    "preferences_set",
    "preferences_token",
    "preferences_token_read",
    "preferences_url",
    "reputation_check",
    "reputation_hold_active",
    "reputation_rates",
    "reputation_resume",
    "suppression_add",
    "suppression_lift",
    "suppression_reason_text",
    "unsubscribe",
    "unsubscribe_token_read",
    "unsubscribe_url",
]
