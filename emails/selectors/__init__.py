"""Reads, computed by the database and scoped to what the user may see: the log, analytics, contacts, the account."""

from emails.selectors.account import ses_account
from emails.selectors.analytics import AnalyticsFilters, analytics_messages, email_analytics
from emails.selectors.contacts import Contact, contact_get
from emails.selectors.log import (
    SORT_FIELDS,
    VIEW_ALL_PERMISSION,
    EmailFilters,
    RateWait,
    email_get,
    email_in_flight,
    email_list,
    email_quota,
    email_rate_wait,
    email_stats,
    messages_in_flight,
    messages_visible_to,
    reputation_hold_get,
    reputation_holds_active,
    suppression_get,
    suppression_list,
)

__all__ = [
    "SORT_FIELDS",
    "VIEW_ALL_PERMISSION",
    "AnalyticsFilters",
    "Contact",
    "EmailFilters",
    "RateWait",
    "analytics_messages",
    "contact_get",
    "email_analytics",
    "email_get",
    "email_in_flight",
    "email_list",
    "email_quota",
    "email_rate_wait",
    "email_stats",
    "messages_in_flight",
    "messages_visible_to",
    "reputation_hold_get",
    "reputation_holds_active",
    "ses_account",
    "suppression_get",
    "suppression_list",
]
