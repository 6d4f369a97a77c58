"""Email, SES, pacing, events and suppression."""

from __future__ import annotations

import os

from django.core.exceptions import ImproperlyConfigured

from crm_email.env import env_bool, env_decimal, env_float, env_int, env_list, env_str
from crm_email.settings.tasks import CELERY_BROKER_URL

# SES emulated by moto in this process, with the mailbox simulator: for the
# embedded default only (bin/dev sets it). Off unless asked for, so a
# deployment that forgets it sends through real SES; refused beside a real
# database unless that, too, is asked for (a load test against PostgreSQL).
SES_EMULATED = env_bool("SES_EMULATED", False)
SES_EMULATED_WITH_DATABASE = env_bool("SES_EMULATED_WITH_DATABASE", False)
if SES_EMULATED and os.environ.get("DATABASE_URL") and not SES_EMULATED_WITH_DATABASE:
    raise ImproperlyConfigured(
        "SES_EMULATED=true beside DATABASE_URL: emulated SES sends no mail. "
        "Set SES_EMULATED=false, or SES_EMULATED_WITH_DATABASE=true if that is what you want."
    )
# The quota the emulation reports: a new production account's, not moto's sandbox.
SES_EMULATED_MAX_SEND_RATE = env_float("SES_EMULATED_MAX_SEND_RATE", 14.0, minimum=0.001)
SES_EMULATED_MAX_24_HOUR_SEND = env_int("SES_EMULATED_MAX_24_HOUR_SEND", 50_000, minimum=1)
EMAIL_BACKEND = env_str(
    "EMAIL_BACKEND", "emails.dev.backend.EmulatedSESBackend" if SES_EMULATED else "emails.ses.SESBackend"
)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "CRM <noreply@crm.example.com>")
AWS_ACCESS_KEY_ID = env_str("AWS_ACCESS_KEY_ID") or None
AWS_SECRET_ACCESS_KEY = env_str("AWS_SECRET_ACCESS_KEY") or None
AWS_SESSION_TOKEN = env_str("AWS_SESSION_TOKEN") or None
AWS_SES_REGION_NAME = env_str("AWS_SES_REGION_NAME", "us-east-1")
AWS_SES_REGION_ENDPOINT_URL = env_str(
    "AWS_SES_REGION_ENDPOINT_URL", f"https://email.{AWS_SES_REGION_NAME}.amazonaws.com"
)
AWS_SES_CONFIGURATION_SET = env_str("AWS_SES_CONFIGURATION_SET") or None
# Our workers pace sends together (emails/pacing.py) and retry throttling, so
# django-ses's per-process throttle stays off.
AWS_SES_AUTO_THROTTLE = None
# The SNS webhook (/api/email/webhook) accepts messages only from these topic
# ARNs (comma-separated; empty refuses everything), only when sent within the
# last SNS_MAX_AGE_SECONDS, and waits this long for SNS's signing certificate.
SNS_TOPIC_ARNS = env_list("SNS_TOPIC_ARNS")
SNS_MAX_AGE_SECONDS = env_int("SNS_MAX_AGE_SECONDS", 3600)
SNS_CERT_TIMEOUT_SECONDS = env_float("SNS_CERT_TIMEOUT_SECONDS", 5.0)

# Pacing: all workers together stay under SES's MaxSendRate (recipients per
# second, from GetSendQuota, cached) or EMAIL_MAX_SEND_RATE when lower. With
# Redis the workers of every machine share one timeline.
EMAIL_PACE_SENDS = env_bool("EMAIL_PACE_SENDS", True)
EMAIL_PACE_USE_SES_QUOTA = env_bool("EMAIL_PACE_USE_SES_QUOTA", True)
EMAIL_MAX_SEND_RATE = env_float("EMAIL_MAX_SEND_RATE", 0.0)
# The share of that rate left unused, so the jitter of waking up never puts
# one call more into a one-second window than SES allows.
EMAIL_PACE_HEADROOM = env_float("EMAIL_PACE_HEADROOM", 0.01, minimum=0.0, maximum=0.5)
EMAIL_PACE_REDIS_URL = env_str(
    "EMAIL_PACE_REDIS_URL", CELERY_BROKER_URL if CELERY_BROKER_URL.startswith("redis") else ""
)

