"""Which stored files emails carry: the counter the files app asks through `files.usage` (see EmailsConfig.ready)."""

from __future__ import annotations

import uuid
from collections.abc import Collection

from django.db.models import Count, Q

from emails.choices import MessageStatus
from emails.models import Attachment
from files.usage import FileUsage

# A message in these states will still read its attachments from storage.
WAITING = (
    MessageStatus.SCHEDULED,
    MessageStatus.QUEUED,
    MessageStatus.SENDING,
    MessageStatus.HELD,
    MessageStatus.PAUSED,
)


def file_attachment_usage(file_ids: Collection[uuid.UUID]) -> dict[uuid.UUID, FileUsage]:
    """Per file, the messages it is attached to that went out to someone, and those waiting to be sent: one query."""
    rows = (
        Attachment.objects.filter(file_id__in=list(file_ids))
        .values("file_id")
        .annotate(
            sent=Count("message_id", filter=Q(message__sent_count__gt=0), distinct=True),
            waiting=Count("message_id", filter=Q(message__status__in=WAITING), distinct=True),
        )
        .order_by()
    )
    return {
        row["file_id"]: FileUsage(sent=row["sent"], waiting=row["waiting"])
        for row in rows
        if row["sent"] or row["waiting"]
    }
