"""Log lines that name their request: a filter that stamps the request id, and the JSON formatter of LOG_FORMAT=json.

Both are named in LOGGING (crm_email/settings/ops.py) on the console handler.
"""

from __future__ import annotations

import logging
from typing import Any

from pythonjsonlogger.json import JsonFormatter as _JsonFormatter

from core.observability.context import request_id_get


class RequestIdFilter(logging.Filter):
    """Puts the current request id on the record as `request_id` (None outside a request and its tasks)."""

    def filter(self, record: logging.LogRecord) -> bool:
        # A record made elsewhere with its own id (extra={"request_id": ...}) keeps it.
        if getattr(record, "request_id", None) is None:
            record.request_id = request_id_get()
        return True


class JsonFormatter(_JsonFormatter):
    """One JSON object per line: time (UTC, ISO 8601), level, logger, message, request_id, then the extras.

    A traceback goes into `exc_info` as text, within the same line.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("fmt", "%(levelname)s %(name)s %(message)s %(request_id)s")
        kwargs.setdefault("rename_fields", {"levelname": "level", "name": "logger"})
        kwargs.setdefault("timestamp", "time")
        super().__init__(*args, **kwargs)
