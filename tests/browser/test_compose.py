"""The composer end to end in a real (headless) Chromium: sign in, send, follow it in the log."""

from __future__ import annotations

import re
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.contrib.auth.models import Permission
from playwright.sync_api import Page, expect

from emails.models import Message, Suppression, Template
from emails.suppression import suppression_add
from emails.templating import TemplateDraft, template_save
from tests.browser.test_analytics import sign_in
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
    page.get_by_role("textbox", name="Subject", exact=True).click()  # leaving the field makes the last chip
    # Validated as you type: the bad entry's chip says so before anything is sent.
    expect(page.locator("#field-to .chip-bad")).to_contain_text("not-an-address")
    expect(page.locator("#field-to .chip-ok")).to_contain_text("jane@example.com")
    page.get_by_role("textbox", name="Subject", exact=True).fill("Hello")
    page.get_by_role("textbox", name="Text body", exact=True).fill("Hi there")
    page.get_by_role("combobox", name="Category", exact=True).select_option("notification")
    page.get_by_role("button", name="Send email").click()

    # The first field in error takes the focus; the summary lists every problem.
    expect(page.get_by_role("textbox", name="To", exact=True)).to_be_focused()
    expect(page.locator("#error-summary")).to_contain_text("To: Enter a valid email address: 'not-an-address'.")
    errors = page.locator("#id_to_errors")
    expect(errors).to_be_visible()
    # The bad address alone is quoted, not the whole field (issue 9).
    expect(errors).to_have_text("Enter a valid email address: 'not-an-address'.")
    expect(page.locator("#field-to")).to_have_class(re.compile(r"\bhas-error\b"))
    # What was typed is kept, as chips.
    expect(page.locator("#field-to .chip-item")).to_have_count(2)
    expect(page.locator("#id_to_value")).to_have_value("jane@example.com, not-an-address")
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
    expect(page.locator("#split-note")).to_contain_text("sent as 2 SES messages of at most 50 addresses each")


# --- The composer's chips, counters, template picker, scheduling, one send per click (issue 11) -----------------


@pytest.fixture
def composer(page: Page, live_server: Any, transactional_db: Any, ses: Any) -> Page:
    """Signed in (as a user who may view templates) on the composer, at a desktop width."""
    user = UserFactory(email="sam@crm.example.com")
    user.user_permissions.add(Permission.objects.get(codename="view_template"))
    sign_in(page, live_server, user)
    page.set_viewport_size({"width": 1280, "height": 1000})
    page.goto(f"{live_server.url}/")
    return page


def test_chips_and_counters_hold_the_real_limits(composer: Page) -> None:
    page = composer
    to = page.get_by_role("textbox", name="To", exact=True)
    to.fill(", ".join(f"to{i}@example.com" for i in range(51)) + ",")
    expect(page.locator("#field-to .chip-item")).to_have_count(51)
    expect(page.locator("#id_to_count")).to_have_text("51 of 50 in To")
    expect(page.locator("#id_to_count")).to_have_class(re.compile(r"\bover\b"))
    expect(page.locator("#limit-note")).to_contain_text("at most 50 per field")
    expect(page.get_by_role("button", name="Send email")).to_be_disabled()
    page.screenshot(path=f"{SCREENSHOTS}/composer-limits.png", full_page=True)

    page.get_by_role("button", name="Remove to50@example.com").click()
    expect(page.locator("#id_to_count")).to_have_text("50 of 50 in To")
    expect(page.locator("#id_to_count")).not_to_have_class(re.compile(r"\bover\b"))
    expect(page.get_by_role("button", name="Send email")).to_be_enabled()
    page.get_by_role("textbox", name="Cc", exact=True).fill(", ".join(f"cc{i}@example.com" for i in range(50)) + ",")
    expect(page.locator("#address-count")).to_have_text("100")
    expect(page.get_by_role("button", name="Send email")).to_be_enabled()
    page.get_by_role("textbox", name="Bcc", exact=True).fill("one-more@example.com,")
    expect(page.locator("#recipient-total")).to_have_class(re.compile(r"\bover\b"))
    expect(page.locator("#limit-note")).to_contain_text("101 recipients in all; at most 100.")
    expect(page.get_by_role("button", name="Send email")).to_be_disabled()


