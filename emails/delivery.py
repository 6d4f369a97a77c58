"""Delivering queued messages through SES: claim, send in groups, record outcomes, retry, sweep."""

from __future__ import annotations

import logging
import random
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.mail.backends.base import BaseEmailBackend
from django.db import connection, transaction
from django.db.models import DateTimeField, F, Prefetch, Q, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from emails.choices import (
    SUPPRESSION_SCOPE_ALL,
    Category,
    EventType,
    MessageStatus,
    RecipientStatus,
)
from emails.dispatch import email_dispatch
from emails.exceptions import SendPermanentError, SendTransientError
from emails.mime import email_build, recipient_groups, ses_call_count, ses_group_size
from emails.models import Event, Message, Recipient, ReputationHold, Suppression
from emails.outcomes import ACCEPTED, COUNT_FIELDS, message_counts_apply
from emails.pacing import send_pace
from emails.ses import ses_connection, ses_send
from emails.suppression import reputation_hold_active, suppression_reason_text
from files.exceptions import AttachmentUnavailable, StorageUnavailable
from files.selectors import attachments_size

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class DeliveryOutcome:
    delivered: int  # messages finished (sent or failed) in this call
    retry_in: float | None = None  # seconds, when SES asked us to come back later


def _lease_end() -> Any:
    return timezone.now() + timedelta(seconds=settings.EMAIL_SEND_LEASE_SECONDS)


def _due() -> Q:
    return Q(send_after__isnull=True) | Q(send_after__lte=timezone.now())


def email_claim(*, message_id: uuid.UUID) -> bool:
    """Take one queued message for this worker; False when another has it or it is not due."""
    return bool(
        Message.objects.filter(_due(), pk=message_id, status=MessageStatus.QUEUED).update(
            status=MessageStatus.SENDING, lease_until=_lease_end()
        )
    )


def email_claim_batch(*, limit: int) -> list[uuid.UUID]:
    """Take up to `limit` due queued messages, oldest first, skipping ones other workers hold."""
    with transaction.atomic():
        ids = list(
            Message.objects.select_for_update(skip_locked=True)
            .filter(_due(), status=MessageStatus.QUEUED)
            .order_by("created_at")
            .values_list("pk", flat=True)[:limit]
        )
        if ids:
            Message.objects.filter(pk__in=ids).update(status=MessageStatus.SENDING, lease_until=_lease_end())
    return ids


def email_deliver(*, message_id: uuid.UUID) -> DeliveryOutcome:
    """Claim one message and send it; the Celery task's body."""
    if not email_claim(message_id=message_id):
        return DeliveryOutcome(delivered=0)
    return email_deliver_claimed(message_ids=[message_id])


def email_drain(*, limit: int | None = None) -> int:
    """Deliver queued messages in batches until none is due (or `limit` were done)."""
    done = 0
    batch_size = settings.EMAIL_DRAIN_BATCH_SIZE
    while limit is None or done < limit:
        ids = email_claim_batch(limit=batch_size if limit is None else min(batch_size, limit - done))
        if not ids:
            break
        outcome = email_deliver_claimed(message_ids=ids)
        done += outcome.delivered
        if outcome.retry_in is not None:
            break
    return done


