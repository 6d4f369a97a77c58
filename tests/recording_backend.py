"""An EMAIL_BACKEND for fault tests: each send's message id is appended to a file the moment the call returns.

One line per SES call that "went out", written with O_APPEND by the worker process itself, so a test that kills
the worker with SIGKILL still knows every call it made: what was sent twice is what appears twice. Sends
nothing; each call answers an SES MessageId of its own as django-ses does (so the database shows which calls'
outcomes were written); `RECORDING_SEND_SECONDS` makes each call take that long.
"""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Sequence

from django.core.mail import EmailMessage
from django.core.mail.backends.base import BaseEmailBackend

FILE_ENV = "RECORDING_BACKEND_FILE"
DELAY_ENV = "RECORDING_SEND_SECONDS"


def _message_id(message: EmailMessage) -> str:
    for tag in str(message.extra_headers.get("X-SES-MESSAGE-TAGS", "")).split(","):
        name, _, value = tag.strip().partition("=")
        if name == "crm_message_id":
            return value
    return "-"


class RecordingBackend(BaseEmailBackend):
    def send_messages(self, email_messages: Sequence[EmailMessage]) -> int:
        path = os.environ[FILE_ENV]
        delay = float(os.environ.get(DELAY_ENV, "0"))
        for message in email_messages:
            message.message().as_bytes()  # the work of a real call
            if delay:
                time.sleep(delay)
            descriptor = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
            try:
                os.write(descriptor, f"{_message_id(message)}\n".encode())
            finally:
                os.close(descriptor)
            message.extra_headers["message_id"] = f"recorded-{uuid.uuid4()}"
        return len(email_messages)
