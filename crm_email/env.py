"""Reading settings from the environment, strictly: a mistyped value stops the process and names the variable.

As healthchecks' `envbool` does, a boolean is one of a few spellings, not
"anything but true is false": `DJANGO_DEBUG=ture` must not quietly mean off.
An empty value is the same as none: the default.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import TypeVar

from django.core.exceptions import ImproperlyConfigured

TRUE = frozenset({"1", "true", "yes", "on"})
FALSE = frozenset({"0", "false", "no", "off"})

Environ = Mapping[str, str]
N = TypeVar("N", int, float)


def _raw(name: str, environ: Environ | None) -> str | None:
    value = (os.environ if environ is None else environ).get(name)
    return None if value is None or not value.strip() else value.strip()


def env_str(name: str, default: str = "", *, environ: Environ | None = None) -> str:
    """The variable's text; unset or empty (as .env.example leaves most) means the default."""
    value = (os.environ if environ is None else environ).get(name)
    return default if value is None or value == "" else value


def env_bool(name: str, default: bool, *, environ: Environ | None = None) -> bool:
    value = _raw(name, environ)
    if value is None:
        return default
    if value.lower() in TRUE:
        return True
    if value.lower() in FALSE:
        return False
    raise ImproperlyConfigured(f"{name}={value!r} is not a boolean: use true or false.")


def env_int(name: str, default: int, *, minimum: int | None = None, environ: Environ | None = None) -> int:
    value = _raw(name, environ)
    if value is None:
        return default
    try:
        number = int(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name}={value!r} is not a whole number.") from None
    return _at_least(name, number, minimum)


def env_float(
    name: str,
    default: float,
    *,
    minimum: float | None = None,
    maximum: float | None = None,
    environ: Environ | None = None,
) -> float:
    value = _raw(name, environ)
    if value is None:
        return default
    try:
        number = float(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name}={value!r} is not a number.") from None
    if not math.isfinite(number):
        raise ImproperlyConfigured(f"{name}={value!r} is not a finite number.")
    if maximum is not None and number > maximum:
        raise ImproperlyConfigured(f"{name}={number} is above its maximum of {maximum}.")
    return _at_least(name, number, minimum)


def env_decimal(name: str, default: str, *, environ: Environ | None = None) -> Decimal:
    value = _raw(name, environ) or default
    try:
        number = Decimal(value)
    except InvalidOperation:
        raise ImproperlyConfigured(f"{name}={value!r} is not a decimal number.") from None
    if not number.is_finite() or number < 0:
        raise ImproperlyConfigured(f"{name}={value!r} must be a finite number, 0 or more.")
    return number


def env_list(name: str, default: str = "", *, environ: Environ | None = None) -> list[str]:
    return [item.strip() for item in env_str(name, default, environ=environ).split(",") if item.strip()]


def _at_least(name: str, number: N, minimum: N | None) -> N:
    if minimum is not None and number < minimum:
        raise ImproperlyConfigured(f"{name}={number} is below its minimum of {minimum}.")
    return number
