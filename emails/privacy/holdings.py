"""Where one address is held: the rows an export shows and an erasure rewrites, each found through an index.

- recipients: by address (recipient_address);
- events: through those recipients, and those no recipient matched by
  address (event_unmatched_address); plus events of the same messages whose
  details name the address (a click's link, say);
- stored SNS bodies: those whose events concern the mail the address was on
  (the same SES message ids: a bounce of another recipient lists every
  destination), and those not applied or that failed to apply, which have no
  events; of these, the ones whose body names the address;
- suppressions by address; bulks whose skipped rows name it.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from functools import reduce
from operator import or_
from typing import Any

from django.db.models import Q, QuerySet

from emails.models import Bulk, Event, InboundNotification, Recipient
from emails.pseudonyms import address_forms

CHUNK = 500


def chunks(items: list[Any], size: int = CHUNK) -> Iterator[list[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def mentioning(field: str, address: str) -> Q:
    """Rows whose `field` holds the address (as it is, or JSON-escaped), whatever its case."""
    return reduce(or_, (Q(**{f"{field}__icontains": form}) for form in address_forms(address)))


def recipients_of(addresses: Iterable[str]) -> QuerySet[Recipient]:
    return Recipient.objects.filter(address__in=list(addresses))


def events_of(
    *, address: str, recipient_ids: list[int], message_ids: list[Any], limit: int | None = None
) -> dict[int, Event]:
    """The address's events by id: its recipients', the unmatched ones naming it, and its messages' mentioning it.

    With `limit`, the search stops once more than that many were found (an export cuts there).
    """
    found: dict[int, Event] = {}

    def full() -> bool:
        return limit is not None and len(found) > limit

    for ids in chunks(recipient_ids):
        found.update((e.pk, e) for e in Event.objects.filter(recipient_id__in=ids))
        if full():
            return found
    found.update((e.pk, e) for e in Event.objects.filter(recipient__isnull=True, address=address))
    for ids in chunks(message_ids):
        if full():
            return found
        rows = Event.objects.filter(message_id__in=ids).filter(mentioning("details", address))
        found.update((e.pk, e) for e in rows)
    return found


def notifications_of(
    *, address: str, events: Iterable[Event], ses_ids: Iterable[str], limit: int | None = None
) -> list[InboundNotification]:
    """Stored SNS bodies (not removed) that name the address, oldest first; with `limit`, up to one more than that."""
    inbound = {e.inbound_id for e in events if e.inbound_id is not None}
    ses = sorted({*ses_ids, *(e.ses_message_id for e in events)} - {""})
    for ids in chunks(ses):
        inbound.update(
            Event.objects.filter(ses_message_id__in=ids, inbound__isnull=False).values_list("inbound_id", flat=True)
        )
    kept = InboundNotification.objects.filter(body_removed_at__isnull=True).filter(mentioning("body", address))
    found: dict[int, InboundNotification] = {}
    for ids in chunks(sorted(inbound)):
        found.update((n.pk, n) for n in kept.filter(pk__in=ids))
        if limit is not None and len(found) > limit:
            break
    # Without events of their own: waiting to be applied, or failed to.
    found.update((n.pk, n) for n in kept.filter(processed_at__isnull=True))
    found.update((n.pk, n) for n in kept.filter(processed_at__isnull=False).exclude(error=""))
    return sorted(found.values(), key=lambda n: n.pk)


def bulks_mentioning(address: str) -> QuerySet[Bulk]:
    """Bulks whose skipped rows name the address (the bulk table is small: one row per bulk, not per person)."""
    return Bulk.objects.filter(mentioning("skipped", address))