def test_a_suppressed_chip_says_why(composer: Page) -> None:
    suppression_add(address="gone@example.com", reason="bounce")
    page = composer
    page.get_by_role("textbox", name="To", exact=True).fill("gone@example.com, fine@example.com,")
    warned = page.locator("#field-to .chip-warn")
    expect(warned).to_contain_text("gone@example.com")
    expect(warned).to_contain_text("Suppressed for all mail: permanent bounce on")
    expect(page.locator("#field-to .chip-ok")).to_contain_text("fine@example.com")


def test_a_marketing_send_to_two_is_noted_with_its_true_reason(composer: Page) -> None:
    page = composer
    page.get_by_role("textbox", name="To", exact=True).fill("a@example.com, b@example.com,")
    expect(page.locator("#split-note")).to_be_hidden()
    page.get_by_role("combobox", name="Category", exact=True).select_option("marketing")
    expect(page.locator("#split-note")).to_contain_text("Marketing goes one recipient per call")


def test_the_template_picker_shows_its_variables_and_a_live_preview(composer: Page, ses: Any) -> None:
    # After another transactional test the tables are empty: the seeds' password reset, if it is not there.
    if not Template.objects.filter(slug="password-reset").exists():
        template_save(
            draft=TemplateDraft(
                slug="password-reset", name="Password reset", category="auth", subject="Password reset",
                html='<p>Hello {{ name }},</p><p><a href="{{ resetUrl }}">Reset</a></p>', text="",
            ),
            by=None,
        )  # fmt: skip
    page = composer
    page.reload()
    page.get_by_role("combobox", name="Template", exact=True).select_option(label="Password reset")
    expect(page.locator("#template-note")).to_be_visible()
    expect(page.locator("#body-fields")).to_be_hidden()
    name = page.get_by_role("textbox", name="name")
    expect(name).to_be_visible()
    expect(page.get_by_role("textbox", name="resetUrl")).to_be_visible()
    expect(page.locator("#preview-missing")).to_contain_text("name, resetUrl")
    name.fill("<b>Jo</b>")
    frame = page.frame_locator("#preview-frame")
    expect(frame.locator("body")).to_contain_text("Hello <b>Jo</b>,")  # shown as text: escaped
    expect(page.locator("#preview-missing")).to_contain_text("resetUrl")
    page.get_by_role("textbox", name="resetUrl").fill("https://crm.example.com/reset/abc")
    expect(page.locator("#preview-missing")).to_be_hidden()
    expect(page.get_by_role("combobox", name="Category", exact=True)).to_have_value("auth")
    page.get_by_role("textbox", name="To", exact=True).fill("jo@example.com")
    page.screenshot(path=f"{SCREENSHOTS}/composer-template.png", full_page=True)
    page.get_by_role("button", name="Send email").click()
    expect(page).to_have_url(re.compile(r"/emails/[0-9a-f-]{36}$"))
    message = Message.objects.get()
    assert message.template_data == {"name": "<b>Jo</b>", "resetUrl": "https://crm.example.com/reset/abc"}


