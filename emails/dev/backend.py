"""django-ses's backend against moto in this process, with the mailbox simulator after each send.

moto runs as a server on a loopback port (one per process), not as a patch
of botocore: only this backend's client talks to it, so S3 and everything
else still go where their settings say.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from email.utils import parseaddr
from typing import Any

import moto.ses.models
from django.conf import settings
from django.core.mail import EmailMessage
from moto.server import ThreadedMotoServer

from emails.dev.simulator import SimulatedCall, simulated_call, simulator_publish
from emails.ses import SESBackend

logger = logging.getLogger(__name__)

# SES counts every address in To, Cc and Bcc against this, per call.
SES_MAX_ADDRESSES_PER_CALL = 50
EMULATED_CREDENTIAL = "emulated"

_lock = threading.Lock()
_server: Any = None
_url = ""


def moto_recipient_count_fix() -> None:
    """Make moto count a call's recipients as SES does.

    moto adds the To/Cc header addresses to the Destinations it was given and
    counts both, so a call of 50 addresses with any of them in To or Cc,
    which SES accepts, is refused by moto. SES counts the Destinations.
    """
    moto.ses.models.RECIPIENT_LIMIT = 2 * SES_MAX_ADDRESSES_PER_CALL


def emulator_url() -> str:
    """The address of this process's moto server, started on first use."""
    global _server, _url
    with _lock:
        if _server is None:
            server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
            server.start()
            host, port = server.get_host_and_port()
            moto_recipient_count_fix()
            _server, _url = server, f"http://{host}:{port}"
            logger.info("SES is emulated by moto at %s (SES_EMULATED).", _url)
        return _url


def _realistic_quota(parsed: dict[str, Any], **kwargs: Any) -> None:
    # moto answers a sandbox's 1 recipient a second and 200 a day, which
    # paces a 100-recipient demo over 51 s; report a new production account's.
    parsed["MaxSendRate"] = float(settings.SES_EMULATED_MAX_SEND_RATE)
    parsed["Max24HourSend"] = float(settings.SES_EMULATED_MAX_24_HOUR_SEND)


class EmulatedSESBackend(SESBackend):
    """EMAIL_BACKEND of the embedded default: SES as moto plays it, plus the mailbox simulator's events."""

    def __init__(self, fail_silently: bool = False, **kwargs: Any) -> None:
        kwargs.update(
            aws_access_key=EMULATED_CREDENTIAL,
            aws_secret_key=EMULATED_CREDENTIAL,
            aws_region_endpoint=emulator_url(),
            aws_session_profile=None,
        )
        super().__init__(fail_silently=fail_silently, **kwargs)
        self._simulated: list[SimulatedCall] = []

    def open(self) -> bool | None:
        created: bool | None = super().open()
        if created is not False and self.connection is not None:
            # The client is shared (emails.delivery.ses): the hook is registered once on it.
            self.connection.meta.events.register(
                "after-call.ses.GetSendQuota", _realistic_quota, unique_id="crm-emulated-quota"
            )
            # moto, like SES in the sandbox, refuses unverified senders.
            domain = parseaddr(settings.DEFAULT_FROM_EMAIL)[1].rpartition("@")[2]
            self.connection.verify_domain_identity(Domain=domain)
        return created

    def send_messages(self, email_messages: Sequence[EmailMessage]) -> int:
        sent = super().send_messages(email_messages) or 0
        for message in email_messages:
            if ses_id := message.extra_headers.get("message_id"):
                self._simulated.append(simulated_call(message, str(ses_id)))
        return int(sent)

    def close(self) -> None:
        # After the caller recorded its sends: the events then find them.
        pending, self._simulated = self._simulated, []
        try:
            simulator_publish(pending)
        finally:
            super().close()