# SES list price, in USD.
EMAIL_PRICE_PER_1000_RECIPIENTS = env_decimal("EMAIL_PRICE_PER_1000_RECIPIENTS", "0.10")
EMAIL_PRICE_PER_GB_ATTACHMENTS = env_decimal("EMAIL_PRICE_PER_GB_ATTACHMENTS", "0.12")
# How long a worker may hold a message in `sending` before the sweeper
# hands it back to the queue.
EMAIL_SEND_LEASE_SECONDS = env_int("EMAIL_SEND_LEASE_SECONDS", 300)
EMAIL_MAX_ATTEMPTS = env_int("EMAIL_MAX_ATTEMPTS", 8)
EMAIL_RETRY_BACKOFF_SECONDS = env_float("EMAIL_RETRY_BACKOFF_SECONDS", 2.0)
EMAIL_RETRY_BACKOFF_MAX_SECONDS = env_float("EMAIL_RETRY_BACKOFF_MAX_SECONDS", 600.0)
EMAIL_QUOTA_CACHE_SECONDS = env_int("EMAIL_QUOTA_CACHE_SECONDS", 300)
# How long the list of SES sender identities (and whether each is verified) is kept before SES is asked again.
SES_IDENTITIES_CACHE_SECONDS = env_int("SES_IDENTITIES_CACHE_SECONDS", 300, minimum=0)
EMAIL_IDEMPOTENCY_TTL_HOURS = env_int("EMAIL_IDEMPOTENCY_TTL_HOURS", 24)
# Free-form JSON a send carries (templateData, customData): at most this
# many bytes each, nested at most this deep.
EMAIL_DATA_MAX_BYTES = env_int("EMAIL_DATA_MAX_BYTES", 32 * 1024, minimum=2)
EMAIL_DATA_MAX_DEPTH = env_int("EMAIL_DATA_MAX_DEPTH", 8, minimum=1)
# Messages a draining worker claims at once (fewer when the send rate could
# not send them within half EMAIL_SEND_LEASE_SECONDS).
EMAIL_DRAIN_BATCH_SIZE = env_int("EMAIL_DRAIN_BATCH_SIZE", 500)
# Between two messages of its batch, a draining worker looks this often for
# urgent and high mail queued since, and sends it first (0: before each one).
EMAIL_DRAIN_URGENT_CHECK_SECONDS = env_float("EMAIL_DRAIN_URGENT_CHECK_SECONDS", 1.0, minimum=0.0)
# Outcomes of SES calls are written together once the oldest is this old or
# this many are pending. A real SES call takes longer than the delay, so each
# is written before the next starts; only fast local backends batch.
EMAIL_RECORD_MAX_DELAY_MS = env_float("EMAIL_RECORD_MAX_DELAY_MS", 50.0)
EMAIL_RECORD_MAX_CALLS = env_int("EMAIL_RECORD_MAX_CALLS", 200)

# --- Events, suppression, unsubscribe ---------------------------------------
# Stored SNS notifications applied per transaction by a worker.
EVENTS_BATCH_SIZE = env_int("EVENTS_BATCH_SIZE", 200)
# A burst of notifications schedules one drain task per this many seconds
# (CACHE_URL makes the web and worker processes share the flag).
EVENTS_DRAIN_COALESCE_SECONDS = env_int("EVENTS_DRAIN_COALESCE_SECONDS", 2)
# The public address of this app, for the one-click unsubscribe links in mail.
PUBLIC_BASE_URL = env_str("PUBLIC_BASE_URL", "http://127.0.0.1:8000")
# Marketing is held when the trailing 24 h rates reach these (SES reviews an
# account at 5% bounces and 0.1% complaints), once at least this many
# recipients were sent to in that window.
REPUTATION_MAX_BOUNCE_RATE = env_decimal("REPUTATION_MAX_BOUNCE_RATE", "0.05")
REPUTATION_MAX_COMPLAINT_RATE = env_decimal("REPUTATION_MAX_COMPLAINT_RATE", "0.001")
REPUTATION_MIN_SENT = env_int("REPUTATION_MIN_SENT", 20)
