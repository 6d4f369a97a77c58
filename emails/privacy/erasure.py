"""Erasing one address: replaced everywhere by its keyed hash (emails.pseudonyms), in one transaction.

Rewritten: its recipient rows (address, domain and display name), its
events (address, and details naming it), its suppressions, the stored SNS
bodies naming it, bulks' skipped rows and idempotency keys naming it, and
the subject, reason, tags and data of the messages it was on. The bodies of
those messages are removed, except of mail still to be sent to others; its
own recipient rows still waiting are not sent (`suppressed`, with the
reason). Counts, statuses, costs and the events' timeline stay, under the
hash.

Afterwards nothing finds the address (the log's search, the contact page,
the suppression list, the admin), while the send path matches each
recipient's hash too (SuppressionList.of), so an erased, suppressed address
is never mailed again. Erasing again changes nothing and answers zeros.

A message being sent at this very moment may still reach the address (its
worker holds the address in memory); SES's later events about it arrive
with the address in the clear and are stored under the hash
(tracking.erased).
"""

from __future__ import annotations

import logging
import uuid
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from datetime import datetime

from django.contrib.auth.models import AnonymousUser, User
from django.db import transaction
from django.db.models import Count
from django.utils import timezone

from emails.choices import MESSAGE_FINISHED, BodyRemoval, RecipientStatus
from emails.models import Event, IdempotencyKey, InboundNotification, Message, Recipient, Suppression
from emails.outcomes import COUNT_FIELDS, message_counts_apply
from emails.privacy.address import contact_address
from emails.privacy.holdings import bulks_mentioning, chunks, events_of, mentioning, notifications_of
from emails.pseudonyms import Scrubber, address_pseudonyms

logger = logging.getLogger(__name__)

ERASED_REASON = "Not sent: the address was erased on request."


@dataclass(frozen=True)
class ErasureResult:
    """How many rows of each kind changed."""

    recipients: int = 0
    messages: int = 0
    bodies_removed: int = 0
    events: int = 0
    suppressions: int = 0
    notifications: int = 0
    bulks: int = 0
    idempotency_keys: int = 0

    def as_dict(self) -> dict[str, int]:
        return asdict(self)


def contact_erase(
    *, address: str, by: User | AnonymousUser | None = None, now: datetime | None = None
) -> ErasureResult:
    """Replace `address` by its hash everywhere; ValidationFailed when it is not one valid address."""
    address = contact_address(address)
    now = now or timezone.now()
    with transaction.atomic():
        # Every row it was on, erased before or not: a message of it that was still sending the first time
        # has its bodies removed once it is done.
        recipients = list(
            Recipient.objects.select_for_update().filter(address__in=[address, *address_pseudonyms(address)])
        )
        plain = [r for r in recipients if r.address == address]
        scrub = Scrubber.of(address, names=[r.display_name for r in plain])
        message_ids = sorted({r.message_id for r in recipients})
        events = events_of(address=address, recipient_ids=[r.pk for r in recipients], message_ids=message_ids)
        notifications = notifications_of(
            address=address, events=events.values(), ses_ids={r.ses_message_id for r in recipients}
        )
        changed_recipients = _recipients_erase(plain, scrub)
        messages, bodies = _messages_erase(message_ids, scrub, now=now)
        result = ErasureResult(
            recipients=changed_recipients,
            messages=messages,
            bodies_removed=bodies,
            events=_events_erase(events.values(), scrub),
            suppressions=_suppressions_erase(scrub),
            notifications=_notifications_erase(notifications, scrub),
            bulks=_bulks_erase(scrub),
            idempotency_keys=_keys_erase(scrub),
        )
    who = by.get_username() if by is not None and by.is_authenticated else "-"
    logger.info("Address erased as %s by %s: %s", scrub.pseudonym, who, result.as_dict())
    return result


def _recipients_erase(plain: list[Recipient], scrub: Scrubber) -> int:
    """The address's rows under the hash; those still waiting to be sent are not sent. Their messages recounted."""
    waiting: set[uuid.UUID] = set()
    for r in plain:
        r.address, r.domain, r.display_name, r.reason = scrub.pseudonym, "", "", scrub.text(r.reason)
        if r.status == RecipientStatus.QUEUED:
            r.status, r.reason = RecipientStatus.SUPPRESSED, ERASED_REASON
            waiting.add(r.message_id)
    for rows in chunks(plain):
        Recipient.objects.bulk_update(rows, ["address", "domain", "display_name", "reason", "status"])
    _recount(waiting)
    return len(plain)