class _Recorder:
    """Collects the outcome of SES calls and writes them in few queries.

    It flushes once the oldest unwritten call is EMAIL_RECORD_MAX_DELAY_MS
    old (or EMAIL_RECORD_MAX_CALLS are pending). Against real SES a call
    takes longer than that delay, so every call is written before the next
    one starts; a worker that dies can only cause a duplicate for calls of
    the last few milliseconds, never a loss.
    """

    def __init__(self) -> None:
        self.sent: list[tuple[list[Recipient], str]] = []
        self.failed: list[tuple[list[Recipient], str]] = []
        self.suppressed: list[tuple[Recipient, str]] = []
        self.finished: list[Message] = []
        self.simulated: list[tuple[Message, list[Recipient], str]] = []
        self.oldest: float | None = None
        self.calls = 0

    def record_sent(self, message: Message, group: list[Recipient], ses_message_id: str) -> None:
        self.sent.append((group, ses_message_id))
        if settings.SES_EMULATED:
            self.simulated.append((message, group, ses_message_id))
        self._touch()

    def record_failed(self, group: list[Recipient], reason: str) -> None:
        self.failed.append((group, reason))
        self._touch()

    def record_suppressed(self, recipient: Recipient, reason: str) -> None:
        self.suppressed.append((recipient, reason))

    def record_finished(self, message: Message) -> None:
        self.finished.append(message)

    def _touch(self) -> None:
        self.calls += 1
        if self.oldest is None:
            self.oldest = time.monotonic()

    def due(self) -> bool:
        if self.oldest is None:
            return False
        waited_ms = (time.monotonic() - self.oldest) * 1000
        return waited_ms >= settings.EMAIL_RECORD_MAX_DELAY_MS or self.calls >= settings.EMAIL_RECORD_MAX_CALLS

    def flush(self) -> None:
        """Write everything pending in one transaction, rows that get the same values in one UPDATE each.

        (bulk_update would build a CASE per row and column: most of a fast
        worker's time, measured in docs/benchmarks.md.)
        """
        if not (self.sent or self.failed or self.suppressed or self.finished):
            return
        now = timezone.now()
        events: list[Event] = []

        def event(r: Recipient, type_: str, *, ses_id: str = "", reason: str = "") -> None:
            events.append(
                Event(
                    message_id=r.message_id, recipient=r, address=r.address, type=type_, occurred_at=now,
                    ses_message_id=ses_id, details={"reason": reason} if reason else {},
                )
            )  # fmt: skip

        with transaction.atomic():
            self._sent_write(now)
            for group, ses_id in self.sent:
                for r in group:
                    event(r, EventType.SEND, ses_id=ses_id)
            for group, reason in self.failed:
                Recipient.objects.filter(pk__in=[r.pk for r in group]).update(
                    status=RecipientStatus.FAILED, reason=reason, last_event_at=now
                )
                for r in group:
                    event(r, EventType.FAILURE, reason=reason)
            suppressed: dict[str, list[int]] = defaultdict(list)
            for r, reason in self.suppressed:
                suppressed[reason].append(r.pk)
                event(r, EventType.SUPPRESSED, reason=reason)
            for reason, ids in suppressed.items():
                Recipient.objects.filter(pk__in=ids).update(
                    status=RecipientStatus.SUPPRESSED, reason=reason, last_event_at=now
                )
            Event.objects.bulk_create(events)
            self._messages_write(now)
            if self.simulated:
                from emails.simulator import simulator_feed

                simulator_feed(self.simulated)
        self.sent, self.failed, self.suppressed, self.finished, self.simulated = [], [], [], [], []
        self.oldest, self.calls = None, 0

    def _sent_write(self, now: datetime) -> None:
        """Mark every recipient SES accepted since the last flush: two statements, however many calls."""
        if not self.sent:
            return
        ids = [r.pk for group, _ in self.sent for r in group]
        Recipient.objects.filter(pk__in=ids).update(status=RecipientStatus.SENT, sent_at=now, last_event_at=now)
        pairs = [(r.pk, ses_id) for group, ses_id in self.sent for r in group]
        _recipient_ses_ids_write(pairs)

    def _messages_write(self, now: datetime) -> None:
        alike: dict[tuple[Any, ...], list[uuid.UUID]] = defaultdict(list)
        for m in self.finished:
            alike[(m.status, m.status_reason, m.cost, *(getattr(m, f) for f in COUNT_FIELDS))].append(m.pk)
        for (status, reason, cost, *counts), ids in alike.items():
            changes: dict[str, Any] = dict(zip(COUNT_FIELDS, counts, strict=True))
            if changes["sent_count"]:
                # The time of the first SES call; a resumed message keeps its own.
                changes["sent_at"] = Coalesce(F("sent_at"), Value(now, output_field=DateTimeField()))
            Message.objects.filter(pk__in=ids).update(
                status=status, status_reason=reason, cost=cost, lease_until=None, send_after=None, updated_at=now,
                **changes,
            )  # fmt: skip


def _recipient_ses_ids_write(pairs: list[tuple[int, str]]) -> None:
    """Set each recipient's SES MessageId in one UPDATE ... FROM (VALUES ...).

    The ORM has no way to give each row its own value but a CASE per row,
    which costs more to build than the rest of the flush together. This form
    runs on PostgreSQL and on SQLite (3.33+); VALUES names its columns
    column1, column2 on both.
    """
    table = connection.ops.quote_name(Recipient._meta.db_table)
    for start in range(0, len(pairs), 500):
        chunk = pairs[start : start + 500]
        rows = ", ".join(["(%s, %s)"] * len(chunk))
        sql = (
            f"UPDATE {table} SET ses_message_id = v.column2 FROM (VALUES {rows}) AS v "  # noqa: S608 (no user input)
            f"WHERE {table}.id = v.column1"
        )
        with connection.cursor() as cursor:
            cursor.execute(sql, [value for pair in chunk for value in pair])


