"""bench/load.py, small, as a check: gunicorn, PostgreSQL and a real Celery worker on Redis under concurrent sends,
lists and details; every answer 2xx, and accepted = stored = sent = the backend's calls, each message once.

Its figures (requests/s, latency) are printed, never asserted: the machine is shared. The full run and its
figures are in docs/benchmarks.md (issue 13).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import connection

ROOT = Path(__file__).resolve().parents[2]

pytestmark = [
    pytest.mark.celery_redis,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="the bench serves from PostgreSQL"),
    pytest.mark.skipif("TEST_REDIS_URL" not in os.environ, reason="needs Celery on Redis: set TEST_REDIS_URL"),
]


def test_under_load_every_accepted_message_is_stored_and_sent_once() -> None:
    db = connection.settings_dict
    admin = f"postgresql://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/postgres"
    env = {**os.environ, "BENCH_PG_URL": admin}
    command = [sys.executable, str(ROOT / "bench" / "load.py"), "--clients", "4", "--seconds", "5",
               "--drain-timeout", "60"]  # fmt: skip
    # Our own bench, with our own arguments.
    run = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)  # noqa: S603
    report = run.stdout[run.stdout.find("Load:") :]
    print(report)
    assert run.returncode == 0, f"{report}\n{run.stderr[-3000:]}"
    assert "FAIL" not in report
    assert report.count("PASS") == 6, report
