"""A request's id travels with the Celery tasks it causes: a task header when published, the context when run.

The publishing side (before_task_publish) runs wherever a task is sent: in
the web process after commit, or in a worker scheduling the next task. The
running side (task_prerun/task_postrun) binds the header's id around the
task's body. Eager runs (the embedded default) have no header: they keep
the id the thread already has (core.tasks hands it to its worker thread).
"""

from __future__ import annotations

from contextvars import Token
from typing import Any

from celery.signals import before_task_publish, task_postrun, task_prerun

from core.observability.context import request_id_get, request_id_reset, request_id_sane, request_id_set

HEADER = "request_id"

# The ids bound by task_prerun, to be undone by task_postrun, per task id.
_bound: dict[str, Token[str | None]] = {}


def _publishing(headers: dict[str, Any] | None = None, **kwargs: Any) -> None:
    request_id = request_id_get()
    if request_id and headers is not None:
        headers.setdefault(HEADER, request_id)


def _starting(task_id: str | None = None, task: Any = None, **kwargs: Any) -> None:
    request_id = request_id_sane(_header(task))
    if request_id and task_id:
        _bound[task_id] = request_id_set(request_id)


def _finished(task_id: str | None = None, **kwargs: Any) -> None:
    token = _bound.pop(task_id or "", None)
    if token is not None:
        request_id_reset(token)


def _header(task: Any) -> str | None:
    # Celery puts a message's own headers on the task's request, as attributes.
    value = getattr(getattr(task, "request", None), HEADER, None)
    return value if isinstance(value, str) else None


def request_id_signals_connect() -> None:
    """Connect the three receivers (crm_email/celery.py, once per process; connecting again changes nothing)."""
    before_task_publish.connect(_publishing, weak=False, dispatch_uid="request-id-publish")
    task_prerun.connect(_starting, weak=False, dispatch_uid="request-id-prerun")
    task_postrun.connect(_finished, weak=False, dispatch_uid="request-id-postrun")
