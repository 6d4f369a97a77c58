"""Keeping the aggregate send rate of all workers under SES's MaxSendRate.

SES counts its rate in recipients per second. Each SES call reserves a slot
of `recipients / rate` seconds on one shared timeline and sleeps until its
slot starts (a generic cell rate algorithm): with Redis the timeline is one
key every worker on every machine shares; without it, one per process, which
is all the embedded default has.
"""

from __future__ import annotations

import threading
import time
from typing import Any

from django.conf import settings

from emails.selectors import email_quota

# KEYS[1]: the timeline key. ARGV[1]: seconds this call takes up.
# Returns the seconds to wait before sending. Redis's own clock is used, so
# workers on machines whose clocks disagree still share one timeline.
_RESERVE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local free_at = tonumber(redis.call('GET', KEYS[1]) or '0')
local start = math.max(now, free_at)
local ends = start + tonumber(ARGV[1])
redis.call('SET', KEYS[1], tostring(ends), 'PX', math.ceil((ends - now) * 1000) + 1000)
return tostring(start - now)
"""
PACE_KEY = "emails:ses-send-timeline"

_lock = threading.Lock()
_local_free_at = 0.0
_script: Any = None
_script_url = ""


def send_rate() -> float:
    """Recipients per second we may send: SES's MaxSendRate, or the configured lower rate."""
    configured = settings.EMAIL_MAX_SEND_RATE
    if not settings.EMAIL_PACE_USE_SES_QUOTA:
        return configured
    ses_rate = float(email_quota()["maxSendRate"])
    return min(ses_rate, configured) if configured > 0 else ses_rate


def send_slot_reserve(*, recipients: int, rate: float) -> float:
    """Reserve time for a call to `recipients` addresses; return the seconds to wait first."""
    seconds = recipients / rate
    url = settings.EMAIL_PACE_REDIS_URL
    if url:
        return float(_redis_script(url)(keys=[PACE_KEY], args=[seconds]))
    global _local_free_at
    with _lock:
        now = time.monotonic()
        start = max(now, _local_free_at)
        _local_free_at = start + seconds
        return start - now


def send_pace(*, recipients: int) -> None:
    """Sleep until this call may go out without pushing all workers over the rate."""
    if not settings.EMAIL_PACE_SENDS:
        return
    rate = send_rate()
    if rate <= 0:
        return
    wait = send_slot_reserve(recipients=recipients, rate=rate)
    if wait > 0:
        time.sleep(wait)


def _redis_script(url: str) -> Any:
    global _script, _script_url
    with _lock:
        if _script is None or _script_url != url:
            import redis

            _script = redis.Redis.from_url(url).register_script(_RESERVE)
            _script_url = url
        return _script
