"""Pages for people who are not signed in: the preference centre, and the one-click unsubscribe (RFC 8058).

Both are reached by a signed link in our mail: the signature is what proves
the address is the reader's, so there is no sign-in.
"""

from __future__ import annotations

from django.contrib import messages
from django.core import signing
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from emails.choices import Category
from emails.suppression import (
    ALWAYS_SENT,
    CHOOSABLE,
    preferences_of,
    preferences_set,
    preferences_token,
    preferences_token_read,
    unsubscribe,
    unsubscribe_token_read,
)

LABELS = dict(Category.choices)
DESCRIPTIONS = {
    Category.MARKETING: "Offers, newsletters and announcements.",
    Category.NOTIFICATION: "Updates about your account and the work we do for you.",
    Category.CLIENT_PORTAL: "Messages from the client portal: documents, invoices, requests.",
}


def _invalid(request: HttpRequest) -> HttpResponse:
    return render(request, "emails/preferences.html", {"invalid": True}, status=400)


# Mail providers POST the one-click unsubscribe without any CSRF token; the
# signed token in the URL is what proves the link came from our mail.
@csrf_exempt
@require_http_methods(["GET", "POST"])
def unsubscribe_view(request: HttpRequest, token: str) -> HttpResponse:
    try:
        address, category = unsubscribe_token_read(token)
    except signing.BadSignature:
        return _invalid(request)
    if request.method == "GET":
        # A person following List-Unsubscribe gets the preference centre: a GET only shows (mail scanners follow
        # links), and its form posts, with CSRF, to the preference centre's own address.
        return _preferences_page(request, preferences_token(address=address), address)
    unsubscribe(token=token)
    label = LABELS.get(category, category)
    return render(request, "emails/preferences.html", {"address": address, "unsubscribed": label})


@require_http_methods(["GET", "POST"])
def preferences_view(request: HttpRequest, token: str) -> HttpResponse:
    """Which categories the address receives; a POST (with CSRF, as a person's form) saves exactly the boxes ticked."""
    try:
        address = preferences_token_read(token)
    except signing.BadSignature:
        return _invalid(request)
    if request.method == "POST":
        chosen = [c for c in request.POST.getlist("receive") if c in CHOOSABLE]
        if request.POST.get("action") == "none":
            chosen = []
        preferences_set(address=address, receives=chosen)
        messages.success(request, "Your choices are saved. They apply from the next email we send.")
        return HttpResponseRedirect(request.path)
    return _preferences_page(request, token, address)


def _preferences_page(request: HttpRequest, token: str, address: str) -> HttpResponse:
    preferences = preferences_of(address=address)
    choices = [
        {"value": c, "label": LABELS[c], "description": DESCRIPTIONS[c], "checked": preferences.receives[c]}
        for c in CHOOSABLE
    ]
    return render(
        request,
        "emails/preferences.html",
        {
            "address": address,
            "choices": choices,
            "always": [LABELS[c] for c in ALWAYS_SENT],
            "blocked": preferences.blocked,
            "action": reverse("emails:preferences", kwargs={"token": token}),
        },
    )
