"""Seal the files on disk that are plain (stored before FILE_ENCRYPTION_KEY) or sealed with an older key."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from core.progress import ProgressBar
from files.services import files_seal, files_seal_candidates


class Command(BaseCommand):
    help = (
        "Rewrite every stored file on disk that is plain, or sealed with a key of FILE_ENCRYPTION_PREVIOUS_KEYS, "
        "under FILE_ENCRYPTION_KEY. Run it after setting or rotating the key; then the previous keys can go and "
        "FILE_ENCRYPTION_ALLOW_PLAIN can be false. Files on S3 are left to S3's own encryption."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        if settings.FILE_ENCRYPTION_KEY is None:
            raise CommandError("FILE_ENCRYPTION_KEY is not set: there is no key to seal files with.")
        self.stdout.write(f"{files_seal_candidates().count()} stored file(s) to look at.")
        result = files_seal(progress=ProgressBar(self.stdout))
        self.stdout.write(self.style.SUCCESS(f"Sealed {result.sealed} file(s) with the current key."))
        if result.damaged:
            raise CommandError(
                f"{len(result.damaged)} file(s) failed their check and were left as they are: "
                + ", ".join(result.damaged)
            )
