"""The SES account at a glance, for staff: its quota, two weeks of SES's own statistics, our reputation."""

from __future__ import annotations

from typing import Any

from emails.delivery import ses_quota_cached, ses_statistics_daily
from emails.selectors.log import reputation_holds_active
from emails.suppression import reputation_rates

# What SES does at these trailing rates: reviews the account, then may pause its sending.
THRESHOLDS = {
    "bounceRate": {"review": 0.05, "pause": 0.10},
    "complaintRate": {"review": 0.001, "pause": 0.005},
}


def _judged(rates: dict[str, Any]) -> dict[str, Any]:
    judged: dict[str, Any] = {"sent": rates["sent"], "bounced": rates["bounced"], "complained": rates["complaints"]}
    for name, limits in THRESHOLDS.items():
        value = float(rates[name])
        level = "pause" if value >= limits["pause"] else "review" if value >= limits["review"] else "ok"
        judged[name] = {"value": round(value, 6), "level": level, **limits}
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