def _recount(message_ids: Iterable[uuid.UUID]) -> None:
    """Counts from the recipients, as the worker would (message_counts_apply; the status of mail not yet sent
    stays its lifecycle's)."""
    ids = list(message_ids)
    if not ids:
        return
    statuses: dict[uuid.UUID, Counter[str]] = defaultdict(Counter)
    rows = Recipient.objects.filter(message_id__in=ids).values("message_id", "status").annotate(n=Count("pk"))
    for row in rows.order_by():
        statuses[row["message_id"]][row["status"]] = row["n"]
    messages = list(Message.objects.filter(pk__in=ids))
    for message in messages:
        message_counts_apply(message, statuses[message.pk])
    Message.objects.bulk_update(messages, [*COUNT_FIELDS, "status"])


def _messages_erase(message_ids: list[uuid.UUID], scrub: Scrubber, *, now: datetime) -> tuple[int, int]:
    """Scrub what the messages say of the address; remove the bodies of those with nobody left to send to.

    Returns (messages changed, bodies removed).
    """
    waiting: set[uuid.UUID] = set()
    for ids in chunks(message_ids):
        rows = Recipient.objects.filter(message_id__in=ids, status=RecipientStatus.QUEUED)
        waiting.update(rows.values_list("message_id", flat=True).distinct())
    changed = removed = 0
    for ids in chunks(message_ids):
        touched = []
        for message in Message.objects.select_for_update().filter(pk__in=ids).order_by("pk"):
            before = (message.subject, message.status_reason, message.reply_to, message.template_data,
                      message.custom_data, message.tags, message.body_removed_at)  # fmt: skip
            message.subject = scrub.text(message.subject)[:200]
            message.status_reason = scrub.text(message.status_reason)
            if message.reply_to.lower() == scrub.address:
                message.reply_to = ""
            message.template_data = scrub.json(message.template_data)
            message.custom_data = scrub.json(message.custom_data)
            message.tags = scrub.json(message.tags)
            # Mail still to be sent to others keeps its bodies: they are still to receive it. (A bulk's message,
            # whose bodies may be rendered from its data, has one recipient: the address erased, so it is done.)
            done = message.status in MESSAGE_FINISHED or message.pk not in waiting
            if done and message.body_removed_at is None:
                message.html_body = message.text_body = ""
                message.template_data = {}
                message.body_removed_at, message.body_removed_reason = now, BodyRemoval.ERASURE
                removed += 1
            after = (message.subject, message.status_reason, message.reply_to, message.template_data,
                     message.custom_data, message.tags, message.body_removed_at)  # fmt: skip
            if after != before:
                touched.append(message)
        Message.objects.bulk_update(touched, [
            "subject", "status_reason", "reply_to", "template_data", "custom_data", "tags", "html_body", "text_body",
            "body_removed_at", "body_removed_reason",
        ])  # fmt: skip
        changed += len(touched)
    return changed, removed


def _events_erase(events: Iterable[Event], scrub: Scrubber) -> int:
    touched = []
    for event in events:
        address = scrub.pseudonym if event.address.strip().lower() == scrub.address else event.address
        details = scrub.json(event.details)
        if (address, details) != (event.address, event.details):
            event.address, event.details = address, details
            touched.append(event)
    for rows in chunks(touched):
        Event.objects.bulk_update(rows, ["address", "details"])
    return len(touched)


def _notifications_erase(notifications: list[InboundNotification], scrub: Scrubber) -> int:
    touched = []
    for notification in notifications:
        notification.body = scrub.document(notification.body)
        notification.error = scrub.text(notification.error)
        touched.append(notification)
    for rows in chunks(touched):
        InboundNotification.objects.bulk_update(rows, ["body", "error"])
    return len(touched)


def _suppressions_erase(scrub: Scrubber) -> int:
    changed = 0
    for suppression in Suppression.objects.select_for_update().filter(address=scrub.address).order_by("pk"):
        changed += 1
        duplicate = Suppression.objects.filter(
            address=scrub.pseudonym, scope=suppression.scope, lifted_at__isnull=True
        ).exists()
        if suppression.lifted_at is None and duplicate:
            # Erased and suppressed before, suppressed again since: the first one stops the mail already.
            suppression.delete()
            continue
        suppression.address, suppression.detail = scrub.pseudonym, scrub.text(suppression.detail)
        suppression.save(update_fields=["address", "detail"])
    return changed


def _bulks_erase(scrub: Scrubber) -> int:
    changed = 0
    for bulk in bulks_mentioning(scrub.address).select_for_update().only("pk", "skipped"):
        bulk.skipped = scrub.json(bulk.skipped)
        bulk.save(update_fields=["skipped"])
        changed += 1
    return changed


def _keys_erase(scrub: Scrubber) -> int:
    """A client may have made an address part of its Idempotency-Key; kept for a day, but not readable."""
    changed = 0
    for key in IdempotencyKey.objects.select_for_update().filter(mentioning("key", scrub.address)):
        key.key = scrub.text(key.key)[:255]
        key.save(update_fields=["key"])
        changed += 1
    return changed
