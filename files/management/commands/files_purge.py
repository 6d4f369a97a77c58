"""Remove from storage the objects of long-deleted files and of uploads never completed."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand

from core.progress import ProgressBar
from files.services import files_purge, files_purge_candidates


class Command(BaseCommand):
    help = (
        "Delete from storage the objects of files deleted more than FILE_PURGE_RETENTION_DAYS ago and of uploads "
        "not completed within FILE_UPLOAD_STALE_HOURS. Celery beat runs the same job (files_purge_task)."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--dry-run", action="store_true", help="Only count what would be purged.")

    def handle(self, *args: Any, **options: Any) -> None:
        due = files_purge_candidates().count()
        self.stdout.write(
            f"{due} object(s) due: deleted over {settings.FILE_PURGE_RETENTION_DAYS} day(s) ago, or uploads "
            f"abandoned over {settings.FILE_UPLOAD_STALE_HOURS} hour(s) ago."
        )
        if options["dry_run"] or not due:
            return
        result = files_purge(progress=ProgressBar(self.stdout))
        self.stdout.write(
            self.style.SUCCESS(
                f"Purged {result.deleted} deleted file(s) and {result.abandoned} abandoned upload(s) from storage."
            )
        )
