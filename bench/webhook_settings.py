"""Settings for the server bench/webhook_throughput.py starts: the app's own, plus a bare webhook view."""

import os
import warnings

from crm_email.settings import *  # noqa: F403

# WhiteNoise warns that STATIC_ROOT was never collected; the bench serves no static files.
warnings.filterwarnings("ignore", "No directory at", UserWarning)

ROOT_URLCONF = "bench.webhook_urls"

# The bench writes SNS's signing certificate into this cache before the
# server starts (it cannot reach SNS); every server process reads it once.
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
        "LOCATION": os.environ["BENCH_CACHE_DIR"],
    }
}

# Tasks go to a queue of this run only, which no worker consumes: the bench
# applies the stored notifications itself afterwards, timed.
CELERY_TASK_DEFAULT_QUEUE = os.environ.get("BENCH_QUEUE", "celery")

LOGGING = {"version": 1, "disable_existing_loggers": False, "root": {"level": "ERROR"}}
