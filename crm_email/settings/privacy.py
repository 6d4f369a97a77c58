"""Privacy: how long message bodies and raw SNS bodies are kept, exports of one address, and erasure's keys."""

from __future__ import annotations

from crm_email.env import env_int, env_list
from crm_email.settings.tasks import CELERY_BEAT_SCHEDULE

# Message bodies (HTML, text and the template data they were rendered from)
# of finished mail older than this many days are removed; the message, its
# recipients, events and cost stay. 0 keeps them for ever: the default, since
# the bodies are what people open in the log, and an upgrade must not start
# deleting them unasked.
EMAIL_BODY_RETENTION_DAYS = env_int("EMAIL_BODY_RETENTION_DAYS", 0, minimum=0)
# Raw SNS bodies, once applied, are only needed to replay them (events_replay
# after a parsing fix), and each names its recipients: removed after 30 days
# by default. 0 keeps them. Unprocessed ones are never removed.
SNS_RAW_RETENTION_DAYS = env_int("SNS_RAW_RETENTION_DAYS", 30, minimum=0)
# How often beat runs the retention (manage.py email_retention runs it by hand).
EMAIL_RETENTION_INTERVAL_SECONDS = env_int("EMAIL_RETENTION_INTERVAL_SECONDS", 24 * 3600, minimum=60)
CELERY_BEAT_SCHEDULE["email-retention"] = {
    "task": "emails.tasks.email_retention_task",
    "schedule": float(EMAIL_RETENTION_INTERVAL_SECONDS),
}

# GET /api/email/contacts/<address>/export answers at most this many rows of
# each kind (recipients, events, SNS bodies, ...), and says which it cut.
EMAIL_EXPORT_MAX_ROWS = env_int("EMAIL_EXPORT_MAX_ROWS", 5000, minimum=1)

# An erased address is kept as a keyed hash whose key derives from
# SECRET_KEY. After a key rotation, put the old keys here (Django reads them
# too, for sessions and signatures): the send path still matches addresses
# erased under them, so an erased suppressed address stays unmailed.
SECRET_KEY_FALLBACKS = env_list("DJANGO_SECRET_KEY_FALLBACKS")
