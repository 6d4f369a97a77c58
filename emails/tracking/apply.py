"""Applying stored SNS notifications: parse, append events, move recipients up, derive messages, suppress.

webhook -> verify (tracking.sns) -> store (tracking.inbound; a replay stores
nothing) -> 200, a worker scheduled -> here: parse (tracking.parse) -> apply
to recipients by precedence -> derive the message (emails.outcomes) -> side
effects (suppression, the reputation guard).

A batch is applied in one transaction, in a handful of statements. When one
notification of it cannot be applied (a shape nobody foresaw, a value the
database refuses), the batch is applied again one notification at a time,
each in its own savepoint: that one is marked with its error and kept for
`events_replay`, and every other one is applied. One poison message never
stalls the pipeline.
"""

from __future__ import annotations

import logging
import uuid
from collections import Counter, defaultdict
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Count, Q
from django.utils import timezone

from core.text import uuid_parse
from emails.choices import SUPPRESSION_SCOPE_ALL, EventType
from emails.exceptions import SnsRejected, SnsUnavailable
from emails.models import Event, InboundNotification, Message, Recipient
from emails.outcomes import (
    COUNT_FIELDS,
    FLAG_COUNTS,
    Tally,
    message_counts_apply,
    recipient_status_after,
)
from emails.suppression import reputation_check, suppression_add
from emails.tracking.advance import Advance, recipients_advance
from emails.tracking.erased import erased_events_hide
from emails.tracking.parse import ParsedEvent, notification_events, storable
from emails.tracking.sns import sns_subscription_confirm

logger = logging.getLogger(__name__)

Confirmations = list[tuple[InboundNotification, dict[str, Any]]]


def notification_process(*, notification_id: int) -> None:
    """Apply one stored notification, processed before or not (the replay command); its errors are raised."""
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
            confirmations = _apply_isolated(batch)
        _confirm(confirmations)
        done += len(batch)
        if len(batch) < size:
            return done


def _apply_isolated(batch: list[InboundNotification]) -> Confirmations:
    """The batch at once; if that fails, each notification in a savepoint of its own, a failure marked on it."""
    try:
        with transaction.atomic():
            return _apply(batch)
    except Exception:
        if len(batch) < 2:
            logger.exception("Notification %s could not be applied", batch[0].sns_message_id if batch else "")
        else:
            logger.warning("A batch of %d notifications failed; applying them one by one", len(batch))
    confirmations: Confirmations = []
    for notification in batch:
        try:
            with transaction.atomic():
                confirmations += _apply([notification])
        except Exception as exc:  # this one alone: kept, with its error, for events_replay
            logger.exception("Notification %s could not be applied", notification.sns_message_id)
            notification.error = f"Could not be applied: {type(exc).__name__}: {exc}"[:2000]
            _notifications_mark([notification], processed_at=timezone.now())
    return confirmations


def _notifications_mark(notifications: list[InboundNotification], *, processed_at: datetime | None) -> None:
    by_error: dict[str, list[int]] = defaultdict(list)
    for notification in notifications:
        by_error[notification.error].append(notification.pk)
    for error, ids in by_error.items():
        InboundNotification.objects.filter(pk__in=ids).update(processed_at=processed_at, error=error)


def _confirm(confirmations: Confirmations, *, strict: bool = False) -> None:
    """Confirm subscriptions; one SNS could not answer stays pending, for the sweeper to try again.

    `strict` raises that failure too, for a caller that reports it (the replay command).
    """
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


def _apply(notifications: list[InboundNotification]) -> Confirmations:
    """Append events, move recipients up by precedence, derive their messages, suppress.

    Returns the subscription confirmations to make once the transaction committed.
    """
    if not notifications:
        return []
    now = timezone.now()
    confirmations: Confirmations = []
    parsed: list[tuple[InboundNotification, ParsedEvent]] = []
    for notification in notifications:
        try:
            events, confirmation = notification_events(notification.body)
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            notification.error = storable(str(exc))[:2000]
            logger.warning("Notification %s not applied: %s", notification.sns_message_id, exc)
        else:
            notification.error = ""
            parsed.extend((notification, e) for e in events)
            if confirmation is not None:
                confirmations.append((notification, confirmation))
        notification.processed_at = now

    recipients = _match(e for _, e in parsed)
    # SES names an erased address in the clear: such events are kept under its hash (tracking.erased).
    parsed = erased_events_hide(parsed, recipients)
    rows: list[Event] = []
    advances: dict[int, Advance] = defaultdict(Advance)
    suppressions: list[tuple[InboundNotification, ParsedEvent, Recipient | None]] = []
    for notification, event in parsed:
        recipient = recipients.get((event.ses_message_id, event.address)) or recipients.get(
            (event.crm_message_id, event.address)
        )
        rows.append(
            Event(
                message_id=recipient.message_id if recipient else None,
                recipient=recipient,
                address=event.address[:254],
                inbound=notification,
                type=event.type,
                occurred_at=event.occurred_at,
                ses_message_id=event.ses_message_id[:100],
                sns_message_id=notification.sns_message_id,
                details=event.details,
            )
        )
        if recipient is not None:
            _propose(advances[recipient.pk], event)
        if event.suppress is not None:
            suppressions.append((notification, event, recipient))

    Event.objects.bulk_create(rows, ignore_conflicts=True)
    by_pk = {r.pk: r for r in recipients.values()}
    moved = {pk: advance for pk, advance in advances.items() if advance.status or advance.firsts}
    recipients_advance(moved)
    _messages_derive({by_pk[pk].message_id for pk in moved})
    for notification, event, recipient in suppressions:
        _suppress(notification, event, recipient)
    _notifications_mark(notifications, processed_at=now)
    if any(e.type in (EventType.BOUNCE, EventType.COMPLAINT) for _, e in parsed):
        reputation_check()
    return confirmations


