"""Counting hits per key in windows of time, in the cache: the API's throttles and the sign-in lockout share it.

A window opens with the first hit on its key and lasts the rate's period; at
most `limit` hits are allowed in it, and a refused caller is told when it
ends. The count is one atomic `incr` (Redis, or the local memory cache's
lock), so processes that share a cache (CACHE_URL) share one count and never
lose a hit to a race; with the local memory cache each process counts alone.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.core.cache import cache


@dataclass(frozen=True)
class Rate:
    limit: int  # hits allowed per window
    period: int  # seconds a window lasts


@dataclass(frozen=True)
class Window:
    count: int  # hits in the window so far, this one included
    ends_in: float  # seconds until the window closes and the count starts again

    def over(self, rate: Rate) -> bool:
        return self.count > rate.limit


def window_hit(key: str, rate: Rate, *, now: float) -> Window:
    """Count one hit on `key`; `now` is the wall clock in seconds (time.time), so every process reads the same."""
    started = _window_start(key, rate, now)
    count_key = f"{key}:n"
    # add() opens the window's counter only if none is open; incr() is atomic.
    cache.add(count_key, 0, timeout=rate.period)
    try:
        count = cache.incr(count_key)
    except ValueError:  # the counter expired between the two calls: this hit is the first of a new one
        cache.set(count_key, 1, timeout=rate.period)
        count = 1
    return Window(count=count, ends_in=started + rate.period - now)


def window_peek(key: str, rate: Rate, *, now: float) -> Window:
    """The window of `key` as it stands, counting nothing."""
    found = cache.get_many([f"{key}:start", f"{key}:n"])
    started = found.get(f"{key}:start")
    if started is None or now - float(started) >= rate.period:
        return Window(count=0, ends_in=0.0)
    return Window(count=int(found.get(f"{key}:n") or 0), ends_in=float(started) + rate.period - now)


def window_clear(key: str) -> None:
    cache.delete_many([f"{key}:start", f"{key}:n"])


def _window_start(key: str, rate: Rate, now: float) -> float:
    """When the window of `key` opened, opening one now if none is open."""
    start_key = f"{key}:start"
    started = cache.get(start_key)
    if started is not None and now - float(started) >= rate.period:
        # Closed by the clock before the cache let it expire (the entries outlive it by a moment).
        window_clear(key)
        started = None
    if started is None:
        # add(): of two first hits at once, one opens the window and the other counts in it.
        if cache.add(start_key, now, timeout=rate.period):
            return now
        started = cache.get(start_key)
    return now if started is None else float(started)
