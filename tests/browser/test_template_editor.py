"""The template editor in a real (headless) Chromium: the live preview, syntax errors inline, the variables panel."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.contrib.auth.models import Permission
from playwright.sync_api import Page, expect

from emails.models import Template
from emails.templating import TemplateDraft, template_save
from tests.browser.test_analytics import no_sideways_scroll, sign_in
from tests.factories import UserFactory

pytestmark = [pytest.mark.browser]

SCREENSHOTS = "/tmp"  # noqa: S108 - screenshots for a human to look at


@pytest.fixture
def invoice(page: Page, live_server: Any, transactional_db: Any) -> Template:
    """A template, and the browser signed in as a member who may edit it."""
    member = UserFactory(first_name="Erin", last_name="Editor")
    codenames = ("view_template", "add_template", "change_template", "delete_template")
    member.user_permissions.add(*Permission.objects.filter(codename__in=codenames, content_type__app_label="emails"))
    template = template_save(
        draft=TemplateDraft(
            slug="invoice",
            name="Invoice due",
            category="notification",
            subject="Invoice {{ number }} is due",
            html='<div style="font-family: Arial, sans-serif; max-width: 560px">\n<h2>Invoice {{ number }}</h2>\n'
            "<p>Hello {{ name|default:'there' }},</p>\n<p>Your invoice of {{ amount }} is due.</p>\n</div>",
            text="Invoice {{ number }} of {{ amount }} is due.",
        ),
        by=member,
    )
    sign_in(page, live_server, member)
    return template


def test_the_preview_follows_the_html_as_you_type(invoice: Template, page: Page, live_server: Any) -> None:
    page.set_viewport_size({"width": 1280, "height": 1400})
    page.goto(f"{live_server.url}/templates/invoice")
    frame = page.frame_locator("#preview-html")
    # On load: the saved source, rendered with each variable's placeholder.
    expect(frame.get_by_role("heading", name="Invoice [number]")).to_be_visible()
    expect(page.locator("#preview-subject")).to_have_text("Invoice [number] is due")

    sample = page.get_by_label("Sample data")
    sample.fill(json.dumps({"number": "<b>42</b>", "amount": "€120"}))
    expect(frame.get_by_role("heading", name="Invoice <b>42</b>")).to_be_visible()  # escaped: shown, not bold
    expect(frame.locator("b")).to_have_count(0)

    body = page.get_by_role("textbox", name="HTML body")
    body.click()
    body.press("Control+End")
    body.press_sequentially("\n<p>Pay by {{ due_date }}.</p>")
    # A new variable: listed as required, given a placeholder in the sample data, and rendered.
    expect(page.locator("#variables-list li", has_text="due_date")).to_contain_text("required")
    expect(frame.get_by_text("Pay by [due_date].")).to_be_visible()
    assert json.loads(sample.input_value())["due_date"] == "[due_date]"
    expect(page.locator("#preview-status")).to_have_text("Preview up to date.")
    page.screenshot(path=f"{SCREENSHOTS}/template-editor-1280.png")

    # A syntax error: at its field, with its line, and the preview waits for it to be fixed.
    body.press_sequentially("\n{% if paid %}<p>Thanks</p>")
    errors = page.locator("#id_html_live")
    expect(errors).to_contain_text("Line 7")
    expect(errors).to_contain_text("Unclosed tag")
    expect(body).to_have_attribute("aria-invalid", "true")
    assert "id_html_live" in (body.get_attribute("aria-describedby") or "").split()
    expect(page.locator("#preview-out")).to_have_class("preview-out is-stale")
    body.press_sequentially("{% endif %}")
    expect(errors).to_be_hidden()
    expect(page.locator("#variables-list li", has_text="paid")).to_contain_text("optional")

    page.set_viewport_size({"width": 390, "height": 2400})
    expect(frame.get_by_text("Pay by [due_date].")).to_be_visible()
    no_sideways_scroll(page)
    page.screenshot(path=f"{SCREENSHOTS}/template-editor-390.png")

    page.get_by_role("button", name="Save as version 2").click()
    expect(page.locator(".flash-success")).to_have_text("Saved as version 2.")
    assert "{% endif %}" in Template.objects.get(slug="invoice").html
