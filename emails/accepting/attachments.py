"""A send's attachments: what was asked for, what the raw message will weigh, and attaching them to a stored message."""

from __future__ import annotations

import hashlib
import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.contrib.auth.models import User

from emails.models import Attachment, Message
from files.choices import FileCategory
from files.models import File
from files.services import file_store, file_store_undo

logger = logging.getLogger(__name__)


@dataclass(frozen=True, eq=False)
class AttachmentSpec:
    """One checked attachment of a send: inline bytes or a completed stored file, and the name it goes by.

    Its str() is what an idempotency fingerprint compares: a digest of the
    content, not the content.
    """

    filename: str
    content_type: str
    content: bytes | None = None
    file: File | None = None

    def __post_init__(self) -> None:
        if (self.content is None) == (self.file is None):
            raise ValueError("An attachment is either inline content or a stored file.")

    @property
    def size(self) -> int:
        return len(self.content) if self.content is not None else int(self.file.size if self.file else 0)

    def __str__(self) -> str:
        if self.content is not None:
            return f"inline:{self.filename}:{self.content_type}:{hashlib.sha256(self.content).hexdigest()}"
        return f"file:{self.file.pk if self.file else ''}:{self.filename}:{self.content_type}"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, AttachmentSpec) and str(self) == str(other)

    def __hash__(self) -> int:
        return hash(str(self))

    def __deepcopy__(self, memo: dict[int, Any]) -> AttachmentSpec:
        return self  # immutable; asdict() in the fingerprint copies fields deeply


# Per attachment: its MIME headers and boundary; per message: every header.
_PART_OVERHEAD = 512
_HEADER_OVERHEAD = 16 * 1024


def raw_message_estimate(*, body_bytes: int, attachment_sizes: Sequence[int]) -> int:
    """Bytes of the raw MIME SES will be given: bodies as sent, attachments base64 in 76-character lines."""
    encoded = sum(math.ceil(size / 57) * 78 + _PART_OVERHEAD for size in attachment_sizes)
    # Bodies go out as quoted-printable or base64 when they need it: 4/3 bounds both for real text.
    return _HEADER_OVERHEAD + math.ceil(body_bytes * 4 / 3) + encoded


def attachments_attach(*, message: Message, owner: User, specs: Sequence[AttachmentSpec]) -> list[Attachment]:
    """Attach files to a message being queued, inside its transaction.

    Inline content becomes a completed file of category `attachment` (its
    bytes were checked with the request), so the worker streams every
    attachment from storage the same way. Objects are written first; if
    anything fails here, those written are removed again before the error
    goes on (and the caller's transaction rolls back the rows).
    """
    written: list[File] = []
    rows: list[Attachment] = []
    try:
        for position, spec in enumerate(specs):
            file = spec.file
            if file is None:
                assert spec.content is not None  # an AttachmentSpec is one or the other
                file = file_store(
                    owner=owner,
                    name=spec.filename,
                    content_type=spec.content_type,
                    content=spec.content,
                    category=FileCategory.ATTACHMENT,
                    client_id=message.client_id,
                )
                written.append(file)
            rows.append(
                Attachment(
                    message=message,
                    file=file,
                    filename=spec.filename,
                    content_type=spec.content_type,
                    size=file.size,
                    position=position,
                )
            )
        return Attachment.objects.bulk_create(rows)
    except BaseException:
        for file in written:
            try:
                file_store_undo(file=file)
            except Exception:  # the original error matters more; the object is only an orphan
                logger.exception("Could not remove attachment object %s after a failed queue", file.key)
        raise
