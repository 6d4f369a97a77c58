"""Settings for the CRM email & file service.

Every knob is an environment variable with a safe local default; all of them
are listed in `.env.example`, and each is read strictly (crm_email/env.py):
a mistyped boolean or number stops the process and names the variable. With
nothing set, the app runs on SQLite with in-process tasks against real SES;
bin/dev adds SES_EMULATED=true for the embedded default.
"""

from __future__ import annotations

import os
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from kombu import Queue

from crm_email.env import env_bool, env_decimal, env_float, env_int, env_list, env_str

BASE_DIR = Path(__file__).resolve().parent.parent

DEBUG = env_bool("DJANGO_DEBUG", False)
# The product's one name: the pages' title, brand and footer, the admin's header.
PRODUCT_NAME = env_str("PRODUCT_NAME", "CRM Mail")
_INSECURE_KEY = "insecure-local-only-key-do-not-use-in-production"
SECRET_KEY = env_str("DJANGO_SECRET_KEY", _INSECURE_KEY)
ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]")
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS")

# A production-shaped deployment (a real database) must not run on the
# well-known development key.
if os.environ.get("DATABASE_URL") and SECRET_KEY == _INSECURE_KEY:
    raise ImproperlyConfigured("Set DJANGO_SECRET_KEY when DATABASE_URL is set.")

