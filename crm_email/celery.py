"""The Celery app. Settings come from Django's, under the CELERY_ prefix."""

from __future__ import annotations

import os

from celery import Celery

from core.observability.propagation import request_id_signals_connect
from core.tasks import worker_connections_connect

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "crm_email.settings")

app = Celery("crm_email")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
# A request's id goes with the tasks it causes (a header), in this process and in the workers.
request_id_signals_connect()
# A worker keeps its database connections between tasks, for CONN_MAX_AGE, as a web process does.
worker_connections_connect()
