"""SES's later events about an erased address, kept under its hash.

SES knows nothing of an erasure: an open, a click or a complaint about mail
sent before it arrives days later with the address in the clear. Such an
event matches no recipient (theirs hold the hash), so only unmatched events
are looked at, one indexed query for the lot: one whose address was erased
is stored under the hash with its details scrubbed, its notification's body
is scrubbed too, and it is applied to the erased recipient as any event
would be (a complaint suppresses the hash, never the address).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace

from emails.models import InboundNotification, Recipient
from emails.pseudonyms import Scrubber, pseudonyms_of
from emails.tracking.parse import ParsedEvent

Parsed = list[tuple[InboundNotification, ParsedEvent]]
Matched = dict[tuple[str, str], Recipient]


def erased_events_hide(parsed: Parsed, matched: Matched) -> Parsed:
    """`parsed` with the events of erased addresses under their hash; their recipients added to `matched`."""
    unmatched = {
        e.address
        for _, e in parsed
        if (e.ses_message_id, e.address) not in matched and (e.crm_message_id, e.address) not in matched
    }
    if not unmatched:
        return parsed
    forms = pseudonyms_of(unmatched)
    found = Recipient.objects.filter(address__in=list(forms)).values_list("address", flat=True).distinct()
    scrubbers = {forms[pseudonym]: Scrubber(address=forms[pseudonym], pseudonym=pseudonym) for pseudonym in found}
    if not scrubbers:
        return parsed
    hidden: Parsed = []
    scrubbed: dict[int, InboundNotification] = {}
    for notification, event in parsed:
        scrub = scrubbers.get(event.address)
        if scrub is not None:
            event = replace(event, address=scrub.pseudonym, details=scrub.json(event.details),
                            reason=scrub.text(event.reason))  # fmt: skip
            notification.body = scrub.document(notification.body)
            scrubbed[notification.pk] = notification
        hidden.append((notification, event))
    for notification in scrubbed.values():
        InboundNotification.objects.filter(pk=notification.pk).update(body=notification.body)
    matched.update(_match(e for _, e in hidden if e.address in {s.pseudonym for s in scrubbers.values()}))
    return hidden


def _match(events: Iterable[ParsedEvent]) -> Matched:
    events = list(events)
    rows = Recipient.objects.filter(
        ses_message_id__in={e.ses_message_id for e in events}, address__in={e.address for e in events}
    )
    return {(r.ses_message_id, r.address): r for r in rows}
