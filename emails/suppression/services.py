"""Addresses we do not send to: adding and lifting suppressions, and the one matcher that says who is suppressed."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from django.contrib.auth.models import User
from django.db import IntegrityError, transaction
from django.utils import timezone

from emails.choices import SUPPRESSION_SCOPE_ALL, SUPPRESSION_SCOPES
from emails.models import Event, Suppression
from emails.pseudonyms import pseudonyms_of

SCOPES = frozenset(value for value, _ in SUPPRESSION_SCOPES)


def suppression_add(
    *, address: str, scope: str = SUPPRESSION_SCOPE_ALL, reason: str, detail: str = "", event: Event | None = None
) -> Suppression:
    """Suppress an address (idempotent: an active suppression of that scope is returned as is)."""
    if scope not in SCOPES:
        raise ValueError(f"Not a suppression scope: {scope!r}")
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


@dataclass(frozen=True)
class SuppressionList:
    """The active suppressions of some addresses, in one query; `matching` is the one rule of who is suppressed."""

    by_address: dict[str, list[Suppression]]

    @classmethod
    def of(cls, addresses: Iterable[str]) -> SuppressionList:
        """In one indexed query, matching each address as it is and as it was erased (emails.pseudonyms): an erased,
        suppressed address is never mailed again."""
        wanted = {address.lower() for address in addresses}
        erased = pseudonyms_of(wanted)
        by_address: dict[str, list[Suppression]] = defaultdict(list)
        if wanted:
            rows = Suppression.objects.filter(address__in=wanted | set(erased), lifted_at__isnull=True)
            for s in rows.order_by("created_at"):
                by_address[erased.get(s.address, s.address)].append(s)
        return cls(by_address=dict(by_address))

    def matching(self, address: str, category: str) -> Suppression | None:
        """The oldest active suppression stopping mail of `category` to `address`: of all mail, or of that one."""
        for suppression in self.by_address.get(address.lower(), ()):
            if suppression.scope in (SUPPRESSION_SCOPE_ALL, category):
                return suppression
        return None


def suppression_reason_text(suppression: Suppression) -> str:
    scope = "all mail" if suppression.scope == SUPPRESSION_SCOPE_ALL else f"{suppression.scope} mail"
    when = suppression.created_at.strftime("%Y-%m-%d")
    return f"Suppressed for {scope}: {suppression.get_reason_display().lower()} on {when}"
