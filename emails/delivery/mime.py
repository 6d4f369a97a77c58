"""Building the MIME that leaves, with Django's mail classes.

Serialising is most of a send's CPU, and Python's email package spends it on
two things a message need not repeat (docs/benchmarks.md, issue 12):

- **Folding headers.** Each header of each message goes through
  email.header.Header. The messages of a batch repeat most of theirs (From,
  Reply-To, and each part's MIME-Version, Content-Type and
  Content-Transfer-Encoding), so the drain serialises a batch with one
  `HeaderFolds` policy, which folds each distinct header once.
- **Checking the boundary.** The generator compiles a pattern for each new
  boundary to check that no line of the text is it. A text with its HTML
  alternative gets its boundary here, made as the generator makes one, when
  it is in neither body (a plain substring test, stricter than the
  generator's line test); otherwise, and for mail with attachments, the
  generator still chooses it.
"""

from __future__ import annotations

import html
import random
import re
import sys
from collections.abc import Iterator, Sequence
from email.message import Message as MIMEMessage
from email.mime.base import MIMEBase
from email.policy import Compat32
from typing import Any

from django.conf import settings
from django.core.mail import EmailMultiAlternatives

from emails.choices import Category, RecipientKind
from emails.models import Message, Recipient
from emails.suppression import preferences_url, unsubscribe_url
from emails.templating import message_bodies

# SES counts every address in To, Cc and Bcc against this, per call.
SES_MAX_ADDRESSES_PER_CALL = 50


def ses_group_size(category: str) -> int:
    """Marketing goes one recipient per call, so each carries its own unsubscribe link (RFC 8058)."""
    return 1 if category == Category.MARKETING else SES_MAX_ADDRESSES_PER_CALL


