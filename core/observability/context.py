"""The request id of the work in hand: set per HTTP request, carried into the tasks that request causes."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar, Token

# What an id from outside may look like: a UUID, a hex or base64 token, a load balancer's trace id. Bounded and
# free of spaces, quotes, CR/LF and other controls, so it can go into a header and a log line as it is.
REQUEST_ID_PATTERN = re.compile(r"[A-Za-z0-9._:=+/-]{1,128}")

_request_id: ContextVar[str | None] = ContextVar("request_id", default=None)


def request_id_get() -> str | None:
    """The id of the request this code runs for (in a task: of the request that caused it), or None."""
    return _request_id.get()


def request_id_new() -> str:
    return uuid.uuid4().hex


def request_id_sane(value: str | None) -> str | None:
    """`value` when it is fit to be a request id, else None (the caller makes a new one)."""
    if value is None or not REQUEST_ID_PATTERN.fullmatch(value):
        return None
    return value


def request_id_set(value: str | None) -> Token[str | None]:
    """Make `value` the current request id until `request_id_reset` with the token returned (signal receivers)."""
    return _request_id.set(value)


def request_id_reset(token: Token[str | None]) -> None:
    _request_id.reset(token)


@contextmanager
def request_id_bound(value: str | None) -> Iterator[None]:
    """Run the block as work of request `value` (None: of no request), then restore what was before."""
    token = request_id_set(value)
    try:
        yield
    finally:
        request_id_reset(token)
