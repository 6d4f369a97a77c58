"""Reads of the email log: the list and its summary, one message, the quota, suppressions and holds."""

from __future__ import annotations

import uuid
from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from django.contrib.auth.models import AnonymousUser, User
from django.db.models import Q, QuerySet
from django.utils import timezone

from core.text import uuid_parse
from emails.choices import MessageStatus, RecipientStatus
from emails.delivery import send_backlog, send_rate, ses_quota_cached
from emails.exceptions import HoldNotFound, MessageForbidden, MessageNotFound, SuppressionNotFound
from emails.models import Message, Recipient, ReputationHold, Suppression, Template
from emails.outcomes import RECIPIENT_RANK
from emails.selectors.counting import message_summary

VIEW_ALL_PERMISSION = "emails.view_all_messages"
CHANGE_ALL_PERMISSION = "emails.change_all_messages"

SORT_FIELDS = {
    "createdAt": "created_at",
    "sentAt": "sent_at",
    "subject": "subject",
    "status": "status",
    "priority": "priority",
    "category": "category",
    "cost": "cost",
    "recipients": "recipient_count",
}


@dataclass(frozen=True)
class EmailFilters:
    status: str = ""
    category: str = ""
    priority: str = ""
    client_id: str = ""
    owner_id: int | None = None
    template: Template | None = None
    bulk_id: uuid.UUID | None = None
    start_date: date | None = None
    end_date: date | None = None
    search: str = ""
    recipient_status: str = ""
    sort_by: str = "createdAt"
    sort_order: str = "desc"


def messages_visible_to(user: User | AnonymousUser) -> QuerySet[Message]:
    """A user's own messages; staff with the permission see everyone's."""
    if not user.is_authenticated:
        return Message.objects.none()
    if user.has_perm(VIEW_ALL_PERMISSION):
        return Message.objects.all()
    return Message.objects.filter(owner=user)


