"""The one address a privacy request is about: a bare address, lower-cased as every table stores it."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.core.validators import validate_email

from core.errors import FieldError, ValidationFailed

MAX_ADDRESS = 254


def contact_address(address: str) -> str:
    """The address as stored (lower-cased, trimmed); ValidationFailed on `address` when it is not one valid address."""
    normal = address.strip().lower()
    problem = ""
    if not normal:
        problem = "Give an email address."
    elif len(normal) > MAX_ADDRESS:
        problem = f"An email address has at most {MAX_ADDRESS} characters."
    else:
        try:
            validate_email(normal)
        except ValidationError:
            problem = "Enter a valid email address, such as jane@example.com."
    if problem:
        raise ValidationFailed([FieldError(path=("address",), message=problem, code="invalid")])
    return normal
