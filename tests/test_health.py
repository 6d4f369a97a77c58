"""/healthz and /readyz: JSON, 200 or 503, for anyone, never cached; /readyz names the dependency that failed.

Failures are real: the database, the cache, the broker and the storage are pointed at closed ports or paths
that cannot exist, nothing of the checks is patched.
"""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.db import connection, connections
from django.test import Client
from django.urls import reverse

from tests.files.conftest import disk_storage, s3_storage, s3_unreachable  # noqa: F401  (fixtures)


def closed_port() -> int:
    """A local port nothing listens on (bound, then let go)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def silent_port() -> Iterator[int]:
    """A local port that accepts connections and never says a word: a hung dependency."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(8)
        yield int(sock.getsockname()[1])


def probe(path: str, **kwargs: Any) -> tuple[int, dict[str, Any], Any]:
    response = Client().get(path, **kwargs)
    assert response["Content-Type"] == "application/json"
    return response.status_code, json.loads(response.content), response


def test_healthz_answers_anyone_with_no_session_and_no_cache() -> None:
    status, body, response = probe("/healthz")
    assert (status, body) == (200, {"status": "ok"})
    assert "no-store" in response["Cache-Control"]
    assert not response.cookies  # no session, no CSRF cookie


def test_the_probes_answer_a_host_outside_allowed_hosts_and_any_method() -> None:
    # A load balancer probes the node by its own address, over plain HTTP; ALLOWED_HOSTS would refuse it with 400.
    status, _, _ = probe("/healthz", headers={"host": "node-7.probe.invalid:8000"})
    assert status == 200
    # No CSRF, nothing changed: a POST or HEAD gets the same answer, never 403 or 405.
    assert Client(enforce_csrf_checks=True).post("/healthz").status_code == 200
    assert Client().head("/healthz").status_code == 200


@pytest.mark.django_db
def test_readyz_is_200_when_everything_answers(disk_storage: Any) -> None:  # noqa: F811
    status, body, response = probe("/readyz")
    assert status == 200, body
    assert body["status"] == "ok"
    assert set(body["checks"]) == {"database", "cache", "storage"}  # no broker configured: not checked
    assert all(check["ok"] is True and check["ms"] >= 0 for check in body["checks"].values())
    assert "no-store" in response["Cache-Control"]
    assert not list(Path(disk_storage.media_root).rglob("readyz-*"))  # the storage probe cleaned up


@pytest.mark.django_db
def test_readyz_is_503_naming_the_database_when_it_is_gone(monkeypatch: Any, tmp_path: Path) -> None:
    # New connections (the check opens its own) go nowhere: an unreadable path, or a closed port.
    database = connections["default"].settings_dict
    if connection.vendor == "sqlite":
        gone = str(tmp_path / "no-such-directory" / "db.sqlite3")
        monkeypatch.setitem(database, "NAME", gone)
    else:
        gone = str(closed_port())
        monkeypatch.setitem(database, "HOST", "127.0.0.1")
        monkeypatch.setitem(database, "PORT", gone)
    status, body, _ = probe("/readyz")
    assert status == 503
    assert body["status"] == "fail"
    assert body["checks"]["database"]["ok"] is False
    assert body["checks"]["cache"]["ok"] is True and body["checks"]["storage"]["ok"] is True
    assert gone not in json.dumps(body)  # what failed, never where or why


@pytest.mark.django_db
def test_readyz_is_503_when_the_database_goes_after_its_threads_have_connected(
    monkeypatch: Any, tmp_path: Path
) -> None:
    """CI: after the probe had run a few times, each of its threads kept the connection it had opened (SQLite
    ignores closing an in-memory database), and answered 200 for a database that took no new connection."""
    for _ in range(8):
        assert probe("/readyz")[0] in (200, 503)
    database = connections["default"].settings_dict
    if connection.vendor == "sqlite":
        monkeypatch.setitem(database, "NAME", str(tmp_path / "no-such-directory" / "db.sqlite3"))
    else:
        monkeypatch.setitem(database, "HOST", "127.0.0.1")
        monkeypatch.setitem(database, "PORT", str(closed_port()))
    status, body, _ = probe("/readyz")
    assert status == 503 and body["checks"]["database"]["ok"] is False


@pytest.mark.django_db
def test_readyz_is_503_naming_the_cache_when_it_is_unreachable(settings: Any) -> None:
    port = closed_port()
    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": f"redis://127.0.0.1:{port}/0"}
    }
    status, body, _ = probe("/readyz")
    assert status == 503
    assert body["checks"]["cache"]["ok"] is False
    assert body["checks"]["database"]["ok"] is True


@pytest.mark.django_db
def test_readyz_checks_the_broker_when_one_is_configured(settings: Any, redis_url: str) -> None:
    settings.CELERY_BROKER_URL = redis_url
    status, body, _ = probe("/readyz")
    assert status == 200, body
    assert body["checks"]["broker"]["ok"] is True


@pytest.mark.django_db
def test_readyz_is_503_naming_the_broker_when_it_is_down(settings: Any) -> None:
    settings.CELERY_BROKER_URL = f"redis://:broker-secret@127.0.0.1:{closed_port()}/0"
    status, body, response = probe("/readyz")
    assert status == 503
    assert body["checks"]["broker"]["ok"] is False
    assert body["checks"]["database"]["ok"] is True
    assert b"broker-secret" not in response.content and b"127.0.0.1" not in response.content


@pytest.mark.django_db
def test_a_hung_broker_fails_the_probe_within_its_budget_instead_of_hanging_it(settings: Any, silent_port: int) -> None:
    settings.HEALTH_CHECK_TIMEOUT_SECONDS = 0.5
    settings.CELERY_BROKER_URL = f"redis://127.0.0.1:{silent_port}/0"
    answered: list[int] = []
    thread = threading.Thread(target=lambda: answered.append(Client().get("/readyz").status_code))
    thread.start()
    # Far more than the budget: the point is that it answers at all, and says 503.
    thread.join(30)
    assert answered == [503]


@pytest.mark.django_db
def test_readyz_writes_reads_and_deletes_through_s3(s3_storage: Any) -> None:  # noqa: F811
    status, body, _ = probe("/readyz")
    assert status == 200, body
    assert body["checks"]["storage"]["ok"] is True
    listed = s3_storage.client.list_objects_v2(Bucket=s3_storage.bucket).get("Contents", [])
    assert listed == []  # the probe object was removed again


@pytest.mark.django_db
def test_readyz_is_503_naming_the_storage_when_s3_is_unreachable(settings: Any, s3_storage: Any) -> None:  # noqa: F811
    s3_unreachable(settings)
    status, body, _ = probe("/readyz")
    assert status == 503
    assert body["checks"]["storage"]["ok"] is False
    assert body["checks"]["database"]["ok"] is True


@pytest.mark.django_db
def test_readyz_is_503_naming_the_storage_when_the_disk_cannot_be_written(
    settings: Any,
    disk_storage: Any,  # noqa: F811
    tmp_path: Path,
) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_bytes(b"not a directory")
    settings.MEDIA_ROOT = blocker / "media"  # under a regular file: nothing can be created there
    status, body, _ = probe("/readyz")
    assert status == 503
    assert body["checks"]["storage"]["ok"] is False
    assert str(blocker) not in json.dumps(body)


def test_the_url_conf_names_both_probes() -> None:
    assert (reverse("healthz"), reverse("readyz")) == ("/healthz", "/readyz")