def _day_start(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


def email_list(*, user: User | AnonymousUser, filters: EmailFilters) -> QuerySet[Message]:
    qs = messages_visible_to(user)
    if filters.status:
        qs = qs.filter(status=filters.status)
    if filters.category:
        qs = qs.filter(category=filters.category)
    if filters.priority:
        qs = qs.filter(priority=filters.priority)
    if filters.client_id:
        qs = qs.filter(client_id=filters.client_id)
    if filters.bulk_id is not None:
        qs = qs.filter(bulk_id=filters.bulk_id)
    if filters.owner_id is not None:
        qs = qs.filter(owner_id=filters.owner_id)
    if filters.template is not None:
        qs = qs.filter(template=filters.template)
    if filters.start_date:
        qs = qs.filter(created_at__gte=_day_start(filters.start_date))
    if filters.end_date:
        # The end date is inclusive: the whole of that day.
        qs = qs.filter(created_at__lt=_day_start(filters.end_date + timedelta(days=1)))
    if filters.recipient_status:
        qs = qs.filter(pk__in=Recipient.objects.filter(status=filters.recipient_status).values("message_id"))
    if filters.search:
        term = filters.search.strip()
        match = Q(subject__icontains=term) | Q(client_id=term)
        match |= Q(pk__in=Recipient.objects.filter(address__icontains=term.lower()).values("message_id"))
        message_id = uuid_parse(term)
        if message_id is not None:
            match |= Q(pk=message_id)
        qs = qs.filter(match)
    order = SORT_FIELDS.get(filters.sort_by, "created_at")
    prefix = "" if filters.sort_order == "asc" else "-"
    return qs.order_by(f"{prefix}{order}", f"{prefix}pk")


def email_stats(*, messages: QuerySet[Message]) -> dict[str, Any]:
    """Totals and breakdowns of a filtered log in one GROUP BY, with its outcomes, as the dashboard counts them."""
    summary = message_summary(messages)
    outcomes = summary.outcomes()
    return {
        **summary.stats(),
        "totalSent": outcomes["sent"],
        "totalDelivered": outcomes["delivered"],
        "totalBounced": outcomes["bounced"],
        "totalComplained": outcomes["complained"],
        "totalSuppressed": outcomes["suppressed"],
        "totalFailed": outcomes["failed"],
    }


def email_get_changeable(*, user: User | AnonymousUser, message_id: uuid.UUID) -> Message:
    """A message the user may cancel, reschedule or resend: their own, or anyone's with change_all_messages.

    MessageNotFound if they may not even see it; MessageForbidden if they see it (view_all_messages) but it
    is someone else's.
    """
    message = email_get(user=user, message_id=message_id)
    if not email_changeable_by(user=user, message=message):
        raise MessageForbidden("You may see this email but not change it: it is another user's.")
    return message


def email_changeable_by(*, user: User | AnonymousUser, message: Message) -> bool:
    return bool(user.is_authenticated and (message.owner_id == user.pk or user.has_perm(CHANGE_ALL_PERMISSION)))


def email_resends(*, user: User | AnonymousUser, message: Message) -> list[Message]:
    """The messages sent again from this one that the user may see, oldest first."""
    return list(messages_visible_to(user).filter(resent_from=message).only("pk", "created_at").order_by("created_at"))


def email_get(*, user: User | AnonymousUser, message_id: uuid.UUID) -> Message:
    """One message the user may see, with recipients and events; MessageNotFound otherwise."""
    try:
        return (
            messages_visible_to(user)
            .select_related("owner", "template")
            .prefetch_related("recipients", "events__recipient")
            .get(pk=message_id)
        )
    except Message.DoesNotExist:
        raise MessageNotFound("Email not found") from None


@dataclass(frozen=True)
class Outcome:
    status: str
    label: str
    count: int


def email_outcomes(message: Message) -> list[Outcome]:
    """How many of a message's recipients (email_get prefetched them) ended each way, problems first, as the
    message's own status is derived."""
    labels = dict(RecipientStatus.choices)
    counts = Counter(r.status for r in message.recipients.all())
    ranked = sorted(counts.items(), key=lambda kv: (-RECIPIENT_RANK[kv[0]], kv[0]))
    return [Outcome(status=status, label=labels[status], count=n) for status, n in ranked]


def email_quota() -> dict[str, Any]:
    """SES's quota and 24 h usage, asked of SES at most once per cache period."""
    return ses_quota_cached()


# How long after its first SES call a page keeps asking whether SES reported on a message.
LIVE_WINDOW = timedelta(minutes=15)


def email_in_flight(message: Message) -> bool:
    """Whether a page showing the message should keep asking for news: not sent yet, or sent so lately that
    SES may still report on recipients it has not reported on."""
    if message.status in (MessageStatus.QUEUED, MessageStatus.SENDING):
        return True
    if message.sent_at is None or message.sent_at < timezone.now() - LIVE_WINDOW:
        return False
    return message.delivered_count + message.bounced_count < message.sent_count


def messages_in_flight(*, user: User | AnonymousUser, message_ids: list[uuid.UUID]) -> list[Message]:
    """Of these messages (a page's), the ones the user may see, with their recipients: what a live page redraws."""
    found = messages_visible_to(user).filter(pk__in=message_ids).select_related("owner").prefetch_related("recipients")
    return list(found)


@dataclass(frozen=True)
class RateWait:
    """A message waiting for SES's send rate: how much sending is reserved ahead of it, at what rate."""

    seconds: float
    rate: float


def email_rate_wait(*, message: Message) -> RateWait | None:
    """Whether a message not sent yet is held back by the send rate (a backlog of more than a second)."""
    if message.status not in (MessageStatus.QUEUED, MessageStatus.SENDING):
        return None
    backlog = send_backlog()
    return RateWait(seconds=backlog, rate=send_rate()) if backlog > 1 else None


def suppression_list(
    *, search: str = "", reason: str = "", scope: str = "", active: bool = True
) -> QuerySet[Suppression]:
    rows = Suppression.objects.select_related("lifted_by").order_by("-created_at", "-pk")
    rows = rows.filter(lifted_at__isnull=True) if active else rows.filter(lifted_at__isnull=False)
    if search:
        rows = rows.filter(address__icontains=search.strip().lower())
    if reason:
        rows = rows.filter(reason=reason)
    if scope:
        rows = rows.filter(scope=scope)
    return rows


def suppression_get(*, suppression_id: int) -> Suppression:
    try:
        return Suppression.objects.get(pk=suppression_id)
    except Suppression.DoesNotExist:
        raise SuppressionNotFound("Suppression not found") from None


def reputation_holds_active() -> QuerySet[ReputationHold]:
    return ReputationHold.objects.filter(resumed_at__isnull=True)


def reputation_hold_get(*, hold_id: int) -> ReputationHold:
    """An active hold; HoldNotFound when there is none with that id (or it was resumed)."""
    try:
        return reputation_holds_active().get(pk=hold_id)
    except ReputationHold.DoesNotExist:
        raise HoldNotFound("No active hold with that id") from None
