"""Failed sign-ins throttled per username and per client address, on the sign-in page and the admin's.

After SIGNIN_FAILURES_PER_USERNAME failed attempts for one username (or
SIGNIN_FAILURES_PER_IP from one address) within SIGNIN_FAILURES_WINDOW_SECONDS,
every attempt is refused until the window closes, a correct password too,
with a 429 and a form error that says when to try again. Nothing tells
whether the username exists: unknown usernames are counted like known ones,
the answer is the same, and no password is checked while refused. The
counts live in the default cache (core.ratelimit): share it (CACHE_URL)
between processes.
"""

from __future__ import annotations

import hashlib
import math
import time
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth.forms import AuthenticationForm
from django.contrib.auth.views import LoginView
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse

from core.ratelimit import Rate, window_clear, window_hit, window_peek

THROTTLED = "throttled"
THROTTLED_MESSAGE = "Too many failed sign-in attempts. Try again in %(minutes)d minute(s)."
# The wall clock, shared by every process that shares the cache; a test sets its own.
clock: Callable[[], float] = time.time


def client_ip(request: HttpRequest) -> str:
    """The caller's address: REMOTE_ADDR, or with TRUSTED_PROXY_COUNT proxies in front, the one the outermost saw.

    Each trusted proxy appends the address it was called from to X-Forwarded-For, so the Nth entry from the right
    is the client's; anything left of it is the client's own claim and not trusted.
    """
    proxies = int(settings.TRUSTED_PROXY_COUNT)
    remote = str(request.META.get("REMOTE_ADDR") or "")
    if proxies <= 0:
        return remote
    forwarded = [part.strip() for part in str(request.META.get("HTTP_X_FORWARDED_FOR", "")).split(",") if part.strip()]
    return forwarded[-proxies] if len(forwarded) >= proxies else (forwarded[0] if forwarded else remote)


def _windows(request: HttpRequest, username: str) -> list[tuple[str, Rate]]:
    period = int(settings.SIGNIN_FAILURES_WINDOW_SECONDS)
    # Hashed: a username is any text a visitor types, a cache key is not.
    name = hashlib.sha256(username.strip().casefold().encode()).hexdigest()
    return [
        (f"signin:user:{name}", Rate(limit=int(settings.SIGNIN_FAILURES_PER_USERNAME), period=period)),
        (f"signin:ip:{client_ip(request)}", Rate(limit=int(settings.SIGNIN_FAILURES_PER_IP), period=period)),
    ]


def signin_refused_for(*, request: HttpRequest, username: str) -> float | None:
    """Seconds until attempts for `username` from this request's address are taken again; None if they are now."""
    now = clock()
    waits = [
        window.ends_in
        for key, rate in _windows(request, username)
        if (window := window_peek(key, rate, now=now)).count >= rate.limit
    ]
    return max(waits) if waits else None


def signin_failed(*, request: HttpRequest, username: str) -> None:
    now = clock()
    for key, rate in _windows(request, username):
        window_hit(key, rate, now=now)


def signin_succeeded(*, request: HttpRequest, username: str) -> None:
    """The username's failures are forgotten; the address's are not (one good account must not clear them)."""
    key, _ = _windows(request, username)[0]
    window_clear(key)


def _clean_throttled(form: AuthenticationForm, clean: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    username = form.cleaned_data.get("username")
    password = form.cleaned_data.get("password")
    request = form.request
    if username is None or not password or request is None:
        return clean()
    wait = signin_refused_for(request=request, username=username)
    if wait is not None:
        seconds = max(math.ceil(wait), 1)
        setattr(form, "retry_after", seconds)  # noqa: B010  # read by signin_answer
        raise ValidationError(THROTTLED_MESSAGE, code=THROTTLED, params={"minutes": math.ceil(seconds / 60)})
    try:
        cleaned = clean()
    except ValidationError as exc:
        if exc.code == "invalid_login":
            signin_failed(request=request, username=username)
        raise
    signin_succeeded(request=request, username=username)
    return cleaned


class ThrottledAuthenticationForm(AuthenticationForm):
    retry_after: int | None = None  # seconds, when the attempt was refused unchecked

    def clean(self) -> dict[str, Any]:
        return _clean_throttled(self, super().clean)


class ThrottledAdminAuthenticationForm(AdminAuthenticationForm):
    retry_after: int | None = None

    def clean(self) -> dict[str, Any]:
        return _clean_throttled(self, super().clean)


def signin_answer(response: HttpResponse, form: Any) -> HttpResponse:
    """A sign-in page's answer to a refused attempt: 429 with Retry-After (the form already says it in words)."""
    seconds = getattr(form, "retry_after", None)
    if seconds is not None:
        response.status_code = 429
        response["Retry-After"] = str(seconds)
    return response


class SignInView(LoginView):
    """django.contrib.auth's LoginView, with failed attempts throttled."""

    form_class = ThrottledAuthenticationForm

    def form_invalid(self, form: AuthenticationForm) -> HttpResponse:
        return signin_answer(super().form_invalid(form), form)
