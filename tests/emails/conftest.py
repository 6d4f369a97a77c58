"""Fixtures the emails tests share."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client


@pytest.fixture
def signed_in(client: Client, user: Any) -> Client:
    """The test client, signed in as `user`."""
    client.force_login(user)
    return client
