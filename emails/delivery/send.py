"""Sending claimed messages through SES, each in groups of at most 50 addresses."""

from __future__ import annotations

import logging
import time
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal

from django.conf import settings
from django.core.mail.backends.base import BaseEmailBackend

from emails.choices import MessageStatus, RecipientStatus
from emails.delivery import pacing
from emails.delivery.claim import Batch, batch_claim, batch_claim_first, batch_claim_one
from emails.delivery.mime import HeaderFolds, email_build, recipient_groups, ses_call_count, ses_group_size
from emails.delivery.parts import attachment_parts
from emails.delivery.records import SendRecorder
from emails.delivery.retry import release_for_retry, release_unstarted
from emails.delivery.ses import ses_connection, ses_send
from emails.exceptions import AttachmentUnavailable, SendPermanentError, SendTransientError
from emails.models import Message, Recipient, ReputationHold
from emails.outcomes import ACCEPTED, message_counts_apply
from emails.suppression import suppression_reason_text
from files.exceptions import StorageUnavailable

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class DeliveryOutcome:
    delivered: int  # messages finished (sent or failed) in this call
    retry_in: float | None = None  # seconds, when SES asked us to come back later


def email_deliver(*, message_id: uuid.UUID) -> DeliveryOutcome:
    """Claim one message and send it; the Celery task's body."""
    recorder = SendRecorder()
    try:
        return _batch_send(batch_claim_one(message_id=message_id), recorder)
    finally:
        recorder.flush()


def email_drain(*, limit: int | None = None) -> int:
    """Deliver queued messages in batches until none is due (or `limit` were done)."""
    size = drain_batch_size()
    done = claimed = 0
    # Outcomes are written while the next messages are built (on PostgreSQL).
    recorder = SendRecorder(background=True)
    watch = UrgentWatch(every=settings.EMAIL_DRAIN_URGENT_CHECK_SECONDS)
    try:
        while limit is None or claimed < limit:
            batch = batch_claim(limit=size if limit is None else min(size, limit - claimed))
            if not batch.messages:
                break
            claimed += len(batch.messages)
            outcome = _batch_send(batch, recorder, watch=watch)
            done += outcome.delivered
            if outcome.retry_in is not None:
                break
    finally:
        # Whatever was sent is written, even when an error goes on from here,
        # so the sweeper resends only what truly did not leave.
        try:
            recorder.flush(wait=True)
        finally:
            recorder.close()
    return done


def drain_batch_size() -> int:
    """EMAIL_DRAIN_BATCH_SIZE, but never more than the allowed rate sends in half a lease.

    A message waiting in a claimed batch is under lease too; if the batch
    took longer to send than the lease, the sweeper would hand its tail to
    another worker while this one still means to send it.
    """
    size = settings.EMAIL_DRAIN_BATCH_SIZE
    if settings.EMAIL_PACE_SENDS:
        rate = pacing.send_rate()  # recipients per second; a message has at least one
        if rate > 0:
            size = min(size, max(1, int(rate * settings.EMAIL_SEND_LEASE_SECONDS / 2)))
    return size


@dataclass
class UrgentWatch:
    """When a draining worker next looks for urgent and high mail queued since it claimed its batch.

    A batch of a bulk takes minutes at a worker's share of the rate (500
    messages x 4 workers / 100 a second: 20 s); looking every
    EMAIL_DRAIN_URGENT_CHECK_SECONDS between messages (one statement on a
    partial index, claiming nothing when there is nothing) sends a password
    reset within about that, plus its slot, even when every worker drains.
    """

    every: float
    clock: Callable[[], float] = time.monotonic
    next_at: float = field(init=False)

    def __post_init__(self) -> None:
        self.next_at = self.clock() + self.every

    def due(self) -> bool:
        now = self.clock()
        if now < self.next_at:
            return False
        self.next_at = now + self.every
        return True


# Urgent and high messages a draining worker takes between two of its batch's.
URGENT_CLAIM_LIMIT = 50


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
    def of(cls, rows: list[Recipient]) -> _MessageSend:
        pending = [r for r in rows if r.status == RecipientStatus.QUEUED]
        return cls(pending=pending, statuses=Counter(r.status for r in rows if r.status != RecipientStatus.QUEUED))

    @property
    def sent(self) -> int:
        return sum(self.statuses[s] for s in ACCEPTED)