def email_cost(*, recipients: int, attachment_bytes: int = 0, category: str = "") -> Decimal:
    """SES list price: per recipient, plus per GB (2**30 bytes) of attachments in each SES call carrying them."""
    calls = ses_call_count(addresses=recipients, category=category) if attachment_bytes else 0
    return (
        settings.EMAIL_PRICE_PER_1000_RECIPIENTS * recipients / 1000
        + settings.EMAIL_PRICE_PER_GB_ATTACHMENTS * attachment_bytes * calls / 2**30
    )


@dataclass
class _MessageSend:
    """A message's recipients as loaded, and what this worker's calls did for them.

    Counts are taken from the recipients' rows, not added to the message's,
    so a message resumed after a crash still ends with true totals.
    """

    pending: list[Recipient]
    statuses: Counter[str]
    failure: str = ""
    transient: str = ""

    @classmethod
    def of(cls, message: Message) -> _MessageSend:
        rows: list[Recipient] = message.all_recipients  # type: ignore[attr-defined]
        pending = [r for r in rows if r.status == RecipientStatus.QUEUED]
        return cls(pending=pending, statuses=Counter(r.status for r in rows if r.status != RecipientStatus.QUEUED))

    @property
    def sent(self) -> int:
        return sum(self.statuses[s] for s in ACCEPTED)


@dataclass(frozen=True)
class _Blocks:
    """What stops mail before SES, loaded once per batch: suppressions and reputation holds."""

    suppressions: list[Suppression]
    held: dict[str, ReputationHold]

    @classmethod
    def load(cls, messages: Sequence[Message]) -> _Blocks:
        addresses = {r.address for m in messages for r in m.all_recipients if r.status == RecipientStatus.QUEUED}  # type: ignore[attr-defined]
        suppressions = (
            list(Suppression.objects.filter(address__in=addresses, lifted_at__isnull=True).order_by("created_at"))
            if addresses
            else []
        )
        held: dict[str, ReputationHold] = {}
        if any(m.category == Category.MARKETING for m in messages):
            hold = reputation_hold_active(category=Category.MARKETING)
            if hold is not None:
                held[Category.MARKETING] = hold
        return cls(suppressions=suppressions, held=held)

    def suppression_for(self, address: str, category: str) -> Suppression | None:
        for s in self.suppressions:
            if s.address == address and s.scope in (SUPPRESSION_SCOPE_ALL, category):
                return s
        return None


def email_deliver_claimed(*, message_ids: list[uuid.UUID]) -> DeliveryOutcome:
    """Send messages this worker has claimed, each in groups of at most 50 addresses."""
    messages = list(
        Message.objects.filter(pk__in=message_ids, status=MessageStatus.SENDING)
        .order_by("created_at")
        .prefetch_related(
            Prefetch("recipients", queryset=Recipient.objects.order_by("position"), to_attr="all_recipients"),
            "attachments__file",
        )
    )
    blocks = _Blocks.load(messages)
    recorder = _Recorder()
    connection = ses_connection()
    delivered = 0
    try:
        for index, message in enumerate(messages):
            hold = blocks.held.get(message.category)
            if hold is not None:
                _hold(message, hold)
                recorder.record_finished(message)
                continue
            outcome = _send_groups(connection, message, recorder, blocks)
            if outcome.transient:
                recorder.flush()
                retry_in = _release_for_retry(message, outcome)
                _release_unstarted(messages[index + 1 :])
                return DeliveryOutcome(delivered=delivered, retry_in=retry_in)
            _finish(message, outcome)
            recorder.record_finished(message)
            delivered += 1
            if recorder.due():
                recorder.flush()
    finally:
        # Whatever was sent is written, even when an error goes on from here,
        # so the sweeper resends only what truly did not leave.
        recorder.flush()
        connection.close()
    return DeliveryOutcome(delivered=delivered)


def _send_groups(connection: BaseEmailBackend, message: Message, recorder: _Recorder, blocks: _Blocks) -> _MessageSend:
    outcome = _MessageSend.of(message)
    sendable = []
    for r in outcome.pending:
        suppression = blocks.suppression_for(r.address, message.category)
        if suppression is None:
            sendable.append(r)
        else:
            recorder.record_suppressed(r, suppression_reason_text(suppression))
            outcome.statuses[RecipientStatus.SUPPRESSED] += 1
    for group in recipient_groups(sendable, size=ses_group_size(message.category)):
        try:
            email = email_build(message=message, group=group)
        except AttachmentUnavailable as exc:  # a stored file is gone: every group fails the same way
            recorder.record_failed(group, str(exc))
            outcome.statuses[RecipientStatus.FAILED] += len(group)
            outcome.failure = outcome.failure or str(exc)
            continue
        except StorageUnavailable as exc:  # like SES throttling: the whole message tries again later
            outcome.transient = str(exc)
            return outcome
        send_pace(recipients=len(group))
        try:
            ses_id = ses_send(connection=connection, email=email)
        except SendTransientError as exc:
            outcome.transient = exc.reason
            return outcome
        except SendPermanentError as exc:
            logger.warning("SES refused message %s: %s", message.pk, exc.reason)
            recorder.record_failed(group, exc.reason)
            outcome.statuses[RecipientStatus.FAILED] += len(group)
            outcome.failure = outcome.failure or exc.reason
            continue
        recorder.record_sent(message, group, ses_id)
        outcome.statuses[RecipientStatus.SENT] += len(group)
    return outcome


