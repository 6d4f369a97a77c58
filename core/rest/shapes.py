"""Reading a request body's shapes with a DRF serializer without stopping at the first bad field.

A serializer's `is_valid` reports the fields that failed to parse and
nothing else; the services' rules then never see the rest. `shapes_parse`
parses field by field instead and hands back what parsed along with what
did not, so a service can report both at once.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

from rest_framework import serializers
from rest_framework.fields import SkipField

from core.errors import FieldError
from core.rest.errors import drf_field_errors

# The largest integer a database column holds: an id or page past it is a 400, not the driver's overflow.
MAX_DB_INTEGER = 2**63 - 1
# The days a date filter may name: a day either side of these (an inclusive end, a time zone, a default period
# reaching back) is still a date Python can hold, so a filter at the edge is a 400, not an OverflowError.
DATE_MIN, DATE_MAX = date(1900, 1, 1), date(9998, 12, 31)


def date_in_range(value: date) -> None:
    """A validator for date fields of a query string."""
    day = value.date() if isinstance(value, datetime) else value
    if not DATE_MIN <= day <= DATE_MAX:
        raise serializers.ValidationError(
            f"Dates run from {DATE_MIN.isoformat()} to {DATE_MAX.isoformat()}.", code="date_out_of_range"
        )


def shapes_parse(serializer: serializers.Serializer[Any], data: Any) -> tuple[dict[str, Any], list[FieldError]]:
    """Each writable field of `serializer` parsed from `data` on its own: (values, problems)."""
    if not isinstance(data, Mapping):
        kind = type(data).__name__
        return {}, [FieldError(path=(), message=f"Invalid data. Expected a dictionary, but got {kind}.")]
    values: dict[str, Any] = {}
    problems: list[FieldError] = []
    for field in serializer._writable_fields:
        name = str(field.field_name)
        try:
            values[name] = field.run_validation(field.get_value(data))
        except SkipField:
            continue
        except serializers.ValidationError as exc:
            problems.extend(drf_field_errors(exc.detail, (name,)))
    return values, problems
