"""A form whose CSRF check fails gets the product's own 403 page, which the site's CSP allows in full."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from tests.test_headers import SITE, policy


@pytest.mark.django_db
def test_a_sign_in_without_its_csrf_token_gets_the_products_page() -> None:
    response = Client(enforce_csrf_checks=True).post("/accounts/login/", {"username": "a", "password": "b"})

    assert response.status_code == 403
    page = response.content.decode()
    assert "<h1>This form could not be sent</h1>" in page
    assert "Nothing was changed" in page and 'href="/accounts/login/"' in page
    # Django's own page styled itself inline, which the policy blocks.
    assert "<style" not in page and " style=" not in page
    assert "/static/css/app" in page
    assert policy(response["Content-Security-Policy"]) == SITE


@pytest.mark.django_db
def test_a_signed_in_user_is_sent_back_to_the_log(user: Any) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)

    response = client.post("/settings", {})

    assert response.status_code == 403
    assert "Go to the email log" in response.content.decode()
