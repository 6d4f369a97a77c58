"""What may happen to an accepted message before or after it goes: cancel, reschedule, resend.

Each change is one conditional UPDATE (or a new message through
`email_queue`), so it holds against a worker claiming the message at the
same moment: the claim moves `queued` to `sending` in one statement, and a
cancel moves `scheduled` or `queued` to `cancelled` in one statement; only
one of them finds the row as it expects.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from django.contrib.auth.models import User
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from emails.accepting.draft import EmailDraft, StoredAttachment
from emails.accepting.services import QueueResult, email_queue
from emails.accepting.validation import send_at_parse
from emails.choices import EventType, MessageStatus, RecipientKind, RecipientStatus
from emails.exceptions import MessageStateConflict
from emails.models import Attachment, Event, Message, Recipient
from emails.templating import message_bodies

CANCELLABLE = (MessageStatus.SCHEDULED, MessageStatus.QUEUED)
# Not sent yet: a resend now would reach its recipients twice.
UNSENT = (
    MessageStatus.SCHEDULED,
    MessageStatus.QUEUED,
    MessageStatus.SENDING,
    MessageStatus.HELD,
    MessageStatus.PAUSED,
)
# Recipients "Retry failed recipients" sends to again: SES or we refused them, or their bounce was transient.
RETRYABLE = (RecipientStatus.FAILED, RecipientStatus.REJECTED)
# A transient bounce is retried unless the recipient got the mail after all, or bounced for good.
SETTLED = (RecipientStatus.DELIVERED, RecipientStatus.OPENED, RecipientStatus.CLICKED, RecipientStatus.BOUNCED,
           RecipientStatus.COMPLAINT)  # fmt: skip
Which = Literal["all", "failed"]


def email_cancel(*, message: Message, by: User | None) -> Message:
    """Cancel a scheduled message, or a queued one no worker has started on; MessageStateConflict otherwise.

    A queued message some of whose recipients already have an outcome (SES
    throttled it half-way and it waits for its retry, or its worker died
    mid-send) went out to them: it is not cancelled.
    """
    now = timezone.now()
    reason = f"Cancelled by {by.get_username()}" if by is not None else "Cancelled"
    started = Recipient.objects.filter(message=OuterRef("pk")).exclude(status=RecipientStatus.QUEUED)
    moved = (
        Message.objects.filter(pk=message.pk, status__in=CANCELLABLE)
        .filter(~Exists(started))
        .update(status=MessageStatus.CANCELLED, status_reason=reason, send_after=None, updated_at=now)
    )
    message.refresh_from_db()
    if not moved:
        raise MessageStateConflict(_why_not(message, "cancelled"))
    return message


def email_reschedule(*, message: Message, send_at: str) -> Message:
    """Move a scheduled message to a new time (the same rule as `sendAt`); MessageStateConflict if not scheduled."""
    when = send_at_parse(send_at)
    moved = Message.objects.filter(pk=message.pk, status=MessageStatus.SCHEDULED).update(
        send_after=when, updated_at=timezone.now()
    )
    message.refresh_from_db()
    if not moved:
        raise MessageStateConflict(_why_not(message, "rescheduled"))
    return message


def _why_not(message: Message, change: str) -> str:
    status = message.get_status_display().lower()
    if message.status == MessageStatus.CANCELLED:
        return f"This message was already cancelled, so it cannot be {change}."
    if change == "rescheduled":
        return f"Only a scheduled message can be rescheduled; this one is {status}."
    if message.status in CANCELLABLE:
        return "Some recipients already got this message (it waits to retry the others), so it cannot be cancelled."
    return f"This message is {status}: only a scheduled message, or a queued one not yet being sent, can be cancelled."


@dataclass(frozen=True)
class ResendPlan:
    to: list[str]
    cc: list[str]
    bcc: list[str]


def retryable(message: Message) -> QuerySet[Recipient]:
    """The recipients "Retry failed recipients" sends to: refused (by SES or us), or bounced transiently and not
    delivered since."""
    transient = Event.objects.filter(recipient=OuterRef("pk"), type=EventType.BOUNCE).exclude(
        details__bounceType="Permanent"
    )
    return Recipient.objects.filter(message=message).filter(
        Q(status__in=RETRYABLE) | (Exists(transient) & ~Q(status__in=SETTLED))
    )


def resend_recipients(*, message: Message, which: Which) -> ResendPlan:
    """Who a resend goes to: everyone, or those that failed or whose bounce was transient, each in their field."""
    recipients = retryable(message) if which == "failed" else Recipient.objects.filter(message=message)
    recipients = recipients.order_by("position")
    fields: dict[str, list[str]] = {kind: [] for kind in RecipientKind.values}
    for recipient in recipients:
        fields[recipient.kind].append(recipient.formatted())
    if not any(fields.values()):
        raise MessageStateConflict("No recipient of this message failed or bounced transiently: nothing to retry.")
    to, cc, bcc = fields[RecipientKind.TO], fields[RecipientKind.CC], fields[RecipientKind.BCC]
    if not to:
        # The retry needs a To: the Cc recipients move up; a single Bcc may too (no one else sees it).
        to, cc = cc, []
    if not to and len(bcc) == 1:
        to, bcc = bcc, []
    if not to:
        raise MessageStateConflict(
            "The recipients to retry were all Bcc: one message to them would show them to each other. "
            "Resend to all recipients instead."
        )
    return ResendPlan(to=to, cc=cc, bcc=bcc)


def email_resend(*, message: Message, by: User, which: Which, idempotency_key: str = "") -> QueueResult:
    """A new message with the original's content, to all its recipients or the failed ones, linked to it.

    The content is what was sent (the rendered bodies), not the template as
    it is now; suppressions and the sender's identity are checked again, as
    for any send. The caller may change the message (its owner, or
    change_all_messages), so the copy carries the original's attachments,
    whosever files they are. A message not yet sent is not resent, nor one whose bodies were removed.
    """
    if message.status in UNSENT:
        raise MessageStateConflict(
            f"This message is {message.get_status_display().lower()}: it has not gone out yet, so a resend would "
            "reach its recipients twice. Cancel it first, or wait until it is sent."
        )
    if message.body_removed_at is not None:
        raise MessageStateConflict(
            "This message's body was removed (by the retention, or an erasure): there is nothing left to resend."
        )
    plan = resend_recipients(message=message, which=which)
    html, text = message_bodies(message)
    files = Attachment.objects.filter(message=message).order_by("position")
    draft = EmailDraft(
        to=plan.to,
        cc=plan.cc,
        bcc=plan.bcc,
        subject=message.subject,
        html=html,
        text=text,
        category=message.category,
        priority=message.priority,
        reply_to=message.reply_to,
        from_email=message.from_email,
        client_id=message.client_id,
        tags=message.tags,
        custom_data=message.custom_data,
        stored_attachments=[StoredAttachment(file_id=a.file_id, filename=a.filename) for a in files],
    )
    return email_queue(owner=by, draft=draft, resent_from=message, idempotency_key=idempotency_key)