def test_send_later_then_cancel_from_the_log(composer: Page, live_server: Any, ses: Any) -> None:
    page = composer
    page.get_by_role("textbox", name="To", exact=True).fill("later@example.com")
    page.get_by_role("textbox", name="Subject", exact=True).fill("Tomorrow's news")
    page.get_by_role("textbox", name="Text body", exact=True).fill("Soon")
    page.get_by_role("combobox", name="Category", exact=True).select_option("notification")
    tomorrow = page.evaluate(
        "() => { const d = new Date(Date.now() + 86400000); const p = n => String(n).padStart(2, '0');"
        " return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T09:30`; }"
    )
    page.get_by_label("Send later").fill(tomorrow)
    expect(page.get_by_role("button", name="Schedule email")).to_be_visible()
    page.get_by_role("button", name="Schedule email").click()
    expect(page.locator(".flash-success")).to_contain_text("Email scheduled for 1 recipient, to go at")
    expect(page.locator("#scheduled-for")).to_be_visible()
    message = Message.objects.get()
    assert message.status == "scheduled" and ses.sent_messages == []
    browser_zone = page.evaluate("Intl.DateTimeFormat().resolvedOptions().timeZone")
    assert message.send_after.astimezone(ZoneInfo(browser_zone)).strftime("%H:%M") == "09:30"

    page.goto(f"{live_server.url}/emails?status=scheduled")
    row = page.locator("#log-table tbody tr", has_text="Tomorrow's news")
    expect(row).to_contain_text("Scheduled")
    row.get_by_role("button", name=re.compile("Cancel")).click()
    expect(page.locator(".flash-success")).to_contain_text("is cancelled")
    message.refresh_from_db()
    assert message.status == "cancelled"


def test_a_double_click_sends_once(composer: Page, ses: Any) -> None:
    page = composer
    page.get_by_role("textbox", name="To", exact=True).fill("once@example.com")
    page.get_by_role("textbox", name="Subject", exact=True).fill("Once")
    page.get_by_role("textbox", name="Text body", exact=True).fill("Only once")
    page.get_by_role("combobox", name="Category", exact=True).select_option("notification")
    page.get_by_role("button", name="Send email").dblclick()
    expect(page).to_have_url(re.compile(r"/emails/[0-9a-f-]{36}$"))
    assert Message.objects.count() == 1
    assert len(ses.sent_messages) == 1


def test_every_error_at_once_with_focus_and_descriptions_that_exist(composer: Page) -> None:
    page = composer
    page.get_by_role("textbox", name="To", exact=True).fill("not-an-address")
    page.get_by_label("Send later").fill("2020-01-01T09:00")
    page.locator("#send-button").click()
    summary = page.locator("#error-summary")
    expect(summary).to_contain_text("To:")
    expect(summary).to_contain_text("Subject:")
    expect(summary).to_contain_text("Category:")
    expect(summary).to_contain_text("Send later: This time has passed")
    expect(page.get_by_role("textbox", name="To", exact=True)).to_be_focused()
    described = page.eval_on_selector_all(
        "[aria-describedby]",
        "els => els.flatMap(e => e.getAttribute('aria-describedby').split(/\\s+/).filter(Boolean))",
    )
    assert described, "nothing is described"
    missing = [ident for ident in described if page.locator(f"[id='{ident}']").count() != 1]
    assert missing == [], f"aria-describedby names ids that do not exist: {missing}"


def test_the_composer_at_390_px_does_not_scroll_sideways(composer: Page) -> None:
    page = composer
    page.set_viewport_size({"width": 390, "height": 844})
    page.get_by_role("textbox", name="To", exact=True).fill(
        "accounts-payable.department-of-finance@subsidiary-holdings.example.com, b@example.com,"
    )
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"the composer is {width} px wide"
    page.screenshot(path=f"{SCREENSHOTS}/composer-390.png", full_page=True)


def test_staff_lift_a_suppression_from_its_chip(page: Page, live_server: Any, transactional_db: Any) -> None:
    staff = UserFactory(is_staff=True)
    staff.user_permissions.add(*Permission.objects.filter(codename__in=["change_suppression", "view_suppression"]))
    suppression_add(address="back@example.com", reason="bounce")
    sign_in(page, live_server, staff)
    page.goto(f"{live_server.url}/")
    page.get_by_role("textbox", name="To", exact=True).fill("back@example.com,")
    expect(page.locator("#field-to .chip-warn")).to_contain_text("permanent bounce")
    page.get_by_role("button", name="Lift the suppression of back@example.com").click()
    expect(page.locator("#send-state")).to_have_text("The suppression of back@example.com is lifted.")
    expect(page.locator("#field-to .chip-ok")).to_contain_text("back@example.com")
    assert Suppression.objects.get().lifted_by == staff