INSTALLED_APPS = [
    # django.contrib.admin, with its default site in the product's name (crm_email/admin.py).
    "crm_email.apps.ProductAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "emails",
    "files",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "crm_email.urls"
WSGI_APPLICATION = "crm_email.wsgi.application"
ASGI_APPLICATION = "crm_email.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "crm_email.context_processors.product",
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.parse(
        env_str("DATABASE_URL", f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
        conn_max_age=env_int("DATABASE_CONN_MAX_AGE", 60),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets the in-process worker thread write while requests read; the
    # timeout makes a writer wait for the lock instead of failing at once.
    # 16 KiB pages (set when the file is created) hold a message with its HTML
    # and text bodies in one page, so each status change rewrites one page,
    # not an overflow chain: one worker drains 4% faster (docs/benchmarks.md).
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 20,
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA page_size=16384; PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
    DATABASES["default"]["CONN_MAX_AGE"] = 0
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "emails:log"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en-us"
TIME_ZONE = env_str("TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = BASE_DIR / "staticfiles"
MEDIA_ROOT = Path(env_str("MEDIA_ROOT", str(BASE_DIR / "media")))
MEDIA_URL = "media/"

SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = False  # the composer's fetch() reads it for API calls
SESSION_COOKIE_SECURE = env_bool("DJANGO_SECURE_COOKIES", False)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
X_FRAME_OPTIONS = "SAMEORIGIN"  # the sandboxed HTML preview is an iframe of ours

CACHES = {
    "default": (
        {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": env_str("CACHE_URL")}
        if env_str("CACHE_URL")
        else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
    )
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {"botocore": {"level": "WARNING"}, "werkzeug": {"level": "WARNING"}},
}

# --- REST API -------------------------------------------------------------
REST_FRAMEWORK = {
    # Token first: a request without credentials (or with a bad token) is a
    # 401 with `WWW-Authenticate: Token`; a signed-in user without a
    # permission is a 403.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PARSER_CLASSES": [
        "core.rest.parsers.BoundedJSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "core.rest.errors.api_exception_handler",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "CRM email & file service",
    "DESCRIPTION": "Send email through Amazon SES, follow every recipient, keep files in S3.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # Swagger UI served from our own static files, not a CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "core.rest.envelope.schema_paths_without_trailing_slash",
    ],
    # Enums named for what they are, not Category134Enum.
    "ENUM_NAME_OVERRIDES": {
        "Category": "emails.choices.Category",
        "Priority": "emails.choices.Priority",
        "MessageStatus": "emails.choices.MessageStatus",
        "RecipientStatus": "emails.choices.RecipientStatus",
        "RecipientKind": "emails.choices.RecipientKind",
        "EventType": "emails.choices.EventType",
        "SuppressionReason": "emails.choices.SuppressionReason",
        "SuppressionScope": "emails.choices.SUPPRESSION_SCOPES",
        "IdentityType": "emails.senders.IDENTITY_TYPES",
        "FileCategory": "files.choices.FileCategory",
        "FileStatus": "files.choices.FileStatus",
        "ContentType": "files.choices.ALLOWED_CONTENT_TYPE_CHOICES",
        "EmailSortBy": "emails.queries.SORT_BY_CHOICES",
        "FileSortBy": "files.queries.SORT_BY_CHOICES",
    },
}

# --- Tasks ----------------------------------------------------------------
# No broker means the embedded default: tasks run in this process, after the
# transaction commits, on a background thread (see core/tasks.py).
CELERY_BROKER_URL = env_str("CELERY_BROKER_URL")
CELERY_TASK_ALWAYS_EAGER = not CELERY_BROKER_URL
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_RESULT_BACKEND = None
CELERY_TASK_IGNORE_RESULT = True
# Never lose a task: acknowledge only once it finished, hand it back if the
# worker dies, and let each worker hold one task at a time.
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_DEFAULT_PRIORITY = 5
# A queue per priority (emails.scheduling.QUEUE). A worker started without -Q
# serves all four, in this order: with the Redis transport's "priority"
# strategy, urgent and high tasks are taken before a bulk's drains.
CELERY_TASK_QUEUES = [Queue(name) for name in ("urgent", "high", "default", "low")]
CELERY_TASK_DEFAULT_QUEUE = "default"
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "priority_steps": list(range(10)),
    "sep": ":",
    "queue_order_strategy": "priority",
    # Longer than the longest task, so an unacked task is not redelivered
    # while it still runs.
    "visibility_timeout": 3600,
}
# In-process mode only: run tasks on a background thread so a request never
# waits for SES. Tests turn it off to run them synchronously after commit.
TASKS_IN_BACKGROUND = env_bool("TASKS_IN_BACKGROUND", True)

EMAIL_SWEEP_INTERVAL_SECONDS = env_int("EMAIL_SWEEP_INTERVAL_SECONDS", 60)
CELERY_BEAT_SCHEDULE = {
    "email-sweep": {
        "task": "emails.tasks.email_sweep_task",
        "schedule": float(EMAIL_SWEEP_INTERVAL_SECONDS),
    },
}

# Pages showing mail in flight ask for news this often (seconds).
PAGES_LIVE_POLL_SECONDS = env_int("PAGES_LIVE_POLL_SECONDS", 3, minimum=1)

# --- Email and SES --------------------------------------------------------
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

# --- Files ----------------------------------------------------------------
# With a bucket, files live in S3 (django-storages; credentials as for SES, or
# AWS_S3_ACCESS_KEY_ID/AWS_S3_SECRET_ACCESS_KEY); without, on disk under
# MEDIA_ROOT, which is never served directly: downloads go through signed URLs.
AWS_STORAGE_BUCKET_NAME = env_str("AWS_STORAGE_BUCKET_NAME")
AWS_S3_REGION_NAME = env_str("AWS_S3_REGION_NAME") or AWS_SES_REGION_NAME
AWS_S3_ENDPOINT_URL = env_str("AWS_S3_ENDPOINT_URL") or None
AWS_S3_SIGNATURE_VERSION = "s3v4"
AWS_S3_FILE_OVERWRITE = False
AWS_DEFAULT_ACL = None
STORAGES = {
    "default": {
        "BACKEND": (
            "storages.backends.s3.S3Storage"
            if AWS_STORAGE_BUCKET_NAME
            else "django.core.files.storage.FileSystemStorage"
        )
    },
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
FILE_MAX_SIZE_BYTES = env_int("FILE_MAX_SIZE_BYTES", 100 * 1024 * 1024)
FILE_DEFAULT_MAX_SIZE_BYTES = env_int("FILE_DEFAULT_MAX_SIZE_BYTES", 10 * 1024 * 1024)
FILE_UPLOAD_URL_EXPIRES_SECONDS = env_int("FILE_UPLOAD_URL_EXPIRES_SECONDS", 900)
FILE_DOWNLOAD_URL_EXPIRES_SECONDS = env_int("FILE_DOWNLOAD_URL_EXPIRES_SECONDS", 3600)
# The purge removes objects of files deleted this long ago, and of uploads
# not completed within FILE_UPLOAD_STALE_HOURS.
FILE_PURGE_RETENTION_DAYS = env_int("FILE_PURGE_RETENTION_DAYS", 30)
FILE_UPLOAD_STALE_HOURS = env_int("FILE_UPLOAD_STALE_HOURS", 24)
FILE_PURGE_INTERVAL_SECONDS = env_int("FILE_PURGE_INTERVAL_SECONDS", 3600)
CELERY_BEAT_SCHEDULE["files-purge"] = {
    "task": "files.tasks.files_purge_task",
    "schedule": float(FILE_PURGE_INTERVAL_SECONDS),
}
# Attachments of one email (SPEC section 6), and the raw message SES takes:
# 10 MB through SendRawEmail (django-ses's v1 API), 40 MB through SES v2.
EMAIL_ATTACHMENTS_MAX_COUNT = env_int("EMAIL_ATTACHMENTS_MAX_COUNT", 10)
EMAIL_INLINE_ATTACHMENTS_MAX_BYTES = env_int("EMAIL_INLINE_ATTACHMENTS_MAX_BYTES", 10 * 1024 * 1024)
EMAIL_STORED_ATTACHMENT_MAX_BYTES = env_int("EMAIL_STORED_ATTACHMENT_MAX_BYTES", 25 * 1024 * 1024)
EMAIL_RAW_MESSAGE_MAX_BYTES = env_int("EMAIL_RAW_MESSAGE_MAX_BYTES", 10 * 1024 * 1024)
# A send with 10 MB of inline base64 attachments is a JSON body of ~14 MB.
DATA_UPLOAD_MAX_MEMORY_SIZE = env_int("DATA_UPLOAD_MAX_MEMORY_SIZE", 16 * 1024 * 1024)
# Serve static files straight from the app's folders, so the embedded
# default needs no collectstatic step.
WHITENOISE_USE_FINDERS = True
