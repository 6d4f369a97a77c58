"""The analytics dashboard, the contact page and live updates, in a real (headless) Chromium."""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path
from typing import Any

import pytest
from django.test import Client
from playwright.sync_api import Page, expect

from emails.models import Message
from tests.emails.test_analytics import client_for, events, send
from tests.emails.test_pages import make_message
from tests.factories import UserFactory

pytestmark = [pytest.mark.browser]

SCREENSHOTS = "/tmp"  # noqa: S108 - screenshots for a human to look at
TO = ["ann@one.example", "bob@one.example", "cat@two.example"]


def sign_in(page: Page, live_server: Any, user: Any) -> None:
    """A session for `user` in the browser (the login page itself is tested in test_compose)."""
    client = Client()
    client.force_login(user)
    cookie = client.cookies["sessionid"]
    page.context.add_cookies([{"name": "sessionid", "value": cookie.value, "url": live_server.url}])


def no_sideways_scroll(page: Page) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= page.viewport_size["width"], f"the page is {width} px wide"


@pytest.fixture
def mailed(page: Page, live_server: Any, transactional_db: Any, ses: Any, sns: None, post_email: Any) -> Message:
    """Three recipients: two delivered (one of them opened), one bounced; the browser signed in as the sender."""
    user = UserFactory()
    message = send(post_email, TO, clientId="acme", client=client_for(user))
    events(message, ("Delivery", TO[:2]), ("Open", TO[:1]), ("Bounce", TO[2:]))
    sign_in(page, live_server, user)
    return message


def test_the_dashboard_draws_its_charts_and_filters(mailed: Message, page: Page, live_server: Any) -> None:
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(f"{live_server.url}/analytics")

    expect(page.get_by_role("heading", name="Analytics")).to_be_visible()
    expect(page.locator("html")).to_have_attribute("data-charts-drawn", "true")
    expect(page.locator("#card-deliveryRate .stat-value")).to_have_text("66.7%")
    expect(page.locator("#card-bounceRate")).to_have_class(re.compile(r"\blevel-red\b"))
    # Every chart is a canvas that was drawn on, and each has a table for those who cannot see it.
    for canvas in page.locator("canvas").all():
        assert canvas.evaluate("c => c.width > 0 && c.height > 0")
    expect(page.locator("#daily-table tbody tr")).to_have_count(1)
    page.screenshot(path=f"{SCREENSHOTS}/analytics-1280.png", full_page=True)

    # A client that sent nothing: the filter applies, the figures follow.
    page.get_by_label("Client id").fill("nobody")
    page.get_by_role("button", name="Apply").click()
    expect(page).to_have_url(re.compile(r"clientId=nobody"))
    expect(page.locator("#card-deliveryRate .stat-value")).to_have_text("0.0%")

    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"{live_server.url}/analytics")
    expect(page.locator("html")).to_have_attribute("data-charts-drawn", "true")
    no_sideways_scroll(page)
    page.screenshot(path=f"{SCREENSHOTS}/analytics-390.png", full_page=True)


def test_a_breakdown_downloads_as_csv(mailed: Message, page: Page, live_server: Any, tmp_path: Path) -> None:
    page.goto(f"{live_server.url}/analytics")
    with page.expect_download() as download:
        page.locator("#domains-title").locator("xpath=..").get_by_role("link", name="CSV").click()
    path = tmp_path / "domains.csv"
    download.value.save_as(path)
    rows = list(csv.DictReader(io.StringIO(path.read_text())))
    assert {row["domain"]: row["sent"] for row in rows} == {"one.example": "2", "two.example": "1"}


def test_bad_filters_are_shown_on_their_fields(mailed: Message, page: Page, live_server: Any) -> None:
    page.goto(f"{live_server.url}/analytics?tz=Mars/Olympus")
    expect(page.locator("#filter-errors")).to_be_focused()  # the summary first, then each field's own error
    field = page.get_by_label("Time zone")
    described = field.get_attribute("aria-describedby") or ""
    assert described and all(page.locator(f"#{ident}").count() == 1 for ident in described.split())
    said = " ".join(page.locator(f"#{ident}").inner_text() for ident in described.split())
    assert "'Mars/Olympus' is not a time zone name" in said


def test_the_contact_page_follows_one_address(mailed: Message, page: Page, live_server: Any) -> None:
    page.goto(f"{live_server.url}/emails/{mailed.pk}")
    page.get_by_role("link", name=TO[2]).first.click()
    expect(page).to_have_url(f"{live_server.url}/contacts/{TO[2]}")
    expect(page.get_by_role("heading", name=TO[2])).to_be_visible()
    expect(page.locator("#contact-table tbody tr")).to_have_count(1)
    expect(page.locator("#contact-table tbody tr .badge")).to_have_text("Bounced")
    for width in (1280, 390):
        page.set_viewport_size({"width": width, "height": 844})
        no_sideways_scroll(page)
        page.screenshot(path=f"{SCREENSHOTS}/contact-{width}.png", full_page=True)


# --- Live updates -------------------------------------------------------------------------------


@pytest.fixture
def fast_poll(settings: Any) -> None:
    settings.PAGES_LIVE_POLL_SECONDS = 1


def test_an_open_message_page_turns_delivered_without_a_reload(
    fast_poll: None, page: Page, live_server: Any, transactional_db: Any, ses: Any, sns: None, post_email: Any
) -> None:
    user = UserFactory()
    message = send(post_email, TO[:2], client=client_for(user))
    sign_in(page, live_server, user)
    page.goto(f"{live_server.url}/emails/{message.pk}")
    expect(page.locator(".title-meta .badge")).to_have_text("Sent")
    page.evaluate("window.notReloaded = true")

    events(message, ("Delivery", TO[:1]))
    expect(page.locator("#message-outcomes")).to_contain_text("Delivered")
    expect(page.locator("#recipients-table tbody tr", has_text=TO[0]).locator(".badge")).to_have_text("Delivered")
    expect(page.locator("#message-live")).to_have_attribute("hx-get", re.compile("/live"))  # one still to hear of

    expect(page.locator("#live-status")).to_have_text("Sent: 1 delivered, 1 sent")  # said to a screen reader

    events(message, ("Delivery", TO[1:]))
    expect(page.locator(".title-meta .badge")).to_have_text("Delivered")
    expect(page.locator("#live-status")).to_have_text("Delivered: 2 delivered")
    expect(page.locator("#message-live")).not_to_have_attribute("hx-get", re.compile("."))  # settled: polling stops
    assert page.evaluate("window.notReloaded") is True


def test_the_log_redraws_rows_in_flight(fast_poll: None, page: Page, live_server: Any, transactional_db: Any) -> None:
    user = UserFactory()
    waiting = make_message(user, subject="Waiting", status="queued")
    make_message(user, subject="Done", status="sent")
    sign_in(page, live_server, user)
    page.goto(f"{live_server.url}/emails")
    row = page.locator(f"#row-{waiting.pk}")
    expect(row.locator(".badge")).to_have_text("Queued")

    Message.objects.filter(pk=waiting.pk).update(status="failed", status_reason="SES refused it")
    expect(row.locator(".badge")).to_have_text("Failed")
    expect(page.locator("#log-live")).not_to_have_attribute("hx-get", re.compile("."))
    expect(page.locator("#log-table tbody tr")).to_have_count(2)  # redrawn in place, nothing added
