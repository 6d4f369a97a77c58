"""The composer end to end in a real (headless) Chromium: sign in, send, follow it in the log."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from emails.models import Message
from tests.factories import PASSWORD, UserFactory

pytestmark = [pytest.mark.browser]

SCREENSHOTS = "/tmp"  # noqa: S108 - screenshots for a human to look at


@pytest.fixture
def signed_in_page(page: Page, live_server: Any, transactional_db: Any, ses: Any) -> Page:
    """A browser signed in through the login page, on the composer."""
    user = UserFactory(first_name="Sam", last_name="Staff")
    page.goto(f"{live_server.url}/")
    # The composer needs a session: the login page comes first.
    expect(page).to_have_url(re.compile(r"/accounts/login/\?next=/$"))
    page.get_by_label("Username").fill(user.username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(f"{live_server.url}/")
    expect(page.get_by_role("heading", name="Compose email")).to_be_visible()
    expect(page.locator(".username")).to_have_text("Sam Staff")
    return page


def test_compose_send_and_follow_in_the_log(signed_in_page: Page, live_server: Any, ses: Any) -> None:
    page = signed_in_page
    page.get_by_role("textbox", name="To", exact=True).fill("Jane Client <jane@example.com>, bob@example.com")
    page.get_by_role("textbox", name="Subject", exact=True).fill("Welcome aboard")
    page.get_by_role("textbox", name="HTML body", exact=True).fill("<h1>Hello Jane</h1><p>Your portal is ready.</p>")
    page.get_by_role("combobox", name="Category", exact=True).select_option("client-portal")
    expect(page.locator("#address-count")).to_have_text("2")
    expect(page.locator("#split-note")).to_be_hidden()
    page.screenshot(path=f"{SCREENSHOTS}/composer.png", full_page=True)

    page.get_by_role("button", name="Send email").click()

    # The message page: delivery ran in the server's thread once the send committed.
    expect(page).to_have_url(re.compile(r"/emails/[0-9a-f-]{36}$"))
    message = Message.objects.get()
    assert page.url.endswith(str(message.pk))
    expect(page.locator(".flash-success")).to_contain_text("Email queued for 2 recipients.")
    expect(page.locator("#message-subject")).to_have_text("Welcome aboard")
    expect(page.locator(".title-meta .badge")).to_have_class(re.compile(r"\bbadge-sent\b"))
    expect(page.locator("#recipients-table tbody tr")).to_have_count(2)
    preview = page.frame_locator("iframe.preview")
    expect(preview.get_by_role("heading", name="Hello Jane")).to_be_visible()
    # A full-page screenshot leaves the sandboxed frame blank: use a viewport tall enough instead.
    viewport = page.viewport_size
    page.set_viewport_size({"width": 1280, "height": 1600})
    page.screenshot(path=f"{SCREENSHOTS}/message.png")
    if viewport:
        page.set_viewport_size(viewport)
    assert len(ses.sent_messages) == 1

    page.get_by_role("link", name="Email log").first.click()
    expect(page).to_have_url(f"{live_server.url}/emails")
    row = page.locator("#log-table tbody tr", has_text="Welcome aboard")
    expect(row).to_have_count(1)
    expect(row.locator(".badge")).to_have_text("Sent")
    expect(row.locator(".badge")).to_have_class(re.compile(r"\bbadge-sent\b"))
    expect(row).to_contain_text("jane@example.com")
    expect(row).to_contain_text("+1")
    expect(page.locator("#stat-total")).to_have_text("1")
    page.screenshot(path=f"{SCREENSHOTS}/log.png", full_page=True)
    assert Message.objects.get().status == "sent"


def test_an_invalid_address_is_shown_inline(signed_in_page: Page, ses: Any) -> None:
    page = signed_in_page
    page.get_by_role("textbox", name="To", exact=True).fill("jane@example.com, not-an-address")
    page.get_by_role("textbox", name="Subject", exact=True).fill("Hello")
    page.get_by_role("textbox", name="Text body", exact=True).fill("Hi there")
    page.get_by_role("combobox", name="Category", exact=True).select_option("notification")
    page.get_by_role("button", name="Send email").click()

    # The summary of every problem takes the focus, so a screen reader reads it first.
    expect(page.locator("#error-summary")).to_be_focused()
    expect(page.locator("#error-summary")).to_contain_text("To: Enter a valid email address: 'not-an-address'.")
    errors = page.locator("#id_to_errors")
    expect(errors).to_be_visible()
    # The bad address alone is quoted, not the whole field (issue 9).
    expect(errors).to_have_text("Enter a valid email address: 'not-an-address'.")
    expect(page.locator("#field-to")).to_have_class(re.compile(r"\bhas-error\b"))
    # What was typed is kept.
    expect(page.get_by_role("textbox", name="To", exact=True)).to_have_value("jane@example.com, not-an-address")
    expect(page.get_by_role("textbox", name="Text body", exact=True)).to_have_value("Hi there")
    page.screenshot(path=f"{SCREENSHOTS}/composer-error.png", full_page=True)
    assert Message.objects.count() == 0
    assert ses.sent_messages == []


def test_the_composer_notes_a_split_send(signed_in_page: Page) -> None:
    page = signed_in_page
    page.get_by_role("textbox", name="To", exact=True).fill(", ".join(f"to{i}@example.com" for i in range(40)))
    expect(page.locator("#split-note")).to_be_hidden()
    page.get_by_role("textbox", name="Cc", exact=True).fill(", ".join(f"Cc {i} <cc{i}@example.com>" for i in range(15)))
    expect(page.locator("#address-count")).to_have_text("55")
    expect(page.locator("#split-note")).to_be_visible()
    expect(page.locator("#split-calls")).to_have_text("2")
    expect(page.locator("#split-note")).to_contain_text("Bcc addresses are never shown")
