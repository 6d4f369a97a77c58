"""What the pages' polls (htmx) share: a signed-out poll reloads the page rather than drawing the login form into it."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.mixins import LoginRequiredMixin
from django.http import HttpRequest, HttpResponse
from django.http.response import HttpResponseBase


class LivePollMixin(LoginRequiredMixin):
    """For a view that answers a page's poll. Once the session has ended, htmx is told to reload the page
    (HX-Refresh), which then goes to the login page and back; a request that is not a poll is redirected."""

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        if not request.user.is_authenticated and request.headers.get("HX-Request") == "true":
            return HttpResponse(status=204, headers={"HX-Refresh": "true"})
        return super().dispatch(request, *args, **kwargs)
