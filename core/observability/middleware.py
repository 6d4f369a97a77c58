"""Every request gets an id: the caller's `X-Request-ID` when it is sane, else a new one; the answer says it back."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponseBase

from core.observability.context import request_id_bound, request_id_new, request_id_sane

HEADER = "X-Request-ID"


class RequestIdMiddleware:
    """First in MIDDLEWARE, so every log line of the request, the other middleware's too, carries the id."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        # A hostile value (CR/LF, 10 KB) is replaced, never echoed nor logged.
        request_id = request_id_sane(request.headers.get(HEADER)) or request_id_new()
        with request_id_bound(request_id):
            response = self.get_response(request)
        response[HEADER] = request_id
        return response
