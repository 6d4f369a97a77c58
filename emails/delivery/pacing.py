"""Keeping the aggregate send rate of all workers under SES's MaxSendRate.

SES counts its rate in recipients per second. Each SES call reserves a slot
of `recipients / rate` seconds on one shared timeline and sleeps until its
slot starts (a generic cell rate algorithm): with Redis the timeline is one
key every worker on every machine shares; without it, one per process, which
is all the embedded default has.

The timeline is spaced at the rate less EMAIL_PACE_HEADROOM (1% by default):
spaced at exactly the rate, 100 slots span 0.99 s, and whenever the first of
two calls one second apart leaves a little later after its slot than the
second, a one-second window holds 101 (docs/benchmarks.md, issue 12). A worker
woken up later than that still could, so each call also notes when it really
left (`send_started`), and a reservation waits until the second before it
holds room for its recipients.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from typing import Any

import redis
from django.conf import settings

from emails.delivery.ses import ses_quota_cached

# KEYS[1]: the timeline key; KEYS[2]: the log of calls started, newest first,
# each "time recipients". ARGV[1]: seconds this call takes up; ARGV[2]: its
# recipients; ARGV[3]: the most recipients one second may hold (SES's rate).
# Returns the seconds to wait before sending. Redis's own clock is used, so
# workers on machines whose clocks disagree still share one timeline.
#
# The timeline spaces calls at the paced rate; the log keeps any one second
# within SES's: a call that left late (its worker woke up late) counts from
# when it left, and a call waits until the calls within the second before it,
# with its own recipients, fit.
_RESERVE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local free_at = tonumber(redis.call('GET', KEYS[1]) or '0')
local start = math.max(now, free_at)
local held = tonumber(ARGV[2])
local cap = tonumber(ARGV[3])
local log = redis.call('LRANGE', KEYS[2], 0, -1)
for i = 1, #log do
  local sep = string.find(log[i], ' ')
  local at = tonumber(string.sub(log[i], 1, sep - 1))
  if at + 1 <= start then break end
  held = held + tonumber(string.sub(log[i], sep + 1))
  if held > cap then
    start = at + 1
    break
  end
end
local ends = start + tonumber(ARGV[1])
redis.call('SET', KEYS[1], tostring(ends), 'PX', math.ceil((ends - now) * 1000) + 1000)
return tostring(start - now)
"""
# KEYS[1]: the log; ARGV[1]: the recipients of the call starting now; ARGV[2]:
# the entries kept (a second at SES's rate holds no more calls than that).
_STARTED = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
redis.call('LPUSH', KEYS[1], string.format('%.6f', now) .. ' ' .. ARGV[1])
redis.call('LTRIM', KEYS[1], 0, tonumber(ARGV[2]) - 1)
redis.call('PEXPIRE', KEYS[1], 2000)
return 1
"""
# KEYS[1]: the timeline key. Returns how far its end lies ahead of now.
_BACKLOG = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
return tostring(tonumber(redis.call('GET', KEYS[1]) or '0') - now)
"""
PACE_KEY = "emails:ses-send-timeline"
STARTED_KEY = "emails:ses-send-started"

_lock = threading.Lock()
_local_free_at = 0.0


class _Started:
    """The calls this process started (without Redis): (monotonic time, recipients), newest first, and their
    recipients together."""

    def __init__(self) -> None:
        self.calls: deque[tuple[float, int]] = deque()
        self.total = 0

    def add(self, recipients: int, kept: int) -> None:
        self.calls.appendleft((time.monotonic(), recipients))
        self.total += recipients
        while len(self.calls) > kept:
            self.total -= self.calls.pop()[1]


_local_started = _Started()
_clients: dict[str, Any] = {}
_scripts: dict[tuple[str, str], Any] = {}


def send_rate() -> float:
    """Recipients per second we may send: SES's MaxSendRate, or the configured lower rate."""
    configured = settings.EMAIL_MAX_SEND_RATE
    if not settings.EMAIL_PACE_USE_SES_QUOTA:
        return configured
    ses_rate = float(ses_quota_cached()["maxSendRate"])
    return min(ses_rate, configured) if configured > 0 else ses_rate


def send_slot_reserve(*, recipients: int, rate: float, per_second: int | None = None) -> float:
    """Reserve time for a call to `recipients` addresses; return the seconds to wait first.

    Calls are spaced at `rate`; with `per_second`, a call also waits until
    the calls started within the second before it, with its own recipients,
    hold no more than that (see _RESERVE).
    """
    seconds = recipients / rate
    cap = per_second if per_second is not None else 1_000_000_000
    url = settings.EMAIL_PACE_REDIS_URL
    if url:
        return float(_redis_script(url, _RESERVE)(keys=[PACE_KEY, STARTED_KEY], args=[seconds, recipients, cap]))
    global _local_free_at
    with _lock:
        now = time.monotonic()
        start = max(now, _local_free_at)
        held = recipients
        # When every call kept would fit under the cap with this one, no second of them can exceed it: the walk
        # below (a call per message of a fast drain, 0.09 ms each at 1,200 a second) would change nothing.
        calls = () if _local_started.total + recipients <= cap else _local_started.calls
        for at, count in calls:
            if at + 1 <= start:
                break
            held += count
            if held > cap:
                start = at + 1
                break
        _local_free_at = start + seconds
        return start - now


def send_started(*, recipients: int) -> None:
    """Note that a call to `recipients` addresses leaves now (after its wait): the log _RESERVE counts from."""
    if not settings.EMAIL_PACE_SENDS:
        return
    kept = max(int(send_rate()), 1)
    url = settings.EMAIL_PACE_REDIS_URL
    if url:
        _redis_script(url, _STARTED)(keys=[STARTED_KEY], args=[recipients, kept])
        return
    with _lock:
        _local_started.add(recipients, kept)


def send_pace_reserve(*, recipients: int) -> float:
    """Reserve the slot of a call to `recipients` addresses; the seconds to wait before making it (0: at once).

    The caller waits (`pause`), having first written what it sent so far: a
    worker that dies in a wait must not leave sent mail unrecorded.
    """
    if not settings.EMAIL_PACE_SENDS:
        return 0.0
    allowed = send_rate()
    rate = allowed * (1 - settings.EMAIL_PACE_HEADROOM)
    if rate <= 0:
        return 0.0
    per_second = max(int(allowed), 1)
    return max(send_slot_reserve(recipients=recipients, rate=rate, per_second=per_second), 0.0)


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
