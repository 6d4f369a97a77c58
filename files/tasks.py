"""Celery tasks of the files app: thin wrappers over one service each."""

from __future__ import annotations

from celery import shared_task

from files.services import files_purge


@shared_task
def files_purge_task() -> dict[str, int]:
    result = files_purge()
    return {"deleted": result.deleted, "abandoned": result.abandoned}
