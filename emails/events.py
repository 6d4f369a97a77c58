"""The event pipeline after verification: store the raw SNS message, then apply it.

webhook -> verify (emails/sns.py) -> `notification_store` (unique MessageId; a
replay stores nothing) -> answer 200 with `notification_process` scheduled on
commit -> parse -> apply to recipients by precedence -> derive the message ->
side effects (suppression, reputation guard).
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, transaction

from emails.models import InboundNotification

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class StoreResult:
    notification: InboundNotification
    created: bool


def notification_store(*, message: dict[str, Any], body: str) -> StoreResult:
    """Keep a verified SNS message verbatim, once per MessageId, and schedule its processing."""
    try:
        with transaction.atomic():
            notification = InboundNotification.objects.create(
                sns_message_id=message["MessageId"],
                type=message["Type"],
                topic_arn=message.get("TopicArn", ""),
                body=body,
            )
            notification_dispatch(notification_id=notification.pk)
    except IntegrityError:
        # SNS retries reuse the MessageId: seen before, nothing more to do.
        return StoreResult(
            notification=InboundNotification.objects.get(sns_message_id=message["MessageId"]), created=False
        )
    return StoreResult(notification=notification, created=True)


def notification_dispatch(*, notification_id: int) -> None:
    from emails.dispatch import task_dispatch
    from emails.tasks import notification_process_task

    task_dispatch(notification_process_task, str(notification_id))


def notification_payload(notification: InboundNotification) -> dict[str, Any]:
    return dict(json.loads(notification.body))
