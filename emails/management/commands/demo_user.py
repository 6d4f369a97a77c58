"""Create (or reset) the demo sign-in of the embedded default and print it."""

from __future__ import annotations

import secrets
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Create or reset the 'demo' superuser with a fresh random password, and print it."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--username", default="demo")

    def handle(self, *args: Any, username: str, **options: Any) -> None:
        password = secrets.token_urlsafe(12)
        user, created = get_user_model().objects.get_or_create(
            username=username, defaults={"email": f"{username}@crm.example.com"}
        )
        user.is_staff = user.is_superuser = True
        user.set_password(password)
        user.save()
        action = "Created" if created else "Reset"
        self.stdout.write(
            self.style.SUCCESS(f"{action} the demo sign-in -> username: {username}  password: {password}")
        )
