"""The preference centre: which categories of mail an address receives, chosen by the address itself.

A choice is a suppression scoped to the category, with reason
`unsubscribe`, so staff see it with every other suppression and the next send
honours it through the one matcher (SuppressionList). Auth and system mail
cannot be turned off: they are how people sign in and hear about their
account.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from django.conf import settings
from django.urls import reverse

from emails.choices import SUPPRESSION_SCOPE_ALL, Category, SuppressionReason
from emails.models import Suppression
from emails.suppression.services import suppression_add, suppression_lift
from emails.suppression.unsubscribe import preferences_token

CHOOSABLE = (Category.MARKETING, Category.NOTIFICATION, Category.CLIENT_PORTAL)
ALWAYS_SENT = (Category.AUTH, Category.SYSTEM)


@dataclass(frozen=True)
class Preferences:
    address: str
    receives: dict[str, bool]  # each choosable category
    blocked: Suppression | None  # a suppression of all mail (a bounce, a complaint, staff): not the address's choice


def preferences_url(*, address: str) -> str:
    path = reverse("emails:preferences", kwargs={"token": preferences_token(address=address)})
    return f"{settings.PUBLIC_BASE_URL.rstrip('/')}{path}"


def preferences_of(*, address: str) -> Preferences:
    address = address.strip().lower()
    active = list(Suppression.objects.filter(address=address, lifted_at__isnull=True).order_by("created_at"))
    scopes = {s.scope for s in active}
    blocked = next((s for s in active if s.scope == SUPPRESSION_SCOPE_ALL), None)
    return Preferences(
        address=address, receives={category: category not in scopes for category in CHOOSABLE}, blocked=blocked
    )


def preferences_set(*, address: str, receives: Iterable[str]) -> Preferences:
    """Receive exactly the choosable categories in `receives`: unsubscribe from the others, resubscribe to these.

    A resubscribe lifts only the address's own unsubscribes; a suppression
    staff or a bounce put on a category stays (staff lift those).
    """
    address = address.strip().lower()
    wanted = set(receives)
    for category in CHOOSABLE:
        current = Suppression.objects.filter(address=address, scope=category, lifted_at__isnull=True).first()
        if category in wanted and current is not None and current.reason == SuppressionReason.UNSUBSCRIBE:
            suppression_lift(suppression=current, by=None)
        elif category not in wanted and current is None:
            suppression_add(
                address=address, scope=category, reason=SuppressionReason.UNSUBSCRIBE, detail="Preference centre"
            )
    return preferences_of(address=address)
