"""One message's page: header, outcomes, recipients (filtered, paged), events, attachments, the bodies.

While the message is in flight the page asks for its changing parts again
every PAGES_LIVE_POLL_SECONDS (htmx), and stops once nothing is pending.

The HTML body is shown sanitised in a sandboxed srcdoc iframe, which
inherits the page's CSP: images only from here or data: URLs, so opening a
message tells no sender it was opened. "Load remote images" shows the page
again with the body framed from BodyView instead, whose own policy allows
images from anywhere and still nothing else.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.decorators import method_decorator
from django.views import View

from core.content_policy import csp_preview_styles, csp_remote_images_body
from core.http import query_without_blanks
from emails.accepting import UNSENT, retryable
from emails.choices import RecipientStatus
from emails.delivery import SES_MAX_ADDRESSES_PER_CALL, ses_call_count
from emails.exceptions import MessageNotFound
from emails.models import Event, Message, Recipient
from emails.pages.live import LivePollMixin
from emails.selectors import (
    email_changeable_by,
    email_get,
    email_in_flight,
    email_outcomes,
    email_rate_wait,
    email_resends,
)
from emails.templating import html_remote_images, html_sanitise, message_bodies

RECIPIENTS_PER_PAGE = 50
# The poll's parameter holding what the page last announced.
SAID = "said"
# The page's parameter asking for the HTML body with its remote images (IMAGES=REMOTE).
IMAGES, REMOTE = "images", "remote"


@dataclass(frozen=True)
class RecipientRow:
    recipient: Recipient
    last_event: Event | None


def _message(request: HttpRequest, message_id: uuid.UUID) -> Message:
    try:
        return email_get(user=request.user, message_id=message_id)
    except MessageNotFound:
        raise Http404("No such message.") from None


def message_context(request: HttpRequest, message: Message) -> dict[str, Any]:
    """What the page's live part shows: the same for the page and for its poll."""
    query = query_without_blanks(request.GET)
    recipients = list(message.recipients.all())  # prefetched, in position order
    events = list(message.events.all())
    last_event = {event.recipient_id: event for event in events if event.recipient_id}
    labels = dict(RecipientStatus.choices)
    outcomes = email_outcomes(message)
    chosen = query.get("recipientStatus", "")
    shown = [r for r in recipients if r.status == chosen] if chosen in labels else recipients
    page = Paginator(shown, RECIPIENTS_PER_PAGE).get_page(query.get("rpage", 1))
    ses_ids = sorted({r.ses_message_id for r in recipients if r.ses_message_id})
    live = email_in_flight(message)
    can_change = email_changeable_by(user=request.user, message=message)
    # What a screen reader is told when it changes (the poll carries what the page last said).
    said = f"{message.get_status_display()}: " + ", ".join(f"{o.count} {o.label.lower()}" for o in outcomes)
    asked = query.copy()
    asked.pop(SAID, None)
    asked[SAID] = said
    live_url = f"{reverse('emails:message-live', args=[message.pk])}?{asked.urlencode()}" if live else ""
    return {
        "message": message,
        "outcomes": outcomes,
        "recipient_status": chosen if chosen in labels else "",
        "recipient_status_label": labels.get(chosen, ""),
        "recipient_page": page,
        "recipient_rows": [RecipientRow(r, last_event.get(r.pk)) for r in page.object_list],
        "events": events,
        "ses_ids": ses_ids,
        # Once sent, the SES calls made; before, the calls it will take.
        "ses_calls": len(ses_ids) or ses_call_count(addresses=len(recipients), category=message.category),
        "group_size": SES_MAX_ADDRESSES_PER_CALL,
        "rate_wait": email_rate_wait(message=message),
        "live_url": live_url,
        "said": said,
        "live_seconds": settings.PAGES_LIVE_POLL_SECONDS,
        # What the page offers to do to it: only to those who may change it, and by the services' own rules.
        "can_change": can_change,
        "can_resend": can_change and message.status not in UNSENT,
        "retryable_count": retryable(message).count() if can_change and message.status not in UNSENT else 0,
        "resend_key": str(uuid.uuid4()),
        "resends": email_resends(user=request.user, message=message),
    }


@method_decorator(csp_preview_styles, name="dispatch")  # the HTML preview: an email's style attributes
class DetailView(LoginRequiredMixin, View):
    template_name = "emails/detail.html"

    def get(self, request: HttpRequest, message_id: uuid.UUID) -> HttpResponse:
        message = _message(request, message_id)
        context = message_context(request, message)
        html_body, context["text_body"] = message_bodies(message)
        html = html_sanitise(html_body) if html_body else ""
        remote = html_remote_images(html)
        context["html_preview"] = html
        context["remote_images"] = remote
        context["remote_images_shown"] = remote and request.GET.get(IMAGES) == REMOTE
        # The page's own query (its recipient filter and page), kept by the form that shows or blocks the images.
        query = query_without_blanks(request.GET)
        context["images_keep"] = [(k, v) for k, values in query.lists() if k not in (IMAGES, SAID) for v in values]
        return render(request, self.template_name, context)


@method_decorator(csp_remote_images_body, name="dispatch")
class BodyView(LoginRequiredMixin, View):
    """The sanitised HTML body with its remote images, for the iframe of the message page that asked for them."""

    def get(self, request: HttpRequest, message_id: uuid.UUID) -> HttpResponse:
        message = _message(request, message_id)
        html_body, _ = message_bodies(message)
        html = html_sanitise(html_body) if html_body else ""
        response = HttpResponse("<!doctype html>\n" + html, content_type="text/html; charset=utf-8")
        # The image hosts learn nothing of this address (the message's id).
        response["Referrer-Policy"] = "no-referrer"
        return response


class LiveView(LivePollMixin, View):
    """The live part of a message's page, for its poll: no summary is counted again, only this message."""

    def get(self, request: HttpRequest, message_id: uuid.UUID) -> HttpResponse:
        message = _message(request, message_id)
        context = message_context(request, message)
        context["announce"] = request.GET.get(SAID, context["said"]) != context["said"]
        return render(request, "emails/_message_live.html", context)
