from __future__ import annotations

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "crm_email.settings")

application = get_wsgi_application()

# The embedded default has no Celery beat; the web process runs its schedule.
from emails.dispatch import in_process_beat_start  # noqa: E402

in_process_beat_start()