def _batch_send(batch: Batch, recorder: SendRecorder, *, watch: UrgentWatch | None = None) -> DeliveryOutcome:
    if not batch.messages:
        return DeliveryOutcome(delivered=0)
    connection = ses_connection()
    folds = HeaderFolds()  # a batch's messages repeat most of their headers: each is folded once (delivery.mime)
    delivered = 0
    try:
        for index, message in enumerate(batch.messages):
            if watch is not None and index and watch.due():
                first = _batch_send(batch_claim_first(limit=URGENT_CLAIM_LIMIT), recorder)
                delivered += first.delivered
                if first.retry_in is not None:  # SES asked us to wait: this batch waits too
                    recorder.flush(wait=True)
                    release_unstarted([m.pk for m in batch.messages[index:]])
                    return DeliveryOutcome(delivered=delivered, retry_in=first.retry_in)
            hold = batch.blocks.held.get(message.category)
            if hold is not None:
                _hold(message, hold)
                recorder.record_held(message)
                continue
            attachments = batch.attachments[message.pk]
            outcome = _send_groups(connection, message, batch, recorder, folds)
            if outcome.transient:
                recorder.flush(wait=True)  # what was sent is written before the message goes back to the queue
                rest = [m.pk for m in batch.messages[index + 1 :]]
                cost = email_cost(
                    recipients=outcome.sent,
                    attachment_bytes=sum(a.size for a in attachments),
                    category=message.category,
                )
                retry_in = release_for_retry(
                    message=message, statuses=outcome.statuses, cost=cost, reason=outcome.transient
                )
                release_unstarted(rest)
                return DeliveryOutcome(delivered=delivered, retry_in=retry_in)
            _finish(message, outcome, attachment_bytes=sum(a.size for a in attachments))
            recorder.record_finished(message)
            delivered += 1
            if recorder.due():
                recorder.flush()
        recorder.flush()
    finally:
        connection.close()
    return DeliveryOutcome(delivered=delivered)


def _send_groups(
    connection: BaseEmailBackend, message: Message, batch: Batch, recorder: SendRecorder, folds: HeaderFolds
) -> _MessageSend:
    outcome = _MessageSend.of(batch.recipients[message.pk])
    sendable = []
    for r in outcome.pending:
        suppression = batch.blocks.suppressions.matching(r.address, message.category)
        if suppression is None:
            sendable.append(r)
        else:
            recorder.record_suppressed(r, suppression_reason_text(suppression))
            outcome.statuses[RecipientStatus.SUPPRESSED] += 1
    groups = list(recipient_groups(sendable, size=ses_group_size(message.category)))
    try:
        # Read once, whatever the number of calls (marketing goes one recipient per call).
        parts = attachment_parts(attachments=batch.attachments[message.pk]) if groups else []
    except AttachmentUnavailable as exc:  # a stored file is gone: every group fails the same way
        for group in groups:
            recorder.record_failed(group, str(exc))
            outcome.statuses[RecipientStatus.FAILED] += len(group)
        outcome.failure = str(exc)
        return outcome
    except StorageUnavailable as exc:  # like SES throttling: the whole message tries again later
        outcome.transient = str(exc)
        return outcome
    for group in groups:
        email = email_build(message=message, group=group, attachments=parts, header_folds=folds)
        wait = pacing.send_pace_reserve(recipients=len(group))
        if wait > 0:
            slot = time.monotonic() + wait
            if wait * 1000 >= settings.EMAIL_RECORD_MAX_DELAY_MS:
                # Written before a wait longer than outcomes are ever held, so a worker that dies in it resends
                # nothing already sent, and the message's page shows its progress. (A shorter wait is within
                # the recorder's own delay; a write in it would make the call late.)
                recorder.record_progress(message, outcome.statuses)
                recorder.flush(wait=True)
            # Until the slot, not for the wait: a write took some of it. Waiting the whole wait after it sent
            # calls late by the write's time (5 to 20 ms), and late calls beside calls on time put 101 in a second.
            pacing.pause(max(slot - time.monotonic(), 0.0))
        pacing.send_started(recipients=len(group))
        try:
            ses_id = ses_send(connection=connection, email=email)
        except SendTransientError as exc:
            outcome.transient = exc.reason
            return outcome
        except SendPermanentError as exc:
            logger.warning("SES refused message %s: %s", message.pk, exc.reason, extra={"message_id": str(message.pk)})
            recorder.record_failed(group, exc.reason)
            outcome.statuses[RecipientStatus.FAILED] += len(group)
            outcome.failure = outcome.failure or exc.reason
            continue
        # One line per SES call, with both ids: with LOG_FORMAT=json it also carries the request that caused it.
        logger.info(
            "SES accepted message %s for %d recipient(s) as %s",
            message.pk,
            len(group),
            ses_id or "-",
            extra={"message_id": str(message.pk), "ses_message_id": ses_id, "recipients": len(group)},
        )
        recorder.record_sent(group, ses_id)
        outcome.statuses[RecipientStatus.SENT] += len(group)
    return outcome


def email_cost(*, recipients: int, attachment_bytes: int = 0, category: str = "") -> Decimal:
    """SES list price: per recipient, plus per GB (2**30 bytes) of attachments in each SES call carrying them."""
    calls = ses_call_count(addresses=recipients, category=category) if attachment_bytes else 0
    return (
        settings.EMAIL_PRICE_PER_1000_RECIPIENTS * recipients / 1000
        + settings.EMAIL_PRICE_PER_GB_ATTACHMENTS * attachment_bytes * calls / 2**30
    )


def _finish(message: Message, outcome: _MessageSend, *, attachment_bytes: int) -> None:
    """Set the message's outcome once every group has had its SES call (written by the recorder)."""
    message.status = MessageStatus.SENT  # out of its lifecycle: derived from recipients below
    message_counts_apply(message, outcome.statuses)
    message.cost = email_cost(
        recipients=message.sent_count, attachment_bytes=attachment_bytes, category=message.category
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
