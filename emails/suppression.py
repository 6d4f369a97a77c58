"""Addresses we do not send to, the one-click unsubscribe that adds them, and the reputation guard."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.contrib.auth.models import User
from django.core import signing
from django.db import IntegrityError, transaction
from django.db.models import Count, Q
from django.urls import reverse
from django.utils import timezone

from emails.choices import SUPPRESSION_SCOPE_ALL, Category, MessageStatus, RecipientStatus, SuppressionReason
from emails.models import Event, Message, Recipient, ReputationHold, Suppression

logger = logging.getLogger(__name__)

_UNSUBSCRIBE_SALT = "emails.unsubscribe"


def suppression_add(
    *, address: str, scope: str = SUPPRESSION_SCOPE_ALL, reason: str, detail: str = "", event: Event | None = None
) -> Suppression:
    """Suppress an address (idempotent: an active suppression of that scope is returned as is)."""
    address = address.strip().lower()
    existing = Suppression.objects.filter(address=address, scope=scope, lifted_at__isnull=True).first()
    if existing is not None:
        return existing
    try:
        with transaction.atomic():
            return Suppression.objects.create(address=address, scope=scope, reason=reason, detail=detail, event=event)
    except IntegrityError:  # another worker suppressed it a moment ago
        return Suppression.objects.get(address=address, scope=scope, lifted_at__isnull=True)


def suppression_lift(*, suppression: Suppression, by: User | None) -> Suppression:
    """Lift a suppression; the record stays, for the history."""
    if suppression.lifted_at is None:
        suppression.lifted_at = timezone.now()
        suppression.lifted_by = by
        suppression.save(update_fields=["lifted_at", "lifted_by"])
    return suppression


def suppressed_addresses(*, addresses: Iterable[str], category: str) -> dict[str, Suppression]:
    """Which of these addresses may not receive mail of this category, and why."""
    found = Suppression.objects.filter(
        address__in=set(addresses), lifted_at__isnull=True, scope__in=[SUPPRESSION_SCOPE_ALL, category]
    ).order_by("created_at")
    return {s.address: s for s in found}


def suppression_reason_text(suppression: Suppression) -> str:
    scope = "all mail" if suppression.scope == SUPPRESSION_SCOPE_ALL else f"{suppression.scope} mail"
    when = suppression.created_at.strftime("%Y-%m-%d")
    return f"Suppressed for {scope}: {suppression.get_reason_display().lower()} on {when}"


# --- One-click unsubscribe (RFC 8058) ---------------------------------------


def unsubscribe_token(*, address: str, category: str) -> str:
    return signing.dumps({"a": address.lower(), "c": category}, salt=_UNSUBSCRIBE_SALT, compress=True)


def unsubscribe_token_read(token: str) -> tuple[str, str]:
    """The address and category a token names; raises signing.BadSignature when forged."""
    data: Any = signing.loads(token, salt=_UNSUBSCRIBE_SALT)
    if not isinstance(data, dict) or not isinstance(data.get("a"), str) or not isinstance(data.get("c"), str):
        raise signing.BadSignature("Malformed unsubscribe token")
    return data["a"], data["c"]


def unsubscribe_url(*, address: str, category: str) -> str:
    path = reverse("emails:unsubscribe", kwargs={"token": unsubscribe_token(address=address, category=category)})
    return f"{settings.PUBLIC_BASE_URL.rstrip('/')}{path}"


def unsubscribe(*, token: str) -> Suppression:
    address, category = unsubscribe_token_read(token)
    return suppression_add(
        address=address, scope=category, reason=SuppressionReason.UNSUBSCRIBE, detail="One-click unsubscribe"
    )


# --- Reputation guard -------------------------------------------------------


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
    from emails.dispatch import email_dispatch

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
            email_dispatch(message_id=message_id, priority=priority)
    return len(held)