def _finish(message: Message, outcome: _MessageSend) -> None:
    """Set the message's outcome once every group has had its SES call (written by the recorder)."""
    message.status = MessageStatus.SENT  # out of its lifecycle: derived from recipients below
    message_counts_apply(message, outcome.statuses)
    message.cost = email_cost(
        recipients=message.sent_count, attachment_bytes=attachments_size(message=message), category=message.category
    )
    if outcome.failure:
        message.status_reason = outcome.failure
    elif message.status == MessageStatus.SUPPRESSED:
        message.status_reason = "Every recipient is on the suppression list; nothing was sent."
    else:
        message.status_reason = ""


def _hold(message: Message, hold: ReputationHold) -> None:
    message.status = MessageStatus.HELD
    message.status_reason = hold.reason


def _backoff(attempt: int) -> float:
    """Exponential backoff with jitter over the upper half of the window."""
    ceiling = min(settings.EMAIL_RETRY_BACKOFF_MAX_SECONDS, settings.EMAIL_RETRY_BACKOFF_SECONDS * 2**attempt)
    return random.uniform(ceiling / 2, ceiling)


def _release_for_retry(message: Message, outcome: _MessageSend) -> float | None:
    """Hand a throttled message back to the queue, or fail it after too many attempts."""
    attempts = message.attempts + 1
    now = timezone.now()
    common = {
        "attempts": attempts,
        "sent_count": outcome.sent,
        "suppressed_count": outcome.statuses[RecipientStatus.SUPPRESSED],
        "cost": email_cost(
            recipients=outcome.sent, attachment_bytes=attachments_size(message=message), category=message.category
        ),
        "lease_until": None,
        "updated_at": now,
    }
    if attempts < settings.EMAIL_MAX_ATTEMPTS:
        delay = _backoff(attempts)
        Message.objects.filter(pk=message.pk).update(
            status=MessageStatus.QUEUED,
            status_reason=f"Retrying: {outcome.transient}",
            send_after=now + timedelta(seconds=delay),
            **common,
        )
        logger.info("SES asked to retry message %s in %.1fs: %s", message.pk, delay, outcome.transient)
        return delay
    reason = f"Gave up after {attempts} attempts: {outcome.transient}"
    with transaction.atomic():
        unsent = Recipient.objects.filter(message=message, status=RecipientStatus.QUEUED).update(
            status=RecipientStatus.FAILED, reason=reason, last_event_at=now
        )
        Message.objects.filter(pk=message.pk).update(
            status=MessageStatus.SENT if outcome.sent else MessageStatus.FAILED,
            status_reason=reason,
            failed_count=outcome.statuses[RecipientStatus.FAILED] + unsent,
            **common,
        )
    logger.error("Message %s failed: %s", message.pk, reason)
    return None


def _release_unstarted(messages: Sequence[Message]) -> None:
    if messages:
        Message.objects.filter(pk__in=[m.pk for m in messages], status=MessageStatus.SENDING).update(
            status=MessageStatus.QUEUED, lease_until=None
        )


def email_sweep(*, stale_after: timedelta = timedelta(minutes=2)) -> int:
    """Requeue messages whose worker died, and re-dispatch queued ones whose task was lost."""
    now = timezone.now()
    requeued = Message.objects.filter(status=MessageStatus.SENDING, lease_until__lt=now).update(
        status=MessageStatus.QUEUED, lease_until=None
    )
    if requeued:
        logger.warning("Sweeper returned %d message(s) with an expired lease to the queue.", requeued)
    cutoff = now - stale_after
    waiting = (
        Message.objects.filter(status=MessageStatus.QUEUED)
        .filter(Q(send_after__lte=cutoff) | Q(send_after__isnull=True, created_at__lt=cutoff))
        .order_by("created_at")
        .values_list("pk", "priority")[:1000]
    )
    count = 0
    for message_id, priority in waiting:
        email_dispatch(message_id=message_id, priority=priority)
        count += 1
    return requeued + count
