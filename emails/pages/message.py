"""One message's page: header, recipients, events, attachments and the HTML body, sanitised and sandboxed."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from django.contrib.auth.mixins import LoginRequiredMixin
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views import View

from emails.accepting import html_sanitise
from emails.delivery import SES_MAX_ADDRESSES_PER_CALL, ses_call_count
from emails.exceptions import MessageNotFound
from emails.models import Event, Recipient
from emails.selectors import email_get, email_rate_wait


@dataclass(frozen=True)
class RecipientRow:
    recipient: Recipient
    last_event: Event | None


class DetailView(LoginRequiredMixin, View):
    template_name = "emails/detail.html"

    def get(self, request: HttpRequest, message_id: uuid.UUID) -> HttpResponse:
        try:
            message = email_get(user=request.user, message_id=message_id)
        except MessageNotFound:
            raise Http404("No such message.") from None
        recipients = list(message.recipients.all())
        events = list(message.events.all())
        last_event = {event.recipient_id: event for event in events if event.recipient_id}
        ses_ids = sorted({r.ses_message_id for r in recipients if r.ses_message_id})
        context = {
            "message": message,
            "recipients": [RecipientRow(r, last_event.get(r.pk)) for r in recipients],
            "events": events,
            "ses_ids": ses_ids,
            # Once sent, the SES calls made; before, the calls it will take.
            "ses_calls": len(ses_ids) or ses_call_count(addresses=len(recipients), category=message.category),
            "group_size": SES_MAX_ADDRESSES_PER_CALL,
            "html_preview": html_sanitise(message.html_body) if message.html_body else "",
            "rate_wait": email_rate_wait(message=message),
        }
        return render(request, self.template_name, context)
