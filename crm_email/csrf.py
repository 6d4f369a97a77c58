"""The page a browser gets when a form's CSRF check fails: the product's own, with its header and stylesheet.

Django's built-in page styles itself with an inline <style>, which the Content-Security-Policy blocks, so it
showed unstyled; and it speaks to developers. Most who see it sent a form from a page left open past its
session, or from a copy of the page in another tab after signing out: it says so, and where to go on. The
reason Django found stays in the log (django.security.csrf), not on the page.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """CSRF_FAILURE_VIEW: a 403 page with the way back."""
    return render(request, "403_csrf.html", status=403)
