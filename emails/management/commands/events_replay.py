"""Apply stored SNS notifications again, e.g. after a fix to event parsing.

Re-applying never doubles an event: an event is unique per notification,
type and address, and a recipient only ever moves up.
"""

from __future__ import annotations

import logging
from datetime import datetime, time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime

from emails.models import InboundNotification
from emails.tracking import notification_process

logger = logging.getLogger(__name__)

PROGRESS_EVERY = 500


def _moment(value: str) -> datetime:
    """An ISO date or date-time; naive ones are in TIME_ZONE."""
    moment = parse_datetime(value)
    if moment is None:
        day = parse_date(value)
        if day is None:
            raise ValueError(value)
        moment = datetime.combine(day, time.min)
    return moment if timezone.is_aware(moment) else timezone.make_aware(moment)


class Command(BaseCommand):
    help = "Re-process stored SNS notifications (received since a time, by id, or not yet processed)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--since", type=str, help="Only those received at or after this ISO date or date-time.")
        parser.add_argument(
            "--id",
            action="append",
            default=[],
            dest="ids",
            help="A notification's id or its SNS MessageId; repeat for several.",
        )
        parser.add_argument("--unprocessed", action="store_true", help="Only those not processed yet.")
        parser.add_argument("--all", action="store_true", help="Every stored notification.")

    def handle(self, *args: Any, **options: Any) -> None:
        notifications = self._select(options)
        ids = list(notifications.order_by("pk").values_list("pk", flat=True))
        total = len(ids)
        failed = 0
        for done, notification_id in enumerate(ids, start=1):
            try:
                notification_process(notification_id=notification_id)
            except Exception:  # one bad notification must not stop the replay of the others
                failed += 1
                logger.exception("Replaying notification %s failed", notification_id)
            if done % PROGRESS_EVERY == 0 and done < total:
                self.stdout.write(f"{done}/{total} notification(s) replayed")
        self.stdout.write(f"{total - failed} of {total} notification(s) replayed, {failed} failed.")
        if failed:
            raise CommandError(f"{failed} notification(s) could not be replayed; see the log.")

    def _select(self, options: dict[str, Any]) -> QuerySet[InboundNotification]:
        if not (options["since"] or options["ids"] or options["unprocessed"] or options["all"]):
            raise CommandError("Say which notifications: --since, --id, --unprocessed or --all.")
        # A body the retention removed has nothing left to apply (SNS_RAW_RETENTION_DAYS).
        notifications = InboundNotification.objects.filter(body_removed_at__isnull=True)
        if options["since"]:
            try:
                notifications = notifications.filter(received_at__gte=_moment(options["since"]))
            except ValueError as exc:
                raise CommandError(f"--since {options['since']!r} is not an ISO date or date-time.") from exc
        if options["ids"]:
            pks = [int(value) for value in options["ids"] if value.isdigit()]
            notifications = notifications.filter(Q(pk__in=pks) | Q(sns_message_id__in=options["ids"]))
        if options["unprocessed"]:
            notifications = notifications.filter(processed_at__isnull=True)
        return notifications
