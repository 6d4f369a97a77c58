"""What the message page and the log's scheduled view can do to a message: cancel, reschedule, resend.

Each is a POST (CSRF) calling one accepting service, then back to where the
button was, with what happened as a flash message.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponseRedirect
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views import View

from core.errors import Conflict, ValidationFailed
from emails.accepting import Which, email_cancel, email_reschedule, email_resend
from emails.exceptions import MessageForbidden, MessageNotFound
from emails.models import Message
from emails.selectors import email_get_changeable


def _message(request: HttpRequest, message_id: uuid.UUID) -> Message:
    try:
        return email_get_changeable(user=request.user, message_id=message_id)
    except MessageNotFound:
        raise Http404("No such message.") from None
    except MessageForbidden as exc:
        raise PermissionDenied(str(exc)) from None


def _back(request: HttpRequest, message: Message) -> HttpResponseRedirect:
    target = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        target = reverse("emails:detail", args=[message.pk])
    return HttpResponseRedirect(target)


def local_moment(value: str, zone_name: str) -> str:
    """A datetime-local value in the browser's zone (the form's `tz`), as ISO 8601 with its offset; '' if blank."""
    value = value.strip()
    if not value:
        return ""
    try:
        naive = datetime.fromisoformat(value)
    except ValueError:
        return value  # the service says what is wrong with it
    return naive.replace(tzinfo=zone_of(zone_name)).isoformat()


def zone_of(name: str) -> ZoneInfo:
    """The browser's time zone as its form gave it, or the server's."""
    try:
        return ZoneInfo(name.strip() or settings.TIME_ZONE)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo(settings.TIME_ZONE)


class CancelView(LoginRequiredMixin, View):
    def post(self, request: HttpRequest, message_id: uuid.UUID) -> HttpResponseRedirect:
        message = _message(request, message_id)
        assert isinstance(request.user, User)  # LoginRequiredMixin
        try:
            email_cancel(message=message, by=request.user)
        except Conflict as exc:
            messages.error(request, str(exc))
        else:
            messages.success(request, f"\u201c{message.subject}\u201d is cancelled: it will not be sent.")
        return _back(request, message)


class RescheduleView(LoginRequiredMixin, View):
    def post(self, request: HttpRequest, message_id: uuid.UUID) -> HttpResponseRedirect:
        message = _message(request, message_id)
        when = local_moment(request.POST.get("sendAt", ""), request.POST.get("tz", ""))
        try:
            message = email_reschedule(message=message, send_at=when)
        except ValidationFailed as exc:
            messages.error(request, "Not rescheduled: " + " ".join(e.message for e in exc.errors))
        except Conflict as exc:
            messages.error(request, str(exc))
        else:
            assert message.send_after is not None
            shown = message.send_after.astimezone(zone_of(request.POST.get("tz", "")))
            messages.success(request, f"Rescheduled for {shown:%-d %b %Y, %H:%M %Z}.")
        return _back(request, message)


class ResendView(LoginRequiredMixin, View):
    def post(self, request: HttpRequest, message_id: uuid.UUID) -> HttpResponseRedirect:
        message = _message(request, message_id)
        assert isinstance(request.user, User)  # LoginRequiredMixin
        which: Which = "failed" if request.POST.get("recipients") == "failed" else "all"
        try:
            result = email_resend(
                message=message, by=request.user, which=which, idempotency_key=request.POST.get("idempotencyKey", "")
            )
        except ValidationFailed as exc:
            messages.error(request, "Not sent again: " + " ".join(e.message for e in exc.errors))
            return _back(request, message)
        except Conflict as exc:
            messages.error(request, str(exc))
            return _back(request, message)
        if not result.created:
            messages.info(request, "This was already sent again from this button: here it is.")
            return HttpResponseRedirect(reverse("emails:detail", args=[result.message.pk]))
        count = result.message.recipient_count
        what = "The failed recipients were" if which == "failed" else "This email was"
        messages.success(
            request, f"{what} sent again, as a new message to {count} recipient{'s' if count != 1 else ''}."
        )
        return HttpResponseRedirect(reverse("emails:detail", args=[result.message.pk]))
