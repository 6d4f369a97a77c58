"""Settings for the server and worker that bench/load.py starts: the app's, SES faked, throttles out of reach."""

import warnings

from crm_email.settings import *  # noqa: F403

# WhiteNoise warns that STATIC_ROOT was never collected; the bench serves no static files.
warnings.filterwarnings("ignore", "No directory at", UserWarning)

# The worker serialises every message as SendRawEmail needs it and sends nothing
# (the CPU of a real send minus SES's round trip), noting each call per process
# in $BENCH_SENT_DIR so the bench can count what left.
EMAIL_BACKEND = "bench.backend.SerializingBackend"
SES_EMULATED = False
# Nothing leaves, so there is no SES rate to respect: pacing keeps its code path
# (the Redis timeline the broker's URL gives it) at a rate no worker reaches,
# and never asks SES for its quota.
EMAIL_PACE_SENDS = True
EMAIL_PACE_USE_SES_QUOTA = False
EMAIL_MAX_SEND_RATE = 1e9

# 16 clients of one token make thousands of sends a minute: the API's
# throttles (core.rest.throttles) count every one of them as deployed, with
# limits no client reaches, so the bench measures their cost and never a 429.
API_THROTTLE_SENDS_PER_MINUTE = 1_000_000_000
API_THROTTLE_UPLOADS_PER_MINUTE = 1_000_000_000

LOGGING = {"version": 1, "disable_existing_loggers": False, "root": {"level": "ERROR"}}
