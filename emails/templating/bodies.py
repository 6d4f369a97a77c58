"""A message's HTML and text: stored with it, or, for most bulks' messages, rendered again from the bulk when read.

A bulk of 100,000 stores 100,000 copies of one template with a few values
changed: 4 KB a message, most of what accepting it costs the database
(docs/benchmarks.md, issue 12). When the bulk's bodies are a function of
each message's data alone (`Compiled.bodies_repeatable`: text and plain
variables, the CSS inlined into the source and the text derived from it
once), they are not stored: the bulk keeps the sources it was accepted with
and what the context held, each message keeps its data, and the bodies are
rendered again wherever they are read (sending, the message page, the API,
the admin, a resend). That gives, byte for byte, what accepting rendered.

Removing a message's bodies (retention, erasure) sets `body_removed_at` and
empties its data, so there is nothing left to render. (Erasure keeps the
bodies of mail still to go to others; a bulk's message has one recipient,
the address erased, so its bodies are always removed with its data.)
"""

from __future__ import annotations

import uuid
from functools import lru_cache

from emails.models import Bulk, Message
from emails.templating.rendering import Compiled

_MEMO = "_bodies_rendered"


def bodies_stored(message: Message) -> bool:
    """Whether the message's bodies are what it stores (False: they are rendered from its bulk)."""
    if message.bulk_id is None or message.html_body or message.text_body or message.body_removed_at is not None:
        return True
    return _bulk_compiled(message.bulk_id) is None


def message_bodies(message: Message) -> tuple[str, str]:
    """The message's HTML and text, as they go out (before the unsubscribe footer)."""
    if bodies_stored(message):
        return message.html_body, message.text_body
    # Readers ask for both halves apart (the API's htmlContent and textContent, the admin's two fields): rendered once
    # per instance, for as long as it holds the same data.
    data = message.template_data
    memo = message.__dict__.get(_MEMO)
    if memo is not None and memo[0] is data:
        return memo[1]
    compiled = _bulk_compiled(message.bulk_id)
    assert compiled is not None  # bodies_stored said so
    rendered = compiled.render(data)
    message.__dict__[_MEMO] = (data, (rendered.html, rendered.text))
    return rendered.html, rendered.text


@lru_cache(maxsize=64)
def _bulk_compiled(bulk_id: uuid.UUID) -> Compiled | None:
    """The bulk's template as accepted, compiled once per process; None when its messages store their bodies.

    What is cached never changes: a bulk's sources are written once, when it is accepted.
    """
    bulk = Bulk.objects.filter(pk=bulk_id, bodies_stored=False).values(
        "subject_source", "html_source", "text_source", "provided"
    ).first()  # fmt: skip
    if bulk is None:
        return None
    return Compiled(subject=bulk["subject_source"], html=bulk["html_source"], text=bulk["text_source"],
                    provided_values=bulk["provided"])  # fmt: skip
