"""The SES account at a glance, for staff: its quota, two weeks of SES's own statistics, our reputation."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import AnonymousUser, User

from emails.delivery import ses_quota_cached, ses_statistics_daily
from emails.selectors.log import VIEW_ALL_PERMISSION, reputation_holds_active
from emails.suppression import reputation_rates

# What SES does at these trailing rates: reviews the account, then may pause its sending.
THRESHOLDS = {
    "bounceRate": {"review": 0.05, "pause": 0.10},
    "complaintRate": {"review": 0.001, "pause": 0.005},
}


# Who sees the account (the page's panel and GET /api/email/account alike): staff who may see all mail.
ACCOUNT_PERMISSION = VIEW_ALL_PERMISSION


def account_visible_to(user: User | AnonymousUser) -> bool:
    return bool(user.is_authenticated and user.is_staff and user.has_perm(ACCOUNT_PERMISSION))


def rate_level(name: str, value: float) -> str:
    """Where a rate stands against SES's levels: ok, review or pause; `unjudged` for rates SES does not judge."""
    limits = THRESHOLDS.get(name)
    if limits is None:
        return "unjudged"
    return "pause" if value >= limits["pause"] else "review" if value >= limits["review"] else "ok"


def _judged(rates: dict[str, Any]) -> dict[str, Any]:
    judged: dict[str, Any] = {"sent": rates["sent"], "bounced": rates["bounced"], "complained": rates["complaints"]}
    for name, limits in THRESHOLDS.items():
        value = float(rates[name])
        judged[name] = {"value": round(value, 6), "level": rate_level(name, value), **limits}
    return judged


def ses_account() -> dict[str, Any]:
    """Quota and 24 h usage, SES's daily statistics, our trailing 24 h and 7-day rates, the active holds."""
    return {
        "quota": ses_quota_cached(),
        "statistics": ses_statistics_daily(),
        "reputation": {
            "last24Hours": _judged(reputation_rates(hours=24)),
            "last7Days": _judged(reputation_rates(hours=24 * 7)),
        },
        "holds": list(reputation_holds_active()),
    }
