"""Run the retention now, as beat does daily: old message bodies and applied SNS bodies removed, in batches."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser
from django.utils import timezone

from core.progress import ProgressBar
from emails.privacy import (
    message_bodies_due,
    message_bodies_remove,
    notification_bodies_due,
    notification_bodies_remove,
)
from emails.privacy.retention import BATCH_SIZE


class Command(BaseCommand):
    help = (
        "Remove the bodies of finished messages older than EMAIL_BODY_RETENTION_DAYS and the stored bodies of "
        "applied SNS notifications older than SNS_RAW_RETENTION_DAYS (0 keeps them), with a progress bar. "
        "Running it again changes nothing."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--batch-size", type=int, default=BATCH_SIZE, help="Rows per transaction.")
        parser.add_argument("--dry-run", action="store_true", help="Only say how many would be removed.")

    def handle(self, *args: Any, **options: Any) -> None:
        now = timezone.now()
        batch = max(1, options["batch_size"])
        body_days, sns_days = settings.EMAIL_BODY_RETENTION_DAYS, settings.SNS_RAW_RETENTION_DAYS
        if options["dry_run"]:
            if body_days:
                due = message_bodies_due(days=body_days, now=now).count()
                self.stdout.write(f"{due} message bodies are older than {body_days} days.")
            if sns_days:
                due = notification_bodies_due(days=sns_days, now=now).count()
                self.stdout.write(f"{due} SNS bodies are older than {sns_days} days.")
        else:
            if body_days:
                bar = ProgressBar(self.stdout, label="message bodies")
                removed = message_bodies_remove(days=body_days, now=now, batch_size=batch, progress=bar)
                self.stdout.write(f"Removed the bodies of {removed} message(s) older than {body_days} days.")
            if sns_days:
                bar = ProgressBar(self.stdout, label="SNS bodies")
                removed = notification_bodies_remove(days=sns_days, now=now, batch_size=batch, progress=bar)
                self.stdout.write(f"Removed {removed} stored SNS body(ies) older than {sns_days} days.")
        if not body_days:
            self.stdout.write("Message bodies are kept for ever (EMAIL_BODY_RETENTION_DAYS=0).")
        if not sns_days:
            self.stdout.write("SNS bodies are kept for ever (SNS_RAW_RETENTION_DAYS=0).")
