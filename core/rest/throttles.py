"""DRF throttles per user on the endpoints that cost the most: sends and uploads.

Counted per signed-in user, however the user signed in: an API token
(rest_framework.authtoken gives a user one token) and the same user's
browser session draw on one budget, so "per token" is "per token's user".
The rates are settings (API_THROTTLE_SENDS_PER_MINUTE,
API_THROTTLE_UPLOADS_PER_MINUTE; 0 is no limit), read on every request; a
refused request is a 429 in the API's envelope with `Retry-After`
(core.rest.errors). The counts live in the default cache: with several
processes it must be a shared one (CACHE_URL, Redis).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from typing import Any, ClassVar

from django.conf import settings
from rest_framework.request import Request
from rest_framework.throttling import BaseThrottle

from core.ratelimit import Rate, window_hit


class PerUserThrottle(BaseThrottle):
    """At most `limit_setting` requests a minute per user, for the viewset actions in `actions` (empty: all)."""

    scope: ClassVar[str] = ""
    limit_setting: ClassVar[str] = ""
    actions: ClassVar[frozenset[str]] = frozenset()
    # The wall clock, shared by every process that shares the cache; a test sets its own.
    timer: ClassVar[Callable[[], float]] = time.time

    def __init__(self) -> None:
        self._wait: float | None = None

    @classmethod
    def on(cls, *actions: str) -> type[PerUserThrottle]:
        """This throttle for those viewset actions only (`throttle_classes = [SendThrottle.on("create")]`)."""
        return type(f"{cls.__name__}On", (cls,), {"actions": frozenset(actions)})

    def allow_request(self, request: Request, view: Any) -> bool:
        self._wait = None
        if self.actions and getattr(view, "action", None) not in self.actions:
            return True
        rate = Rate(limit=int(getattr(settings, self.limit_setting)), period=60)
        user = request.user
        # The views throttled here let only signed-in users through: anyone else was already refused.
        if rate.limit <= 0 or user is None or not user.is_authenticated:
            return True
        window = window_hit(f"throttle:{self.scope}:{user.pk}", rate, now=type(self).timer())
        if window.over(rate):
            self._wait = float(max(math.ceil(window.ends_in), 1))
            return False
        return True

    def wait(self) -> float | None:
        return self._wait


class SendThrottle(PerUserThrottle):
    """Sends: POST /api/email, a bulk, a resend, a template's test send."""

    scope = "send"
    limit_setting = "API_THROTTLE_SENDS_PER_MINUTE"


class UploadThrottle(PerUserThrottle):
    """Uploads: POST /api/files/upload-url and /api/files/complete."""

    scope = "upload"
    limit_setting = "API_THROTTLE_UPLOADS_PER_MINUTE"