def _match(events: Iterable[ParsedEvent]) -> dict[tuple[str, str], Recipient]:
    """Recipients by (SES message id, address), and by (our message id, address) as a fallback."""
    events = list(events)
    addresses = {e.address for e in events}
    ses_ids = {e.ses_message_id for e in events}
    found: dict[tuple[str, str], Recipient] = {}
    for r in Recipient.objects.filter(ses_message_id__in=ses_ids, address__in=addresses):
        found[(r.ses_message_id, r.address)] = r
    # An event can outrun the write of its MessageId; our message id travels in the SES tags.
    missing = {e.crm_message_id for e in events if e.crm_message_id and (e.ses_message_id, e.address) not in found}
    crm_ids = [i for i in missing if uuid_parse(i) is not None]
    if crm_ids:
        for r in Recipient.objects.filter(message_id__in=crm_ids, address__in=addresses):
            found.setdefault((str(r.message_id), r.address), r)
    return found


# The outcome time an event sets, when it is the first of its kind (Recipient's flags, emails.outcomes).
_FLAGS: dict[str, str] = {
    EventType.DELIVERY: "delivered_at",
    EventType.OPEN: "opened_at",
    EventType.CLICK: "clicked_at",
    EventType.COMPLAINT: "complained_at",  # a real complaint, not a "not-spam" retraction
    EventType.BOUNCE: "bounced_at",  # a permanent bounce, not a transient one
}


def _flag(event: ParsedEvent) -> str | None:
    if event.type in (EventType.COMPLAINT, EventType.BOUNCE) and event.status is None:
        return None
    return _FLAGS.get(event.type)


def _propose(advance: Advance, event: ParsedEvent) -> None:
    """Fold one event into what the batch proposes for its recipient: the highest status, each outcome's first time."""
    if event.status is not None and (
        advance.status is None or recipient_status_after(advance.status, event.status) == event.status
    ):
        reason = (
            event.reason
            or event.details.get("diagnosticCode")
            or event.details.get("reason")
            or event.details.get("errorMessage")
        )
        advance.status, advance.occurred_at = event.status, event.occurred_at
        advance.reason = str(reason)[:2000] if reason else None
    if (flag := _flag(event)) is not None:
        earlier = advance.firsts.get(flag)
        advance.firsts[flag] = min(earlier, event.occurred_at) if earlier else event.occurred_at


def _messages_derive(message_ids: set[uuid.UUID]) -> None:
    if not message_ids:
        return
    # Lock the messages first, so the counts below see every recipient
    # update committed before ours.
    messages = list(Message.objects.select_for_update().filter(pk__in=message_ids).order_by("pk"))
    statuses: dict[uuid.UUID, Counter[str]] = defaultdict(Counter)
    flags: dict[uuid.UUID, Counter[str]] = defaultdict(Counter)
    outcomes = {count: Count("pk", filter=_any_of(fields)) for count, fields in FLAG_COUNTS.items()}
    rows = Recipient.objects.filter(message_id__in=message_ids).values("message_id", "status")
    for row in rows.annotate(n=Count("pk"), **outcomes).order_by():
        statuses[row["message_id"]][row["status"]] = row["n"]
        flags[row["message_id"]].update({count: row[count] for count in FLAG_COUNTS})
    # Messages that end up alike (one delivery each, say) share one UPDATE:
    # far cheaper than bulk_update's CASE per row and column.
    alike: dict[tuple[Any, ...], list[uuid.UUID]] = defaultdict(list)
    for message in messages:
        message_counts_apply(message, Tally(statuses=statuses[message.pk], flags=dict(flags[message.pk])))
        alike[(message.status, *(getattr(message, f) for f in COUNT_FIELDS))].append(message.pk)
    now = timezone.now()
    for values, ids in alike.items():
        Message.objects.filter(pk__in=ids).update(
            status=values[0], updated_at=now, **dict(zip(COUNT_FIELDS, values[1:], strict=True))
        )


def _any_of(fields: tuple[str, ...]) -> Q:
    condition = Q()
    for name in fields:
        condition |= Q(**{f"{name}__isnull": False})
    return condition


def _suppress(notification: InboundNotification, event: ParsedEvent, recipient: Recipient | None) -> None:
    assert event.suppress is not None  # only events that call for one are passed here
    scope, reason = event.suppress
    if scope == "message-category":
        scope = recipient.message.category if recipient is not None else SUPPRESSION_SCOPE_ALL
    source = Event.objects.filter(inbound=notification, type=event.type, address=event.address[:254]).first()
    detail = str(event.details.get("diagnosticCode") or event.details.get("complaintFeedbackType") or "")
    suppression_add(address=event.address, scope=scope, reason=reason, detail=detail, event=source)
