"""Building the MIME that leaves, with Django's mail classes."""

from __future__ import annotations

import html
from collections.abc import Iterator, Sequence
from email.mime.base import MIMEBase

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


def email_build(
    *, message: Message, group: Sequence[Recipient], attachments: Sequence[MIMEBase] = ()
) -> EmailMultiAlternatives:
    """The message for one group: its headers show only that group's To and Cc.

    `attachments` are the parts emails.delivery.parts read from storage.

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
    email = EmailMultiAlternatives(
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
