"""Pages for people who are not signed in: the one-click unsubscribe (RFC 8058)."""

from __future__ import annotations

from django.core import signing
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from emails.choices import Category
from emails.suppression import unsubscribe, unsubscribe_token_read


# Mail providers POST the one-click unsubscribe without any CSRF token; the
# signed token in the URL is what proves the link came from our mail.
@csrf_exempt
@require_http_methods(["GET", "POST"])
def unsubscribe_view(request: HttpRequest, token: str) -> HttpResponse:
    try:
        address, category = unsubscribe_token_read(token)
    except signing.BadSignature:
        return render(request, "emails/unsubscribe.html", {"invalid": True}, status=400)
    label = dict(Category.choices).get(category, category)
    if request.method == "GET":
        # Mail scanners follow links: a GET only asks, it never unsubscribes.
        return render(request, "emails/unsubscribe.html", {"address": address, "category": label})
    unsubscribe(token=token)
    return render(request, "emails/unsubscribe.html", {"address": address, "category": label, "done": True})
