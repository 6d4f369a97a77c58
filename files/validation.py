"""The rules an upload request must pass, whoever asks: every problem reported at once, with its field."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from django.conf import settings

from core.errors import FieldError, FieldErrors
from core.text import text_problem
from files.choices import ALLOWED_CONTENT_TYPES, FileCategory
from files.naming import name_problem

MAX_METADATA_KEYS = 20
MAX_METADATA_VALUE = 500
MAX_METADATA_KEY = 100
MAX_ID = 100


def mb(size: float) -> str:
    return f"{size / (1024 * 1024):.1f} MB"


def upload_request_check(
    *,
    file_name: str,
    content_type: str,
    category: str,
    max_size: int,
    metadata: Mapping[str, Any],
    client_id: str,
    department_id: str,
    problems: Sequence[FieldError] = (),
) -> None:
    """Raise ValidationFailed with every problem of an upload-URL request (paths in the seeds' names)."""
    errors = FieldErrors(problems)
    if not errors.has("fileName") and (problem := name_problem(file_name)):
        errors.add(("fileName",), problem)
    if not errors.has("contentType") and content_type not in ALLOWED_CONTENT_TYPES:
        errors.add(("contentType",), f'"{content_type[:100]}" is not a valid choice.')
    if not errors.has("category") and category not in FileCategory.values:
        errors.add(("category",), f'"{category[:100]}" is not a valid choice.')
    if not errors.has("maxSizeBytes"):
        if max_size < 1:
            errors.add(("maxSizeBytes",), "Ensure this value is greater than or equal to 1.")
        elif max_size > settings.FILE_MAX_SIZE_BYTES:
            errors.add(
                ("maxSizeBytes",),
                f"Ensure this value is less than or equal to {settings.FILE_MAX_SIZE_BYTES} "
                f"({mb(settings.FILE_MAX_SIZE_BYTES)}).",
            )
    if not errors.has("metadata"):
        _metadata_check(errors, metadata)
    for name, value in (("clientId", client_id), ("departmentId", department_id)):
        if errors.has(name):
            continue
        if problem := text_problem(value, single_line=True):
            errors.add((name,), problem)
        elif len(value) > MAX_ID:
            errors.add((name,), f"Ensure this field has no more than {MAX_ID} characters.")
    errors.raise_any()


def _metadata_check(errors: FieldErrors, metadata: Mapping[str, Any]) -> None:
    if len(metadata) > MAX_METADATA_KEYS:
        errors.add(("metadata",), f"At most {MAX_METADATA_KEYS} keys.")
        return
    for key, value in metadata.items():
        if text_problem(key, single_line=True) or len(key) > MAX_METADATA_KEY:
            errors.add(
                ("metadata",),
                f"Each key is one line of at most {MAX_METADATA_KEY} characters, "
                "without control characters or unpaired surrogates.",
            )
        elif not isinstance(value, str):
            errors.add(("metadata", key), "Not a valid string.")
        elif problem := text_problem(value):
            errors.add(("metadata", key), problem)
        elif len(value) > MAX_METADATA_VALUE:
            errors.add(("metadata", key), f"Ensure this field has no more than {MAX_METADATA_VALUE} characters.")
