"""Settings read strictly, and the emulated SES only where it was asked for."""

from __future__ import annotations

import importlib
import re
import sys
from pathlib import Path
from typing import Any

import pytest
from django.core.exceptions import ImproperlyConfigured

import crm_email
from crm_email.env import env_bool, env_decimal, env_float, env_int, env_str

ROOT = Path(crm_email.__file__).parent.parent


def settings_afresh(monkeypatch: Any) -> dict[str, Any]:
    """The settings package evaluated again, its modules too, in this environment; the process's own stay."""
    for name in [
        name for name in sys.modules if name == "crm_email.settings" or name.startswith("crm_email.settings.")
    ]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.delattr(crm_email, "settings", raising=False)
    return vars(importlib.import_module("crm_email.settings"))


def settings_with(monkeypatch: Any, **environ: str) -> dict[str, Any]:
    """The settings module evaluated afresh in this environment (nothing else of the process's)."""
    for name in ("DATABASE_URL", "SES_EMULATED", "SES_EMULATED_WITH_DATABASE", "EMAIL_BACKEND", "DJANGO_SECRET_KEY"):
        monkeypatch.delenv(name, raising=False)
    for name, value in environ.items():
        monkeypatch.setenv(name, value)
    return settings_afresh(monkeypatch)


@pytest.mark.parametrize("value", ["ture", "2", "enabled", "Y"])
def test_a_mistyped_boolean_stops_the_process_and_names_the_variable(value: str, monkeypatch: Any) -> None:
    with pytest.raises(ImproperlyConfigured, match=f"^DJANGO_DEBUG={value!r} is not a boolean"):
        settings_with(monkeypatch, DJANGO_DEBUG=value)


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("EMAIL_MAX_ATTEMPTS", "eight", "is not a whole number"),
        ("SNS_CERT_TIMEOUT_SECONDS", "5s", "is not a number"),
        ("EMAIL_MAX_SEND_RATE", "nan", "is not a finite number"),
        ("EMAIL_PRICE_PER_1000_RECIPIENTS", "ten cents", "is not a decimal number"),
        ("EMAIL_DATA_MAX_DEPTH", "0", "is below its minimum of 1"),
    ],
)
def test_a_mistyped_number_stops_the_process_and_names_the_variable(
    name: str, value: str, message: str, monkeypatch: Any
) -> None:
    with pytest.raises(ImproperlyConfigured, match=f"^{name}="):
        settings_with(monkeypatch, **{name: value})
    with pytest.raises(ImproperlyConfigured, match=message):
        settings_with(monkeypatch, **{name: value})


def test_the_readers_accept_what_people_write() -> None:
    environ = {"A": " True ", "B": "off", "C": "", "D": "42", "E": "0.5", "F": "0.10", "G": ""}
    assert env_bool("A", False, environ=environ) is True
    assert env_bool("B", True, environ=environ) is False
    assert env_bool("C", True, environ=environ) is True  # empty is unset
    assert env_int("D", 0, environ=environ) == 42
    assert env_float("E", 0.0, environ=environ) == 0.5
    assert str(env_decimal("F", "1", environ=environ)) == "0.10"
    assert env_str("G", "the default", environ=environ) == "the default"


def test_the_example_environment_file_runs_as_it_is(monkeypatch: Any) -> None:
    """Every variable .env.example names, with its value there, gives a working configuration."""
    for line in (ROOT / ".env.example").read_text().splitlines():
        if line and not line.startswith("#"):
            name, _, value = line.partition("=")
            monkeypatch.setenv(name, value)
    configured = settings_afresh(monkeypatch)
    assert configured["AWS_SES_REGION_ENDPOINT_URL"] == "https://email.us-east-1.amazonaws.com"
    assert configured["EMAIL_BACKEND"] == "emails.ses.SESBackend"


def test_ses_is_real_unless_emulation_is_asked_for(monkeypatch: Any) -> None:
    # No AWS keys in the environment (an instance role, say) no longer means emulation.
    plain = settings_with(monkeypatch)
    assert plain["SES_EMULATED"] is False
    assert plain["EMAIL_BACKEND"] == "emails.ses.SESBackend"

    emulated = settings_with(monkeypatch, SES_EMULATED="true")
    assert emulated["EMAIL_BACKEND"] == "emails.dev.backend.EmulatedSESBackend"


def test_emulation_beside_a_database_url_is_refused_unless_asked_for(monkeypatch: Any) -> None:
    database = {"DATABASE_URL": "postgres://db.internal/crm", "DJANGO_SECRET_KEY": "a-real-one"}
    with pytest.raises(ImproperlyConfigured, match="SES_EMULATED=true beside DATABASE_URL"):
        settings_with(monkeypatch, SES_EMULATED="true", **database)

    asked = settings_with(monkeypatch, SES_EMULATED="true", SES_EMULATED_WITH_DATABASE="true", **database)
    assert asked["EMAIL_BACKEND"] == "emails.dev.backend.EmulatedSESBackend"
    assert settings_with(monkeypatch, **database)["SES_EMULATED"] is False


def test_every_variable_the_settings_read_is_documented() -> None:
    sources = "".join(path.read_text() for path in (ROOT / "crm_email" / "settings").glob("*.py"))
    read = set(re.findall(r'env_[a-z]+\(\s*"([A-Z0-9_]+)"', sources))
    root = ROOT
    example = set(re.findall(r"^([A-Z0-9_]+)=", (root / ".env.example").read_text(), re.M))
    readme = set(re.findall(r"`([A-Z][A-Z0-9_]+)`", (root / "README.md").read_text()))
    assert read - example == set()
    assert read - readme == set()
