"""Keeping the aggregate send rate of all workers under SES's MaxSendRate.

SES counts its rate in recipients per second. Each SES call reserves a slot
of `recipients / rate` seconds on one shared timeline and sleeps until its
slot starts (a generic cell rate algorithm): with Redis the timeline is one
key every worker on every machine shares; without it, one per process, which
is all the embedded default has.

The timeline is spaced at the rate less EMAIL_PACE_HEADROOM (1% by default):
spaced at exactly the rate, 100 slots span 0.99 s, and whenever the first of
two calls one second apart leaves a little later after its slot than the
second, a one-second window holds 101 (docs/benchmarks.md, issue 12).
"""

from __future__ import annotations

import threading
import time
from typing import Any

import redis
from django.conf import settings

from emails.delivery.ses import ses_quota_cached

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
# KEYS[1]: the timeline key. Returns how far its end lies ahead of now.
_BACKLOG = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
return tostring(tonumber(redis.call('GET', KEYS[1]) or '0') - now)
"""
PACE_KEY = "emails:ses-send-timeline"

_lock = threading.Lock()
_local_free_at = 0.0
_clients: dict[str, Any] = {}
_scripts: dict[tuple[str, str], Any] = {}


def send_rate() -> float:
    """Recipients per second we may send: SES's MaxSendRate, or the configured lower rate."""
    configured = settings.EMAIL_MAX_SEND_RATE
    if not settings.EMAIL_PACE_USE_SES_QUOTA:
        return configured
    ses_rate = float(ses_quota_cached()["maxSendRate"])
    return min(ses_rate, configured) if configured > 0 else ses_rate


def send_slot_reserve(*, recipients: int, rate: float) -> float:
    """Reserve time for a call to `recipients` addresses; return the seconds to wait first."""
    seconds = recipients / rate
    url = settings.EMAIL_PACE_REDIS_URL
    if url:
        return float(_redis_script(url, _RESERVE)(keys=[PACE_KEY], args=[seconds]))
    global _local_free_at
    with _lock:
        now = time.monotonic()
        start = max(now, _local_free_at)
        _local_free_at = start + seconds
        return start - now


def send_pace_reserve(*, recipients: int) -> float:
    """Reserve the slot of a call to `recipients` addresses; the seconds to wait before making it (0: at once).

    The caller waits (`pause`), having first written what it sent so far: a
    worker that dies in a wait must not leave sent mail unrecorded.
    """
    if not settings.EMAIL_PACE_SENDS:
        return 0.0
    rate = send_rate() * (1 - settings.EMAIL_PACE_HEADROOM)
    if rate <= 0:
        return 0.0
    return max(send_slot_reserve(recipients=recipients, rate=rate), 0.0)


def pause(seconds: float) -> None:
    """Wait for a reserved slot (tests replace it, rather than sleep)."""
    time.sleep(seconds)


def send_backlog() -> float:
    """Seconds of sending already reserved ahead of now on the shared timeline (0 when SES could take a call now)."""
    if not settings.EMAIL_PACE_SENDS:
        return 0.0
    url = settings.EMAIL_PACE_REDIS_URL
    if url:
        return max(float(_redis_script(url, _BACKLOG)(keys=[PACE_KEY])), 0.0)
    with _lock:
        return max(_local_free_at - time.monotonic(), 0.0)


def _redis_script(url: str, source: str) -> Any:
    with _lock:
        client = _clients.get(url)
        if client is None:
            client = _clients[url] = redis.Redis.from_url(url)
        script = _scripts.get((url, source))
        if script is None:
            script = _scripts[(url, source)] = client.register_script(source)
        return script
