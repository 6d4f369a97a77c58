"""The reputation guard: marketing is held while the trailing bounce or complaint rate is at SES's review level."""

from __future__ import annotations

import logging
from datetime import timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.contrib.auth.models import User
from django.db import transaction
from django.db.models import Count, Q
from django.utils import timezone

from emails.choices import Category, MessageStatus, RecipientStatus
from emails.models import Message, Recipient, ReputationHold
from emails.scheduling import email_send_schedule

logger = logging.getLogger(__name__)


def reputation_rates(*, hours: int = 24) -> dict[str, Any]:
    """Bounce and complaint rates over recipients SES accepted in the trailing window."""
    since = timezone.now() - timedelta(hours=hours)
    counts = Recipient.objects.filter(sent_at__gte=since).aggregate(
        sent=Count("pk"),
        bounced=Count("pk", filter=Q(status=RecipientStatus.BOUNCED)),
        complaints=Count("pk", filter=Q(status=RecipientStatus.COMPLAINT)),
    )
    sent = counts["sent"] or 0
    return {
        "sent": sent,
        "bounced": counts["bounced"],
        "complaints": counts["complaints"],
        "bounceRate": (Decimal(counts["bounced"]) / sent) if sent else Decimal(0),
        "complaintRate": (Decimal(counts["complaints"]) / sent) if sent else Decimal(0),
    }


def reputation_hold_active(*, category: str) -> ReputationHold | None:
    return ReputationHold.objects.filter(category=category, resumed_at__isnull=True).first()


def reputation_check() -> ReputationHold | None:
    """Hold marketing mail when the trailing 24 h bounce or complaint rate reaches its threshold."""
    rates = reputation_rates()
    if rates["sent"] < settings.REPUTATION_MIN_SENT:
        return None
    reasons = []
    if rates["bounceRate"] >= settings.REPUTATION_MAX_BOUNCE_RATE:
        reasons.append(f"bounce rate {rates['bounceRate']:.2%} (limit {settings.REPUTATION_MAX_BOUNCE_RATE:.2%})")
    if rates["complaintRate"] >= settings.REPUTATION_MAX_COMPLAINT_RATE:
        reasons.append(
            f"complaint rate {rates['complaintRate']:.2%} (limit {settings.REPUTATION_MAX_COMPLAINT_RATE:.2%})"
        )
    if not reasons or reputation_hold_active(category=Category.MARKETING):
        return None
    reason = f"Marketing held: trailing 24 h {' and '.join(reasons)} over {rates['sent']} recipients."
    logger.warning(reason)
    return ReputationHold.objects.create(category=Category.MARKETING, reason=reason)


def reputation_resume(*, hold: ReputationHold, by: User | None) -> int:
    """Lift a hold and queue the messages it held again; returns how many."""
    with transaction.atomic():
        hold.resumed_at = timezone.now()
        hold.resumed_by = by
        hold.save(update_fields=["resumed_at", "resumed_by"])
        held = list(
            Message.objects.filter(status=MessageStatus.HELD, category=hold.category).values_list("pk", "priority")
        )
        Message.objects.filter(pk__in=[pk for pk, _ in held]).update(
            status=MessageStatus.QUEUED, status_reason="", updated_at=timezone.now()
        )
        for message_id, priority in held:
            email_send_schedule(message_id=message_id, priority=priority)
    return len(held)
