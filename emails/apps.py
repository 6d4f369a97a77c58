from __future__ import annotations

from django.apps import AppConfig

# Registers the system checks (it imports no models, so it may load with the app config).
from emails import checks  # noqa: F401


class EmailsConfig(AppConfig):
    name = "emails"
    verbose_name = "Email"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # files may not import emails: it asks its usage hook, which emails fills here, before
        # deleting a file that went out as an attachment.
        from emails.selectors.file_usage import file_attachment_usage
        from files.usage import file_usage_register

        file_usage_register(name="emails", counter=file_attachment_usage)
