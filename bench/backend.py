"""An email backend that does all the work SES's SendRawEmail needs on our side, and sends nothing.

Every message is serialised to raw MIME bytes exactly as django-ses does it
(`django_ses.get_message_bytes`: CRLF line endings), which is the CPU cost of a
real send minus the network round trip.

So that the benchmark can prove that no message left twice, even with several
worker processes, each send is also noted as one line
``<crm_message_id>\t<recipient>`` (the Message id comes from the
X-SES-MESSAGE-TAGS header that emails.delivery.mime.email_build sets). Lines are kept in
memory and appended to ``$BENCH_SENT_DIR/sent-<pid>.tsv`` when a connection
is closed (and at exit), so the bookkeeping costs a list append per message,
not a write.
"""

from __future__ import annotations

import atexit
import os
import threading
from collections.abc import Sequence

from django.core.mail import EmailMessage
from django.core.mail.backends.base import BaseEmailBackend
from django_ses import get_message_bytes

SENT_DIR_ENV = "BENCH_SENT_DIR"
TAGS_HEADER = "X-SES-MESSAGE-TAGS"

_lock = threading.Lock()
_pending: list[str] = []
totals = {"messages": 0, "bytes": 0}


def crm_message_id(message: EmailMessage) -> str:
    tags = message.extra_headers.get(TAGS_HEADER, "")
    for tag in str(tags).split(","):
        name, _, value = tag.strip().partition("=")
        if name == "crm_message_id":
            return value
    return "-"


def flush_sent_log() -> None:
    """Append the sends noted so far to this process's file (when BENCH_SENT_DIR is set)."""
    directory = os.environ.get(SENT_DIR_ENV)
    with _lock:
        lines = _pending[:]
        _pending.clear()
    if not directory or not lines:
        return
    path = os.path.join(directory, f"sent-{os.getpid()}.tsv")
    with open(path, "a", encoding="utf-8") as handle:
        handle.writelines(lines)


atexit.register(flush_sent_log)


class SerializingBackend(BaseEmailBackend):
    """Serialise each message to the raw bytes SendRawEmail takes; send nothing."""

    def send_messages(self, email_messages: Sequence[EmailMessage]) -> int:
        count = 0
        size = 0
        lines = []
        for message in email_messages:
            raw = get_message_bytes(message)
            size += len(raw)
            message_id = crm_message_id(message)
            lines.extend(f"{message_id}\t{address}\n" for address in message.recipients())
            count += 1
        with _lock:
            _pending.extend(lines)
            totals["messages"] += count
            totals["bytes"] += size
        return count

    def close(self) -> None:
        flush_sent_log()
