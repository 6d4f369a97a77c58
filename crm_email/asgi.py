from __future__ import annotations

import os

from django.core.asgi import get_asgi_application

from core.scheduler import scheduler_start

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "crm_email.settings")

application = get_asgi_application()

# A server process: without a broker there is no Celery beat, so each server
# process runs the schedule (core/scheduler.py). A Celery worker or a
# management command imports neither entry point, so never runs it.
scheduler_start()
