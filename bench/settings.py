"""Settings for bench/send_throughput.py: the app's own, plus django-post-office to compare with."""

from crm_email.settings import *  # noqa: F403
from crm_email.settings import INSTALLED_APPS

INSTALLED_APPS = [*INSTALLED_APPS, "post_office"]

# Serialise to raw MIME like SES's SendRawEmail needs, send nothing.
EMAIL_BACKEND = "bench.backend.SerializingBackend"
SES_EMULATED = False
# Nothing is sent, so there is no SES rate to respect: pacing keeps its code
# path (a per-process timeline) but with a rate no worker reaches, and never
# asks SES for its quota.
EMAIL_PACE_SENDS = True
EMAIL_PACE_USE_SES_QUOTA = False
EMAIL_MAX_SEND_RATE = 1e9
EMAIL_PACE_REDIS_URL = ""

# django-post-office in its default configuration (5 threads per process,
# LOG_LEVEL 2: one Log row per sent email), with the batch size the
# benchmark asks for and the same backend as ours.
POST_OFFICE = {
    "BACKENDS": {"default": "bench.backend.SerializingBackend"},
    "BATCH_SIZE": 500,
    "DEFAULT_PRIORITY": "medium",
    "MESSAGE_ID_ENABLED": False,
}
