"""Email attachments as MIME parts, streamed from storage when the email is built."""

from __future__ import annotations

import base64
from collections.abc import Sequence
from email.mime.base import MIMEBase
from typing import IO

from emails.exceptions import AttachmentUnavailable
from emails.models import Attachment
from files import storage
from files.exceptions import StoredObjectChanged, StoredObjectMissing

# 57 bytes make one 76-character base64 line; read many lines at a time.
_LINE_BYTES = 57
_READ_BYTES = _LINE_BYTES * 1024


def attachment_parts(*, attachments: Sequence[Attachment]) -> list[MIMEBase]:
    """One base64 MIME part per attachment, in order; read once per message, whatever its number of SES calls.

    Raises AttachmentUnavailable, with a reason fit for the message's log,
    when a stored object is gone or was replaced after its check.
    """
    return [attachment_part(attachment=attachment) for attachment in attachments]


def attachment_part(*, attachment: Attachment) -> MIMEBase:
    file = attachment.file
    lines: list[bytes] = []
    try:
        with storage.open_stream(key=file.key, etag=file.etag, version_id=file.version_id) as stream:
            while chunk := _read_exactly(stream, _READ_BYTES):
                encoded = base64.b64encode(chunk)
                lines.extend(encoded[i : i + 76] for i in range(0, len(encoded), 76))
    except StoredObjectMissing:
        raise AttachmentUnavailable(
            f"Attachment {attachment.filename!r} is no longer in storage; the email was not sent."
        ) from None
    except StoredObjectChanged:
        raise AttachmentUnavailable(
            f"Attachment {attachment.filename!r} was replaced in storage after it was checked; the email was not sent."
        ) from None
    maintype, _, subtype = attachment.content_type.partition("/")
    part = MIMEBase(maintype, subtype)
    part.set_payload(b"\n".join(lines).decode("ascii") + "\n")
    part["Content-Transfer-Encoding"] = "base64"
    # A non-ASCII name is encoded as RFC 2231 filename*= by the email package.
    part.set_param("name", attachment.filename)
    part.add_header("Content-Disposition", "attachment", filename=attachment.filename)
    return part


def _read_exactly(stream: IO[bytes], size: int) -> bytes:
    """Read `size` bytes unless the stream ends first (network streams return short reads)."""
    read = stream.read
    chunks: list[bytes] = []
    wanted = size
    while wanted:
        chunk = read(wanted)
        if not chunk:
            break
        chunks.append(chunk)
        wanted -= len(chunk)
    return b"".join(chunks)
