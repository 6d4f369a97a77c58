"""`manage.py check --deploy` is clean with the production environment docs/deploy.md gives, and the local defaults
still run (and still warn, which is what shows the documented values are what silence it).

Each check is a fresh process with only the environment given (none of this process's, so CI's DATABASE_URL
and the like do not leak in).
"""

from __future__ import annotations

import os
import re
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

from tests.test_settings import settings_with

ROOT = Path(__file__).resolve().parent.parent
MARKER = "<!-- production-environment:"


def documented_environment() -> dict[str, str]:
    """The NAME=value lines of the block docs/deploy.md marks as the production environment."""
    text = (ROOT / "docs" / "deploy.md").read_text()
    assert MARKER in text, "docs/deploy.md lost its production environment block"
    block = re.search(r"```sh\n(.*?)```", text[text.index(MARKER) :], re.S)
    assert block, "no ```sh block after the marker"
    environ = {}
    for line in block.group(1).splitlines():
        if line.strip() and not line.startswith("#"):
            name, _, value = line.partition("=")
            environ[name] = value
    return environ


def check(environ: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    base = {"PATH": os.environ.get("PATH", ""), "HOME": os.environ.get("HOME", "/tmp"), "LANG": "C.UTF-8"}  # noqa: S108
    return subprocess.run(  # noqa: S603 - our own manage.py
        [sys.executable, "manage.py", "check", *args],
        cwd=ROOT,
        env={**base, **environ},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_the_documented_production_environment_passes_the_deploy_check(tmp_path: Path) -> None:
    environ = documented_environment()
    # The two placeholders: a secret is never written in the docs, and the check needs no real PostgreSQL.
    assert environ["DJANGO_SECRET_KEY"] == "__from_your_secret_store__"
    assert "__password__" in environ["DATABASE_URL"]
    environ["DJANGO_SECRET_KEY"] = secrets.token_urlsafe(50)
    environ["DATABASE_URL"] = f"sqlite:///{tmp_path / 'deploy.sqlite3'}"
    # What the docs promise is set, not left to a default.
    for name in ("DJANGO_SECURE_SSL_REDIRECT", "DJANGO_SECURE_HSTS_SECONDS", "DJANGO_BEHIND_TLS_PROXY",
                 "DJANGO_SECURE_COOKIES", "API_DOCS_PUBLIC", "DATABASE_DISABLE_SERVER_SIDE_CURSORS"):  # fmt: skip
        assert name in environ, name

    result = check(environ, "--deploy", "--fail-level", "WARNING")

    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues (0 silenced)." in result.stdout, result.stdout + result.stderr


def test_the_local_defaults_run_and_the_deploy_check_says_what_they_lack(tmp_path: Path) -> None:
    local = {"DATABASE_URL": "", "DJANGO_SECRET_KEY": ""}  # nothing set: SQLite, the development key
    plain = check(local)
    assert plain.returncode == 0, plain.stdout + plain.stderr
    assert "System check identified no issues" in plain.stdout

    deploy = check(local, "--deploy", "--fail-level", "WARNING")
    assert deploy.returncode != 0
    found = set(re.findall(r"\((security\.W\d+)\)", deploy.stderr + deploy.stdout))
    # HSTS, the redirect, the cookies, the development key: exactly what the production block sets.
    assert found == {"security.W004", "security.W008", "security.W009", "security.W012", "security.W016"}, found
    # Frames are denied even locally (security.W019 no more).
    assert "security.W019" not in deploy.stderr + deploy.stdout


@pytest.mark.parametrize(
    ("name", "value"), [("DJANGO_SECURE_HSTS_SECONDS", "a year"), ("DJANGO_BEHIND_TLS_PROXY", "yes please")]
)
def test_a_mistyped_https_setting_stops_the_process(name: str, value: str) -> None:
    result = check({name: value})
    assert result.returncode != 0
    assert f"{name}={value!r}" in result.stderr


def test_the_https_variables_set_djangos_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    local = settings_with(monkeypatch)
    assert local["SECURE_PROXY_SSL_HEADER"] is None and local["SECURE_SSL_REDIRECT"] is False
    assert local["SECURE_HSTS_SECONDS"] == 0 and local["X_FRAME_OPTIONS"] == "DENY"
    assert local["DATABASES"]["default"]["DISABLE_SERVER_SIDE_CURSORS"] is False

    production = settings_with(
        monkeypatch,
        DJANGO_BEHIND_TLS_PROXY="true",
        DJANGO_SECURE_SSL_REDIRECT="true",
        DJANGO_SECURE_HSTS_SECONDS="3600",
        DJANGO_SECURE_HSTS_INCLUDE_SUBDOMAINS="true",
        DJANGO_SECURE_HSTS_PRELOAD="true",
        DJANGO_SECURE_COOKIES="true",
        DATABASE_DISABLE_SERVER_SIDE_CURSORS="true",
    )
    assert production["SECURE_PROXY_SSL_HEADER"] == ("HTTP_X_FORWARDED_PROTO", "https")
    assert production["SECURE_SSL_REDIRECT"] is True
    assert (production["SECURE_HSTS_SECONDS"], production["SECURE_HSTS_INCLUDE_SUBDOMAINS"]) == (3600, True)
    assert production["SECURE_HSTS_PRELOAD"] is True
    assert production["SESSION_COOKIE_SECURE"] is True and production["CSRF_COOKIE_SECURE"] is True
    assert production["DATABASES"]["default"]["DISABLE_SERVER_SIDE_CURSORS"] is True
