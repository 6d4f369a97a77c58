"""The bulk page in a real Chromium: paste, preview, send, and a live progress bar that fills without a reload."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import Page, expect

from emails.delivery import email_drain
from emails.models import Bulk, Message
from tests.browser.test_analytics import sign_in
from tests.factories import UserFactory

pytestmark = [pytest.mark.browser]

SCREENSHOTS = "/tmp"  # noqa: S108 - screenshots for a human to look at
# What sticks out past a phone's screen, to say so when the page scrolls sideways.
WIDER_THAN_THE_SCREEN = """() => [...document.querySelectorAll('body *')]
  .filter((e) => e.getBoundingClientRect().right > 392).slice(0, 5)
  .map((e) => `${e.tagName}.${e.className}#${e.id} ${Math.round(e.getBoundingClientRect().right)}`)"""
PASTED = "email,name,number\n" + "".join(f"p{i}@example.com,Person {i},{i}\n" for i in range(6)) + "bad,Bad,9\n"


def test_paste_preview_send_and_watch_the_progress_bar(
    page: Page, live_server: Any, transactional_db: Any, ses: Any, settings: Any, monkeypatch: Any
) -> None:
    settings.PAGES_LIVE_POLL_SECONDS = 1
    # No worker: the page shows the bulk waiting, then this test drains it while the page watches.
    monkeypatch.setattr("emails.accepting.bulk.email_drain_schedule", lambda: None)
    sign_in(page, live_server, UserFactory())
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(f"{live_server.url}/bulk")
    page.get_by_label("Name", exact=True).fill("December statements")
    page.get_by_label("Or paste the recipients").fill(PASTED)
    page.get_by_label("Subject", exact=True).fill("Statement {{ number }}")
    page.get_by_label("HTML body").fill("<p>Dear {{ name }}, your statement {{ number }} is ready.</p>")
    page.get_by_label("Category").select_option("notification")
    page.get_by_role("button", name="Preview the first messages").click()
    preview = page.locator("#bulk-preview")
    expect(preview).to_contain_text("Statement 0")
    expect(page.frame_locator("#bulk-preview iframe").first.locator("body")).to_contain_text("Dear Person 0")
    assert not Bulk.objects.exists()
    page.screenshot(path=f"{SCREENSHOTS}/bulk-new.png", full_page=True)

    page.get_by_role("button", name="Send the bulk").click()
    expect(page.locator(".flash-success")).to_contain_text("6 of 7 recipients accepted; 1 skipped")
    expect(page.locator("#bulk-progress")).to_have_attribute("value", "0")
    expect(page.locator("#skipped-table")).to_contain_text("bad")
    email_drain(limit=3)
    expect(page.locator("#bulk-progress")).to_have_attribute("value", "50")
    email_drain()
    expect(page.locator("#bulk-progress")).to_have_attribute("value", "100")
    expect(page.locator("#bulk-live .badge")).to_have_text("Done")
    page.screenshot(path=f"{SCREENSHOTS}/bulk-detail.png", full_page=True)
    page.set_viewport_size({"width": 390, "height": 844})
    wide = page.evaluate(WIDER_THAN_THE_SCREEN)
    assert page.evaluate("document.documentElement.scrollWidth") <= 390, wide
    page.goto(f"{live_server.url}/bulk")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.screenshot(path=f"{SCREENSHOTS}/bulk-390.png", full_page=True)

    # A message of the bulk stores no bodies: its page renders them from the bulk, the HTML and the text.
    message = Message.objects.get(bulk__isnull=False, bulk_index=2)
    assert (message.html_body, message.text_body) == ("", "")
    for width, height in ((1280, 900), (390, 844)):
        page.set_viewport_size({"width": width, "height": height})
        page.goto(f"{live_server.url}/emails/{message.pk}")
        expect(page.frame_locator("iframe.preview").locator("body")).to_contain_text("Dear Person 2, your statement 2")
        expect(page.locator("pre.text-body")).to_contain_text("Dear Person 2, your statement 2 is ready.")
        assert page.evaluate("document.documentElement.scrollWidth") <= width
        page.screenshot(path=f"{SCREENSHOTS}/bulk-message-{width}.png", full_page=True)
        page.locator("iframe.preview").screenshot(path=f"{SCREENSHOTS}/bulk-message-html-{width}.png")
