"""Every page at a phone's width (390 px) in a real Chromium: no sideways scrolling, a menu that folds, legible text."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import pytest
from django.contrib.auth.models import Permission
from django.utils import timezone
from playwright.sync_api import Page, expect

from emails.models import Attachment, Event, InboundNotification, Message, Recipient, Suppression
from emails.suppression import preferences_url
from emails.templating import TemplateDraft, template_save
from files.models import File
from tests.browser.test_analytics import sign_in
from tests.emails.test_pages import make_message
from tests.factories import UserFactory

pytestmark = [pytest.mark.browser]

SCREENSHOTS = "/tmp"  # noqa: S108 - screenshots for a human to look at
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}
# Long, unbroken values are what pushes a page wider than the screen.
LONG_ADDRESS = "accounts-payable.department-of-finance@subsidiary-holdings.example.com"
LONG_SUBJECT = "Your quarterly statement of account, including all outstanding invoices and credit notes"

# The WCAG 2.1 AA contrast of every visible piece of text against the background it is drawn on (alpha-blended
# down the ancestors), and of placeholders; large text (24 px, or 18.66 px bold) needs 3:1, the rest 4.5:1.
# Disabled controls are exempt, as WCAG exempts them.
CONTRAST_FAILURES = """() => {
  const parse = (value) => {
    const m = value.match(/rgba?\\(([^)]+)\\)/);
    if (!m) return null;
    const p = m[1].split(/[\\s,\\/]+/).filter(Boolean).map(Number);
    return [p[0], p[1], p[2], p.length > 3 ? p[3] : 1];
  };
  const over = (top, bottom) => [0, 1, 2].map((i) => top[i] * top[3] + bottom[i] * (1 - top[3])).concat([1]);
  const background = (element) => {
    const layers = [];
    for (let e = element; e; e = e.parentElement) {
      const color = parse(getComputedStyle(e).backgroundColor);
      if (color && color[3] > 0) { layers.push(color); if (color[3] >= 1) break; }
    }
    return layers.reduceRight((below, layer) => over(layer, below), [255, 255, 255, 1]);
  };
  const luminance = (c) => {
    const [r, g, b] = c.slice(0, 3).map((v) => {
      v /= 255;
      return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4);
    });
    return 0.2126 * r + 0.7152 * g + 0.0722 * b;
  };
  const ratio = (a, b) => {
    const [x, y] = [luminance(a), luminance(b)];
    return (Math.max(x, y) + 0.05) / (Math.min(x, y) + 0.05);
  };
  const needed = (style) => {
    const size = parseFloat(style.fontSize);
    return size >= 24 || (parseInt(style.fontWeight, 10) >= 700 && size >= 18.66) ? 3 : 4.5;
  };
  const failures = [];
  const check = (element, style, what) => {
    const back = background(element);
    const color = over(parse(style.color), back);
    const found = ratio(color, back);
    if (found < needed(style)) {
      failures.push(`${what} ${JSON.stringify(element.textContent.trim().slice(0, 40))} ${style.color} on ` +
        `rgb(${back.slice(0, 3).map(Math.round)}): ${found.toFixed(2)}:1`);
    }
  };
  const seen = new Set();
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  while (walker.nextNode()) {
    const element = walker.currentNode.parentElement;
    if (!walker.currentNode.textContent.trim() || seen.has(element)) continue;
    seen.add(element);
    if (element.closest(".visually-hidden, option, [disabled], .disabled")) continue;
    if (!element.getClientRects().length) continue;
    const style = getComputedStyle(element);
    if (style.visibility !== "hidden") check(element, style, element.tagName.toLowerCase());
  }
  for (const input of document.querySelectorAll("input[placeholder], textarea[placeholder]")) {
    if (!input.getClientRects().length) continue;
    check(input, getComputedStyle(input, "::placeholder"), "placeholder of #" + input.id);
  }
  return failures;
}"""


def page_width(page: Page) -> int:
    return int(page.evaluate("document.documentElement.scrollWidth"))


@pytest.fixture
def pages(live_server: Any, transactional_db: Any, ses: Any) -> dict[str, Any]:
    """A user with something on every page: mail to a long address with events, files, a contact."""
    user = UserFactory(first_name="Priya", last_name="Ramanathan-Okonkwo", is_staff=True)
    message = make_message(user, subject=LONG_SUBJECT, to=(LONG_ADDRESS, "bob@example.com"), cc=("cc@example.com",))
    Recipient.objects.filter(message=message, address=LONG_ADDRESS).update(
        status="bounced", reason="smtp; 550 5.1.1 " + LONG_ADDRESS + " user unknown (no such mailbox here)"
    )
    recipient = Recipient.objects.get(message=message, address=LONG_ADDRESS)
    now = timezone.now()
    Event.objects.bulk_create(
        Event(message=message, recipient=recipient, address=LONG_ADDRESS, type=kind, occurred_at=now + timedelta(i))
        for i, kind in enumerate(["send", "bounce"])
    )
    for i in range(3):
        make_message(user, subject=f"Reminder {i}", to=(f"client{i}@{LONG_ADDRESS.split('@')[1]}",))
    for name in ("Signed master services agreement, final version (countersigned).pdf", "invoice.pdf"):
        file_id = uuid.uuid4()
        File.objects.create(
            id=file_id,
            key=f"document/{user.pk}/{file_id}-x.pdf",
            file_name="x.pdf",
            original_name=name,
            content_type="application/pdf",
            size=123_456,
            max_size=200_000,
            category="contract",
            status="completed",
            owner=user,
            department_id="sales",
        )
    user.user_permissions.add(*Permission.objects.filter(codename__endswith="_template"))
    template = template_save(
        draft=TemplateDraft(slug="statement", name="Statement", category="notification",
                            subject="Your statement {{ period }}", html="<p>Dear {{ name }}, " + LONG_SUBJECT + "</p>",
                            text=""),
        by=user,
    )  # fmt: skip
    scheduled = make_message(user, subject="Renewal " + LONG_SUBJECT, to=(LONG_ADDRESS,))
    Message.objects.filter(pk=scheduled.pk).update(status="scheduled", send_after=now + timedelta(days=2))
    return {
        "user": user,
        "paths": {
            "compose": "/",
            "scheduled": "/emails?status=scheduled",
            "bulk": "/bulk",
            "settings": "/settings",
            "templates": "/templates",
            "template-editor": f"/templates/{template.slug}",
            "identities": "/identities",
            "preferences": "/" + preferences_url(address=LONG_ADDRESS).split("://", 1)[1].split("/", 1)[1],
            "log": "/emails",
            "message": f"/emails/{message.pk}",
            "analytics": "/analytics",
            "contact": f"/contacts/{LONG_ADDRESS}",
            "files": "/files",
            "file-delete": f"/files/{File.objects.get(original_name='invoice.pdf').pk}/delete",
        },
    }


def test_every_page_fits_a_phone_and_its_text_is_legible(pages: dict[str, Any], page: Page, live_server: Any) -> None:
    page.set_viewport_size(PHONE)
    page.goto(f"{live_server.url}/accounts/login/")
    expect(page.get_by_role("heading", name="Sign in to CRM Mail")).to_be_visible()
    visited = {"login": (page_width(page), page.evaluate(CONTRAST_FAILURES))}

    sign_in(page, live_server, pages["user"])
    for name, path in pages["paths"].items():
        page.goto(f"{live_server.url}{path}")
        expect(page.locator("main h1").first).to_be_visible()
        visited[name] = (page_width(page), page.evaluate(CONTRAST_FAILURES))
        if name in ("compose", "log", "files"):
            page.screenshot(path=f"{SCREENSHOTS}/{name}-390.png", full_page=True)

    assert {name: width for name, (width, _) in visited.items() if width > PHONE["width"]} == {}
    illegible = [f"{name}: {failure}" for name, (_, failures) in visited.items() for failure in failures]
    assert not illegible, "text below WCAG AA contrast:\n" + "\n".join(illegible)
    # The wide tables scroll inside their own box instead.
    page.goto(f"{live_server.url}/files")
    assert page.locator("#files-card .table-wrap").evaluate("box => box.scrollWidth > box.clientWidth")


def test_log_out_is_one_tap_away_on_a_phone_and_in_view_on_a_desktop(
    pages: dict[str, Any], page: Page, live_server: Any
) -> None:
    sign_in(page, live_server, pages["user"])
    log_out = page.get_by_role("button", name="Log out")
    menu = page.get_by_role("button", name="Menu")

    page.set_viewport_size(DESKTOP)
    for name, path in (("compose", "/"), ("files", "/files"), ("log", "/emails")):
        page.goto(f"{live_server.url}{path}")
        expect(log_out).to_be_visible()
        expect(page.get_by_role("navigation", name="Main").get_by_role("link", name="Files")).to_be_visible()
        expect(menu).to_be_hidden()
        assert page_width(page) <= DESKTOP["width"], name
        page.screenshot(path=f"{SCREENSHOTS}/{name}-1280.png", full_page=True)

    page.set_viewport_size(PHONE)
    expect(log_out).to_be_hidden()
    expect(menu).to_have_attribute("aria-expanded", "false")
    menu.click()
    expect(menu).to_have_attribute("aria-expanded", "true")
    expect(page.locator("#topbar-menu")).to_be_visible()
    expect(log_out).to_be_in_viewport()
    assert page_width(page) <= PHONE["width"]
    page.goto(f"{live_server.url}/")
    page.get_by_role("button", name="Menu").click()
    page.screenshot(path=f"{SCREENSHOTS}/compose-390-menu.png")
    # Escape folds it again and hands the focus back.
    page.keyboard.press("Escape")
    expect(menu).to_have_attribute("aria-expanded", "false")
    expect(menu).to_be_focused()
    expect(log_out).to_be_hidden()

    menu.click()
    log_out.click()
    expect(page.get_by_role("heading", name="Sign in to CRM Mail")).to_be_visible()


def test_without_a_script_the_menu_stays_open(pages: dict[str, Any], browser: Any, live_server: Any) -> None:
    context = browser.new_context(java_script_enabled=False, viewport=PHONE)
    try:
        page = context.new_page()
        sign_in(page, live_server, pages["user"])
        page.goto(f"{live_server.url}/emails")
        expect(page.get_by_role("button", name="Log out")).to_be_visible()
        expect(page.get_by_role("button", name="Menu")).to_be_hidden()
        assert page_width(page) <= PHONE["width"]
    finally:
        context.close()


def test_the_admin_is_branded_and_its_changelists_fit_a_desktop(
    pages: dict[str, Any], page: Page, live_server: Any
) -> None:
    """The admin, in the product's name with its icon; each changelist's columns fit 1280 px without scrolling."""
    user = pages["user"]
    user.is_superuser = True
    user.save()
    message = Message.objects.get(subject=LONG_SUBJECT)
    event = Event.objects.filter(message=message).last()
    Suppression.objects.create(
        address=LONG_ADDRESS, reason="bounce", detail="smtp; 550 5.1.1 user unknown", event=event
    )
    InboundNotification.objects.create(
        sns_message_id=str(uuid.uuid4()),
        type="Notification",
        topic_arn="arn:aws:sns:eu-central-1:123456789012:crm-email-production-ses-event-publishing",
        body="{}",
        processed_at=timezone.now(),
    )
    file = File.objects.get(original_name__startswith="Signed")
    Attachment.objects.create(
        message=message,
        file=file,
        filename=file.original_name,
        content_type=file.content_type,
        size=file.size,
        position=0,
    )
    sign_in(page, live_server, user)
    page.set_viewport_size(DESKTOP)

    page.goto(f"{live_server.url}/admin/")
    expect(page.locator("#site-name")).to_have_text("CRM Mail")
    expect(page.get_by_role("heading", name="CRM Mail administration")).to_be_visible()
    assert page.title() == "CRM Mail administration | CRM Mail"
    assert page.locator("link[rel=icon]").get_attribute("href", timeout=1000).startswith("data:image/svg+xml")

    overflowing = {}
    for path in ("emails/message", "emails/recipient", "emails/event", "emails/suppression",
                 "emails/inboundnotification", "emails/attachment", "files/file"):  # fmt: skip
        page.goto(f"{live_server.url}/admin/{path}/")
        expect(page.locator("#result_list tbody tr").first).to_be_visible()
        table, box = page.locator("#result_list").evaluate("t => [t.offsetWidth, t.closest('.results').clientWidth]")
        if table > box or page_width(page) > DESKTOP["width"]:
            overflowing[path] = (table, box, page_width(page))
        if path == "emails/message":
            page.screenshot(path=f"{SCREENSHOTS}/admin-messages-1280.png", full_page=True)
    assert overflowing == {}

    # Events newest first, in their list and on their message's page.
    page.goto(f"{live_server.url}/admin/emails/event/")
    expect(page.locator("#result_list tbody tr").first).to_contain_text("Bounce")
    page.goto(f"{live_server.url}/admin/emails/message/{message.pk}/change/")
    expect(page.locator("#events-group tbody tr").first).to_contain_text("Bounce")
