"""Send one bulk from a CSV file on this machine: the same rules and service as POST /api/email/bulk."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser

from core.errors import ValidationFailed
from core.progress import ProgressBar
from emails.accepting import BulkDraft, LocalCsvRows, bulk_accept, csv_header_problem
from emails.choices import BulkStatus, Category, Priority
from emails.selectors import bulk_summary


class Command(BaseCommand):
    help = (
        "Send a bulk: one personalised message per row of FILE.csv (a header row naming `email`, and optionally "
        "`name` and `clientId`; every other column is the row's template data). Shows a progress bar while the "
        "rows are stored, and with --follow while they are sent."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", help="A CSV file on this machine.")
        parser.add_argument("--template", default="", help="A stored template's slug (or give --subject and bodies).")
        parser.add_argument("--subject", default="", help="A Django template; overrides the template's subject.")
        parser.add_argument("--html-file", default="", help="A file holding the HTML body, a Django template.")
        parser.add_argument("--text-file", default="", help="A file holding the text body, a Django template.")
        parser.add_argument("--category", required=True, choices=Category.values)
        parser.add_argument("--priority", default=Priority.NORMAL, choices=Priority.values)
        parser.add_argument("--name", default="", help="The bulk's name (the file's name when left out).")
        parser.add_argument("--user", required=True, help="Whose bulk it is: a username.")
        parser.add_argument("--from", dest="from_email", default="", help="A verified identity to send from.")
        parser.add_argument("--reply-to", default="")
        parser.add_argument("--send-at", default="", help="ISO 8601 with an offset or Z: send then.")
        parser.add_argument("--follow", action="store_true", help="Stay and show the sending until it is done.")

    def handle(self, *args: Any, **options: Any) -> None:
        path = options["file"]
        if not os.path.isfile(path):
            raise CommandError(f"No file {path!r}.")
        owner = get_user_model().objects.filter(username=options["user"]).first()
        if owner is None:
            raise CommandError(f"No user {options['user']!r}.")
        rows = LocalCsvRows(path)
        if problem := csv_header_problem(rows.header):
            raise CommandError(problem)
        draft = BulkDraft(
            name=options["name"] or Path(path).name,
            template=options["template"],
            subject=options["subject"],
            html=_read(options["html_file"]),
            text=_read(options["text_file"]),
            category=options["category"],
            priority=options["priority"],
            reply_to=options["reply_to"],
            from_email=options["from_email"],
            send_at=options["send_at"],
            rows=rows,
        )
        try:
            bulk = bulk_accept(owner=owner, draft=draft, progress=ProgressBar(self.stdout, label="stored"))
        except ValidationFailed as exc:
            raise CommandError("Not sent: " + "; ".join(f"{'.'.join(map(str, e.path))}: {e.message}"
                                                        for e in exc.errors)) from None  # fmt: skip
        self.stdout.write(self.style.SUCCESS(f"Bulk {bulk.pk}: {bulk.accepted} of {bulk.total} rows accepted."))
        for skipped in bulk.skipped[:20]:
            self.stdout.write(f"  row {skipped['index']} ({skipped['to']}) skipped: {skipped['reason']}")
        if len(bulk.skipped) > 20:
            self.stdout.write(f"  ... and {len(bulk.skipped) - 20} more (GET /api/email/bulk/{bulk.pk}/report.csv)")
        if options["follow"]:
            bar = ProgressBar(self.stdout, label="sent")
            while True:
                summary = bulk_summary(bulk)
                bar(summary.progress, 100)
                if summary.status in (BulkStatus.DONE, BulkStatus.CANCELLED, BulkStatus.PAUSED):
                    self.stdout.write(f"Bulk {summary.status}: {summary.counts}")
                    return
                time.sleep(1)


def _read(path: str) -> str:
    if not path:
        return ""
    try:
        return Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise CommandError(f"Could not read {path!r}: {exc}") from None
