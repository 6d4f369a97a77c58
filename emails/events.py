"""The event pipeline after verification: store the raw SNS message, then apply it.

webhook -> verify (emails/sns.py) -> `notification_store` (unique MessageId; a
replay stores nothing) -> answer 200 with `notification_process` scheduled on
commit -> parse -> apply to recipients by precedence -> derive the message ->
side effects (suppression, reputation guard).
"""

from __future__ import annotations

import json
import logging
import uuid
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import IntegrityError, connection, transaction
from django.db.models import Count
from django.utils import timezone

from emails.choices import (
    RECIPIENT_RANK,
    SUPPRESSION_SCOPE_ALL,
    EventType,
)
from emails.event_parsing import NotAnSesEvent, ParsedEvent, event_parse
from emails.identifiers import uuid_parse
from emails.models import Event, InboundNotification, Message, Recipient
from emails.outcomes import COUNT_FIELDS, message_counts_apply
from emails.suppression import reputation_check, suppression_add

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class StoreResult:
    notification: InboundNotification
    created: bool


def notification_store(*, message: dict[str, Any], body: str) -> StoreResult:
    """Keep a verified SNS message verbatim, once per MessageId, and schedule its processing."""
    fields = {
        "sns_message_id": message["MessageId"],
        "type": message["Type"],
        "topic_arn": message.get("TopicArn", ""),
        "body": body,
    }
    try:
        if connection.in_atomic_block:
            # A savepoint, so a duplicate leaves the caller's transaction usable.
            with transaction.atomic():
                notification = InboundNotification.objects.create(**fields)
        else:
            # The webhook runs in autocommit: one INSERT, no BEGIN and COMMIT
            # round trips on its hot path.
            notification = InboundNotification.objects.create(**fields)
    except IntegrityError:
        # SNS retries reuse the MessageId: seen before, nothing more to do.
        return StoreResult(
            notification=InboundNotification.objects.get(sns_message_id=message["MessageId"]), created=False
        )
    notifications_drain_schedule()
    return StoreResult(notification=notification, created=True)


DRAIN_SCHEDULED_KEY = "emails:notifications-drain-scheduled"


def notifications_drain_schedule() -> None:
    """Have a worker apply pending notifications, with one task for a burst rather than one each.

    The key stays while a drain task waits to start; the task deletes it before
    it looks for pending rows, so a notification stored after that schedules
    another drain. A task lost on the way leaves the key to expire, and the
    sweeper (`notifications_sweep`) picks up whatever is still pending.
    """
    from emails.dispatch import task_dispatch
    from emails.tasks import notification_process_task

    if cache.add(DRAIN_SCHEDULED_KEY, 1, timeout=settings.EVENTS_DRAIN_COALESCE_SECONDS):
        task_dispatch(notification_process_task)


def notifications_sweep(*, stale_after: timedelta = timedelta(minutes=1)) -> int:
    """Schedule a drain when notifications have waited too long (a lost task, a failed confirmation)."""
    waiting = InboundNotification.objects.filter(
        processed_at__isnull=True, received_at__lt=timezone.now() - stale_after
    ).count()
    if waiting:
        cache.delete(DRAIN_SCHEDULED_KEY)
        notifications_drain_schedule()
    return waiting


def notification_payload(notification: InboundNotification) -> dict[str, Any]:
    return dict(json.loads(notification.body))


# --- Applying ---------------------------------------------------------------


def notification_process(*, notification_id: int) -> None:
    """Apply one stored notification, processed before or not (the replay command uses this)."""
    with transaction.atomic():
        batch = list(InboundNotification.objects.select_for_update().filter(pk=notification_id))
        confirmations = _apply(batch)
    _confirm(confirmations, strict=True)


def notifications_drain(*, batch_size: int | None = None) -> int:
    """Apply every stored notification not yet processed, a batch per transaction."""
    size = batch_size or settings.EVENTS_BATCH_SIZE
    done = 0
    while True:
        with transaction.atomic():
            batch = list(
                InboundNotification.objects.select_for_update(skip_locked=True)
                .filter(processed_at__isnull=True)
                .order_by("pk")[:size]
            )
            confirmations = _apply(batch)
        _confirm(confirmations)
        done += len(batch)
        if len(batch) < size:
            return done


