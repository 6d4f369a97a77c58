"""Requeue messages a dead worker left in `sending` and re-dispatch lost tasks."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from emails.delivery import email_sweep


class Command(BaseCommand):
    help = "Return messages with an expired send lease to the queue and re-dispatch stale queued ones."

    def handle(self, *args: Any, **options: Any) -> None:
        self.stdout.write(f"{email_sweep()} message(s) handed back to the workers.")
