"""Operations: health probes, logs (plain or JSON, with request ids), and throttles on the API and sign-in."""

from __future__ import annotations

from typing import Any, cast

from django.core.exceptions import ImproperlyConfigured

from crm_email.env import env_float, env_int, env_str
from crm_email.settings.base import LOGGING, MIDDLEWARE

# First of all: every request gets its id (so every log line of it carries one), then the probes are
# answered before host validation, HTTPS redirects and sessions (crm_email/health.py).
MIDDLEWARE.insert(0, "crm_email.health.HealthMiddleware")
MIDDLEWARE.insert(0, "core.observability.middleware.RequestIdMiddleware")
# Each readiness check (database, cache, broker, storage) must answer within this, or /readyz says 503.
HEALTH_CHECK_TIMEOUT_SECONDS = env_float("HEALTH_CHECK_TIMEOUT_SECONDS", 3.0, minimum=0.1)

# plain: one line of text per record; json: one JSON object per line (time, level, logger, message,
# request_id and the record's extras), for a log collector.
LOG_FORMAT = env_str("LOG_FORMAT", "plain").strip().lower()
if LOG_FORMAT not in ("plain", "json"):
    raise ImproperlyConfigured(f"LOG_FORMAT={LOG_FORMAT!r} is not a log format: use plain or json.")
_logging = cast(dict[str, dict[str, Any]], LOGGING)
_logging["formatters"]["json"] = {"()": "core.observability.logs.JsonFormatter"}
_logging.setdefault("filters", {})["request_id"] = {"()": "core.observability.logs.RequestIdFilter"}
_logging["handlers"]["console"]["formatter"] = LOG_FORMAT
_logging["handlers"]["console"]["filters"] = ["request_id"]

# API requests per minute and per user (an API token counts as its user), on sends (POST /api/email, a bulk,
# a resend, a template's test send) and uploads (upload-url, complete); 0 is no limit. Far above what one
# client of a CRM sends (a new SES account sends 14 a second); they stop a runaway loop. Counted in the
# cache: with several processes, CACHE_URL must be a shared Redis.
API_THROTTLE_SENDS_PER_MINUTE = env_int("API_THROTTLE_SENDS_PER_MINUTE", 1800, minimum=0)
API_THROTTLE_UPLOADS_PER_MINUTE = env_int("API_THROTTLE_UPLOADS_PER_MINUTE", 600, minimum=0)

# Failed sign-ins (the sign-in page and the admin's): after this many for one username, or from one address,
# within the window, every attempt is refused until the window closes (core/signin.py).
SIGNIN_FAILURES_PER_USERNAME = env_int("SIGNIN_FAILURES_PER_USERNAME", 5, minimum=1)
SIGNIN_FAILURES_PER_IP = env_int("SIGNIN_FAILURES_PER_IP", 20, minimum=1)
SIGNIN_FAILURES_WINDOW_SECONDS = env_int("SIGNIN_FAILURES_WINDOW_SECONDS", 900, minimum=1)
# Proxies in front of the app (load balancer, ingress) that each append the caller's address to
# X-Forwarded-For; 0 (the default) takes the client's address from the connection, REMOTE_ADDR.
TRUSTED_PROXY_COUNT = env_int("TRUSTED_PROXY_COUNT", 0, minimum=0)