def ses_call_count(*, addresses: int, category: str = "") -> int:
    """How many SES calls a send to this many addresses becomes."""
    size = ses_group_size(category)
    return -(-addresses // size)


def recipient_groups(
    recipients: Sequence[Recipient], size: int = SES_MAX_ADDRESSES_PER_CALL
) -> Iterator[list[Recipient]]:
    """Split recipients, in order, into groups SES accepts in one call."""
    for start in range(0, len(recipients), size):
        yield list(recipients[start : start + size])


_ONE_LINE = re.compile(r"[\x21-\x7e](?:[\x20-\x7e]*[\x21-\x7e])?")  # printable ASCII, no space at either end
MAX_FOLDS = 2_000  # headers one HeaderFolds keeps: a batch's shared ones, and subjects, with room to spare


# Headers each message has of its own (its recipients, its id, its tags, its unsubscribe link): never kept, so a
# large batch's own headers neither crowd out the shared ones nor hold its recipients' addresses.
_OWN = frozenset({"to", "cc", "date", "message-id", "x-ses-message-tags", "list-unsubscribe"})


class HeaderFolds(Compat32):
    """The policy Django's messages use (compat32), folding each distinct header once: one per batch of messages.

    A header's folded form is a function of its name, its value and the
    policy's settings, which are the key. A value that is not a str (an
    email.header.Header) is folded each time; one of printable ASCII that fits
    on its line (a Date, a Message-ID, most To) is what folding gives back.
    Clones (the generator makes one for each message) share what was folded;
    policies take no attributes but their settings, so the store is set
    around that guard.
    """

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        object.__setattr__(self, "_folded", {})

    def __repr__(self) -> str:  # compat32's would list the store: subjects and senders of a batch's mail
        folded: dict[tuple[Any, ...], bytes] = self._folded  # type: ignore[attr-defined]
        return f"<HeaderFolds: {len(folded)} headers>"

    def fold_binary(self, name: str, value: Any) -> bytes:
        if type(value) is not str:
            return super().fold_binary(name, value)
        limit = self.max_line_length
        if limit is not None and len(name) + 2 + len(value) <= limit and _ONE_LINE.fullmatch(value):
            # Printable ASCII that fits on the line: compat32 gives it back as it is (tests/emails/test_mime.py).
            return f"{name}: {value}{self.linesep}".encode("ascii")
        if name.lower() in _OWN:
            return super().fold_binary(name, value)
        folded: dict[tuple[Any, ...], bytes] = self._folded  # type: ignore[attr-defined]
        key = (name, value, self.linesep, self.max_line_length, self.cte_type)
        found = folded.get(key)
        if found is None:
            found = super().fold_binary(name, value)
            if len(folded) < MAX_FOLDS:
                folded[key] = found
        return found


class _Email(EmailMultiAlternatives):
    """Django's message, serialised with a batch's HeaderFolds (when given) and boundaries already chosen."""

    header_folds: HeaderFolds | None = None

    def message(self) -> Any:
        msg = super().message()
        if self.header_folds is not None:
            msg.policy = self.header_folds  # the generator folds every part's headers with the message's policy
        if (
            msg.is_multipart()
            and not self.attachments
            and (self.encoding or settings.DEFAULT_CHARSET).lower() == "utf-8"
        ):
            _boundary_choose(msg, [self.body, *(content for content, _mimetype in self.alternatives)])
        return msg


def _token() -> int:
    """A boundary's number, drawn as the generator draws one (no secret: it only has to differ from the text)."""
    return random.randrange(sys.maxsize)


def _boundary_choose(msg: MIMEMessage, bodies: list[Any]) -> None:
    """The multipart's boundary, as email.generator makes one, when it is in none of the bodies; else the generator's
    own check chooses it. Only for a text and its alternatives: their parts' headers are Django's own, and their
    payloads are the bodies as given or encoded from them (quoted-printable, base64), which cannot spell it.
    That holds for UTF-8, whose encoding of a str adds no ASCII (a stateful 7-bit charset such as ISO-2022-JP could:
    mail in any other charset keeps the generator's check)."""
    boundary = "=" * 15 + f"{_token():019d}=="  # as the generator makes it
    if all(isinstance(body, str) and boundary not in body for body in bodies):
        msg.set_boundary(boundary)


def email_build(
    *,
    message: Message,
    group: Sequence[Recipient],
    attachments: Sequence[MIMEBase] = (),
    header_folds: HeaderFolds | None = None,
) -> EmailMultiAlternatives:
    """The message for one group: its headers show only that group's To and Cc.

    `attachments` are the parts emails.delivery.parts read from storage;
    `header_folds` is the policy of the batch it is sent in (a batch's
    messages repeat most of their headers), or None to fold them all.

    Django encodes non-ASCII subjects and names, and raises BadHeaderError on
    a line break in any header, so nothing can be injected here.
    """
    to = [r.formatted() for r in group if r.kind == RecipientKind.TO]
    cc = [r.formatted() for r in group if r.kind == RecipientKind.CC]
    bcc = [r.formatted() for r in group if r.kind == RecipientKind.BCC]
    headers = {
        # SES copies these tags into every event it publishes for the call,
        # which lets events find the message even before its MessageId is known.
        "X-SES-MESSAGE-TAGS": f"crm_message_id={message.id}, category={message.category}",
    }
    html_body, text_body = message_bodies(message)
    if message.category == Category.MARKETING and len(group) == 1:
        # RFC 8058 one-click unsubscribe: mail providers POST to the link.
        link = unsubscribe_url(address=group[0].address, category=message.category)
        headers["List-Unsubscribe"] = f"<{link}>"
        headers["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
        html_body, text_body = _with_footer(html_body, text_body, preferences_url(address=group[0].address))
    email = _Email(
        subject=message.subject,
        body=text_body or html_body,
        from_email=message.from_email,
        to=to,
        cc=cc,
        bcc=bcc,
        reply_to=[message.reply_to] if message.reply_to else None,
        headers=headers,
    )
    if html_body and text_body:
        email.attach_alternative(html_body, "text/html")
    elif html_body:
        email.content_subtype = "html"
    for part in attachments:
        email.attach(part)
    email.header_folds = header_folds
    return email


def _with_footer(html_body: str, text_body: str, link: str) -> tuple[str, str]:
    """Marketing mail's footer: the link to the preference centre, where the address chooses what it receives."""
    if text_body:
        text_body = f"{text_body.rstrip()}\n\n--\nChoose which emails you receive, or unsubscribe: {link}\n"
    if html_body:
        footer = (
            '<p style="margin-top:24px;font-size:12px;color:#4b5563;font-family:Arial,sans-serif">'
            f'<a href="{html.escape(link)}" style="color:#1d4ed8">Choose which emails you receive, or unsubscribe</a>'
            "</p>"
        )
        end = html_body.lower().rfind("</body")
        html_body = html_body[:end] + footer + html_body[end:] if end >= 0 else html_body + footer
    return html_body, text_body
