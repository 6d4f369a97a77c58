"""Django itself: the key, hosts, apps, middleware, templates, database, auth, static files, cache, logs."""

from __future__ import annotations

import os
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from crm_email.env import env_bool, env_int, env_list, env_str

BASE_DIR = Path(__file__).resolve().parent.parent.parent

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
    # django-csp's, with the storage's upload origin (crm_email/settings/security.py has the policy).
    "crm_email.content_policy.ContentSecurityPolicyMiddleware",
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
        # Behind pgbouncer in transaction mode a cursor cannot outlive its
        # transaction, and .iterator() (the CSV exports) would open one that does.
        disable_server_side_cursors=env_bool("DATABASE_DISABLE_SERVER_SIDE_CURSORS", False),
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
# Django's ModelBackend, with each user's permissions kept in the cache for this long (core/permission_cache.py:
# any change of permissions or groups replaces them at once when CACHE_URL is shared); 0 reads them per request.
AUTHENTICATION_BACKENDS = ["core.permission_cache.CachedPermissionsBackend"]
AUTH_PERMISSION_CACHE_SECONDS = env_int("AUTH_PERMISSION_CACHE_SECONDS", 300, minimum=0)
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

# On Redis, Django's backend with one client per connection pool rather than one per call (crm_email/cache.py).
CACHES = {
    "default": (
        {"BACKEND": "crm_email.cache.RedisCache", "LOCATION": env_str("CACHE_URL")}
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
