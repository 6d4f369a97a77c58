"""The boto3 client of Amazon SES: django-ses's EMAIL_BACKEND with one client per process, and that client.

Shared ground: delivery sends through it, the sender identities ask SES about
themselves through it, and neither imports the other.
"""

from __future__ import annotations

import threading
from typing import Any

import boto3
import django_ses
from django.conf import settings
from django.core.mail import get_connection

_clients: dict[tuple[Any, ...], Any] = {}
_clients_lock = threading.Lock()


class SESBackend(django_ses.SESBackend):
    """django-ses's backend, with one boto3 client per process and configuration, not one per connection.

    django-ses builds a new session and client on every open(): about 40 ms
    of CPU, which a worker paid for each message it sent one by one. boto3
    clients are thread-safe, and one refreshes an instance role's
    credentials by itself.
    """

    connection: Any

    def open(self) -> bool | None:
        if self.connection:
            return False
        service = "sesv2" if self._use_ses_v2 else "ses"
        key = (self._session_profile, self._access_key_id, self._access_key, self._session_token,
               self._region_name, self._endpoint_url, id(self._config), service)  # fmt: skip
        with _clients_lock:
            client = _clients.get(key)
            if client is None:
                client = self.create_session().client(
                    service, region_name=self._region_name, endpoint_url=self._endpoint_url, config=self._config
                )
                _clients[key] = client
        self.connection = client
        return None


def ses_client() -> Any:
    """The boto3 SES client of EMAIL_BACKEND when it is django-ses's (or the emulation's); else one from settings."""
    backend = get_connection(fail_silently=False)
    if isinstance(backend, django_ses.SESBackend):
        backend.open()
        return backend.connection
    return boto3.client(
        "ses",
        region_name=settings.AWS_SES_REGION_NAME,
        endpoint_url=settings.AWS_SES_REGION_ENDPOINT_URL,
        aws_access_key_id=settings.AWS_ACCESS_KEY_ID,
        aws_secret_access_key=settings.AWS_SECRET_ACCESS_KEY,
        aws_session_token=settings.AWS_SESSION_TOKEN,
    )
