"""Routers whose paths work with and without a trailing slash, as the seeds' clients call them."""

from __future__ import annotations

from rest_framework.routers import SimpleRouter


class OptionalSlashRouter(SimpleRouter):
    """`/api/email` and `/api/email/` alike; the schema lists each path once, without the slash."""

    def __init__(self) -> None:
        super().__init__(trailing_slash=True)
        self.trailing_slash = "/?"