def _notifications_mark(notifications: list[InboundNotification], *, processed_at: datetime | None) -> None:
    by_error: dict[str, list[int]] = defaultdict(list)
    for notification in notifications:
        by_error[notification.error].append(notification.pk)
    for error, ids in by_error.items():
        InboundNotification.objects.filter(pk__in=ids).update(processed_at=processed_at, error=error)


def _confirm(confirmations: list[tuple[InboundNotification, dict[str, Any]]], *, strict: bool = False) -> None:
    """Confirm subscriptions; one SNS could not answer stays pending, for the sweeper to try again.

    `strict` raises that failure too, for a caller that reports it (the replay command).
    """
    from emails.exceptions import SnsRejected, SnsUnavailable
    from emails.sns import sns_subscription_confirm

    for notification, payload in confirmations:
        try:
            sns_subscription_confirm(payload)
        except SnsUnavailable as exc:
            notification.error = f"Confirmation failed, will retry: {exc.reason}"
            _notifications_mark([notification], processed_at=None)
            if strict:
                raise
        except SnsRejected as exc:
            notification.error = f"Confirmation refused: {exc.reason}"
            _notifications_mark([notification], processed_at=notification.processed_at)
            if strict:
                raise


def _parse_notification(notification: InboundNotification) -> tuple[list[ParsedEvent], dict[str, Any] | None]:
    """The events a stored notification carries, or the SubscriptionConfirmation to confirm."""
    payload = notification_payload(notification)
    if payload.get("Type") == "SubscriptionConfirmation":
        return [], payload
    if payload.get("Type") != "Notification":
        return [], None
    message = payload.get("Message")
    try:
        ses = json.loads(message) if isinstance(message, str) else None
    except ValueError:
        ses = None
    if not isinstance(ses, dict):
        # SES posts a plain-text test message when a topic is first set up.
        raise NotAnSesEvent("The notification's Message is not an SES event")
    return event_parse(ses), None


def _apply(notifications: list[InboundNotification]) -> list[tuple[InboundNotification, dict[str, Any]]]:
    """Append events, move recipients up by precedence, derive their messages, suppress.

    Returns the subscription confirmations to make once the transaction committed.
    """
    if not notifications:
        return []
    now = timezone.now()
    confirmations: list[tuple[InboundNotification, dict[str, Any]]] = []
    parsed: list[tuple[InboundNotification, ParsedEvent]] = []
    for notification in notifications:
        try:
            events, confirmation = _parse_notification(notification)
        except (ValueError, KeyError, TypeError) as exc:
            notification.error = str(exc)[:2000]
            logger.warning("Notification %s not applied: %s", notification.sns_message_id, exc)
        else:
            notification.error = ""
            parsed.extend((notification, e) for e in events)
            if confirmation is not None:
                confirmations.append((notification, confirmation))
        notification.processed_at = now

    recipients = _match(e for _, e in parsed)
    rows: list[Event] = []
    proposals: dict[int, ParsedEvent] = {}
    suppressions: list[tuple[InboundNotification, ParsedEvent, Recipient | None]] = []
    for notification, event in parsed:
        recipient = recipients.get((event.ses_message_id, event.address.lower())) or recipients.get(
            (event.crm_message_id, event.address.lower())
        )
        rows.append(
            Event(
                message_id=recipient.message_id if recipient else None,
                recipient=recipient,
                address=event.address.lower()[:254],
                inbound=notification,
                type=event.type,
                occurred_at=event.occurred_at,
                ses_message_id=event.ses_message_id,
                sns_message_id=notification.sns_message_id,
                details=event.details,
            )
        )
        if recipient is not None and event.status is not None:
            current = proposals.get(recipient.pk)
            if current is None or RECIPIENT_RANK[event.status] >= RECIPIENT_RANK[current.status or ""]:
                proposals[recipient.pk] = event
        if event.suppress is not None:
            suppressions.append((notification, event, recipient))

    Event.objects.bulk_create(rows, ignore_conflicts=True)
    by_pk = {r.pk: r for r in recipients.values()}
    for pk in sorted(proposals):  # a fixed order, so two workers never deadlock
        _recipient_advance(by_pk[pk], proposals[pk])
    _messages_derive({r.message_id for r in (by_pk[pk] for pk in proposals)})
    for notification, event, recipient in suppressions:
        _suppress(notification, event, recipient)
    _notifications_mark(notifications, processed_at=now)
    if any(e.type in (EventType.BOUNCE, EventType.COMPLAINT) for _, e in parsed):
        reputation_check()
    return confirmations


