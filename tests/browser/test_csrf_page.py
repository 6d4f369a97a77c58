"""A form sent from a page whose CSRF cookie is gone (signed out and in elsewhere, cookies cleared) lands on the
product's 403 page, styled and readable at 1280 and 390 px, with the way back."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.browser.test_analytics import no_sideways_scroll, sign_in
from tests.factories import UserFactory

pytestmark = [pytest.mark.browser]

SCREENSHOTS = "/tmp"  # noqa: S108 - screenshots for a human to look at


def test_a_form_whose_check_fails_gets_the_products_page(page: Page, live_server: Any, transactional_db: Any) -> None:
    user = UserFactory()
    sign_in(page, live_server, user)
    page.set_viewport_size({"width": 1280, "height": 800})
    page.goto(f"{live_server.url}/settings")
    page.context.clear_cookies(name="csrftoken")

    page.get_by_role("button", name="Save settings").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("This form could not be sent")
    # Styled by the site's stylesheet: the primary button has its colour, not the browser's default link look.
    link = page.get_by_role("link", name="Go to the email log")
    expect(link).to_have_css("color", "rgb(255, 255, 255)")
    page.screenshot(path=f"{SCREENSHOTS}/csrf-failure-1280.png", full_page=True)
    page.set_viewport_size({"width": 390, "height": 844})
    no_sideways_scroll(page)
    page.screenshot(path=f"{SCREENSHOTS}/csrf-failure-390.png", full_page=True)
    link.click()
    expect(page).to_have_url(f"{live_server.url}/emails")
