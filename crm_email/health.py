"""`GET /healthz` (this process answers) and `GET /readyz` (it can serve: database, cache, broker, storage).

Both answer JSON, 200 or 503, to anyone: no session, no sign-in, no CSRF,
never cached. A middleware first in MIDDLEWARE answers them before
anything else runs, so a load balancer's probe (which sends its own Host,
over plain HTTP) is not refused by ALLOWED_HOSTS or redirected to HTTPS;
the URL conf names the same views.

The checks are ours rather than django-health-check's: its 4.x line runs
checks on an event loop (its cache check through sync_to_async), which under
our synchronous views would share a thread with the request it serves. We
keep its ideas: SELECT 1 on a connection of its own, the cache written and
read back, storage written, read and deleted. Each check runs on a thread of
a small pool with a time budget (HEALTH_CHECK_TIMEOUT_SECONDS), so a hung
dependency makes the probe fail, not hang. What failed is named, never why:
the reason (hosts, buckets, paths) goes to the log.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from typing import Any

from django.conf import settings
from django.core.cache import caches
from django.db import DEFAULT_DB_ALIAS, connections
from django.http import HttpRequest, HttpResponseBase, JsonResponse
from django.utils.cache import add_never_cache_headers
from django.views.decorators.csrf import csrf_exempt
from kombu import Connection

from files import storage

logger = logging.getLogger(__name__)

Check = Callable[[], None]

# Checks run here, so a slow one holds a pool thread, never the request's (and at most this many of them).
_pool = ThreadPoolExecutor(max_workers=4, thread_name_prefix="readyz")


def database_check() -> None:
    """SELECT 1 on a new connection, closed after: whether the database takes a connection now.

    Not the pool thread's own connection: one left open (SQLite ignores
    closing an in-memory database) would answer for a database that no longer
    takes new ones.
    """
    database = connections.create_connection(DEFAULT_DB_ALIAS)
    try:
        with database.cursor() as cursor:
            cursor.execute("SELECT 1")
            if cursor.fetchone() != (1,):
                raise RuntimeError("SELECT 1 did not answer 1")
    finally:
        database.close()


def cache_check() -> None:
    cache = caches["default"]
    key, value = f"readyz:{uuid.uuid4().hex}", uuid.uuid4().hex
    cache.set(key, value, timeout=30)
    try:
        if cache.get(key) != value:
            raise RuntimeError("the cache did not give back what was written")
    finally:
        cache.delete(key)


def broker_check() -> None:
    """A connection to CELERY_BROKER_URL, once: no worker needs to be up for the web process to be ready."""
    budget = float(settings.HEALTH_CHECK_TIMEOUT_SECONDS)
    with Connection(
        settings.CELERY_BROKER_URL,
        connect_timeout=budget,
        transport_options={"socket_connect_timeout": budget, "socket_timeout": budget},
    ) as connection:
        connection.ensure_connection(max_retries=1, interval_start=0, interval_step=0, interval_max=0)


def storage_check() -> None:
    """A small object written, read back and deleted, through files.storage as every upload is (S3 or disk)."""
    key = f"_health/readyz-{uuid.uuid4().hex}"
    storage.save(key=key, content=b"ready", content_type="text/plain")
    try:
        if storage.read_range(key=key, start=0, length=5) != b"ready":
            raise RuntimeError("storage did not give back what was written")
    finally:
        storage.delete(key=key)


def readiness_checks() -> dict[str, Check]:
    checks: dict[str, Check] = {"database": database_check, "cache": cache_check}
    if settings.CELERY_BROKER_URL:
        checks["broker"] = broker_check
    checks["storage"] = storage_check
    return checks


def checks_run(checks: dict[str, Check]) -> dict[str, dict[str, Any]]:
    """Each check's outcome, `{"ok": bool, "ms": float}`, all run at once, each within the time budget."""
    budget = float(settings.HEALTH_CHECK_TIMEOUT_SECONDS)
    started = time.monotonic()
    futures = {name: _pool.submit(_timed, name, check) for name, check in checks.items()}
    results: dict[str, dict[str, Any]] = {}
    for name, future in futures.items():
        try:
            ok, seconds = future.result(timeout=max(budget - (time.monotonic() - started), 0.0))
        except FutureTimeout:
            logger.warning("Readiness check %s took longer than %.1f s", name, budget)
            ok, seconds = False, time.monotonic() - started
        results[name] = {"ok": ok, "ms": round(seconds * 1000, 1)}
    return results


def _timed(name: str, check: Check) -> tuple[bool, float]:
    started = time.monotonic()
    try:
        check()
    except Exception:  # any failure is "not ready"; the reason is for the log, not the answer
        logger.warning("Readiness check %s failed", name, exc_info=True)
        return False, time.monotonic() - started
    return True, time.monotonic() - started


def _answer(body: dict[str, Any], ok: bool) -> JsonResponse:
    response = JsonResponse(body, status=200 if ok else 503)
    add_never_cache_headers(response)
    return response


# Every method gets the same answer: a probe may use HEAD, and nothing here changes anything.
@csrf_exempt
def healthz(request: HttpRequest) -> JsonResponse:
    return _answer({"status": "ok"}, True)


@csrf_exempt
def readyz(request: HttpRequest) -> JsonResponse:
    results = checks_run(readiness_checks())
    ok = all(result["ok"] for result in results.values())
    return _answer({"status": "ok" if ok else "fail", "checks": results}, ok)


PATHS: dict[str, Callable[[HttpRequest], JsonResponse]] = {"/healthz": healthz, "/readyz": readyz}


class HealthMiddleware:
    """Answers /healthz and /readyz before host validation, HTTPS redirects, sessions and authentication."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        view = PATHS.get(request.path_info.rstrip("/") or "/")
        if view is not None:
            return view(request)
        return self.get_response(request)