def _match(events: Iterable[ParsedEvent]) -> dict[tuple[str, str], Recipient]:
    """Recipients by (SES message id, address), and by (our message id, address) as a fallback."""
    events = list(events)
    addresses = {e.address.lower() for e in events}
    ses_ids = {e.ses_message_id for e in events}
    found: dict[tuple[str, str], Recipient] = {}
    for r in Recipient.objects.filter(ses_message_id__in=ses_ids, address__in=addresses):
        found[(r.ses_message_id, r.address)] = r
    # An event can outrun the write of its MessageId; our message id travels in the SES tags.
    missing = {
        e.crm_message_id for e in events if e.crm_message_id and (e.ses_message_id, e.address.lower()) not in found
    }
    crm_ids = [i for i in missing if uuid_parse(i) is not None]
    if crm_ids:
        for r in Recipient.objects.filter(message_id__in=crm_ids, address__in=addresses):
            found.setdefault((str(r.message_id), r.address), r)
    return found


def _recipient_advance(recipient: Recipient, event: ParsedEvent) -> None:
    """Move a recipient up to the event's status; a lower one changes nothing (conditional UPDATE)."""
    target = event.status or ""
    lower = [s for s, rank in RECIPIENT_RANK.items() if rank < RECIPIENT_RANK[target]]
    reason = event.details.get("diagnosticCode") or event.details.get("reason") or event.details.get("errorMessage")
    changes: dict[str, Any] = {"status": target, "last_event_at": event.occurred_at}
    if reason:
        changes["reason"] = str(reason)[:2000]
    Recipient.objects.filter(pk=recipient.pk, status__in=lower).update(**changes)


def _messages_derive(message_ids: set[uuid.UUID]) -> None:
    if not message_ids:
        return
    # Lock the messages first, so the counts below see every recipient
    # update committed before ours.
    messages = list(Message.objects.select_for_update().filter(pk__in=message_ids).order_by("pk"))
    counts: dict[uuid.UUID, Counter[str]] = defaultdict(Counter)
    for row in (
        Recipient.objects.filter(message_id__in=message_ids).values("message_id", "status").annotate(n=Count("pk"))
    ):
        counts[row["message_id"]][row["status"]] = row["n"]
    # Messages that end up alike (one delivery each, say) share one UPDATE:
    # far cheaper than bulk_update's CASE per row and column.
    alike: dict[tuple[Any, ...], list[uuid.UUID]] = defaultdict(list)
    for message in messages:
        message_counts_apply(message, counts[message.pk])
        alike[(message.status, *(getattr(message, f) for f in COUNT_FIELDS))].append(message.pk)
    now = timezone.now()
    for values, ids in alike.items():
        Message.objects.filter(pk__in=ids).update(
            status=values[0], updated_at=now, **dict(zip(COUNT_FIELDS, values[1:], strict=True))
        )


def _suppress(notification: InboundNotification, event: ParsedEvent, recipient: Recipient | None) -> None:
    assert event.suppress is not None
    scope, reason = event.suppress
    if scope == "message-category":
        scope = recipient.message.category if recipient is not None else SUPPRESSION_SCOPE_ALL
    source = Event.objects.filter(inbound=notification, type=event.type, address=event.address.lower()).first()
    detail = str(event.details.get("diagnosticCode") or event.details.get("complaintFeedbackType") or "")
    suppression_add(address=event.address, scope=scope, reason=reason, detail=detail, event=source)
