from __future__ import annotations

from django.apps import AppConfig

# Registers the system checks (it imports no models, so it may load with the app config).
from emails import checks  # noqa: F401


class EmailsConfig(AppConfig):
    name = "emails"
    verbose_name = "Email"
    default_auto_field = "django.db.models.BigAutoField"
