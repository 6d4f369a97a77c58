"""Every page under the Content-Security-Policy in a real Chromium: nothing it needs is refused.

The headers themselves are tested route by route in tests/test_headers.py; this is what proves the policy broke
nothing: each page is visited with its scripts, styles, charts, htmx polls, Swagger UI and the admin running,
and the browser reports no violation, neither as a `securitypolicyviolation` event nor on its console (where
it reports the refusals of sandboxed frames, which run no script).
"""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import ConsoleMessage, Page, expect

from emails.accepting import BulkDraft, BulkRow, bulk_accept
from emails.models import Message
from tests.browser.test_analytics import sign_in
from tests.browser.test_layout import pages  # noqa: F401 - the fixture: a user with something on every page
from tests.emails.test_pages import make_message

pytestmark = [pytest.mark.browser]

# Recorded in every document that runs scripts, before its own scripts.
LISTEN = """
window.__violations = [];
document.addEventListener("securitypolicyviolation", (e) => {
  const where = `${e.sourceFile}:${e.lineNumber}`;
  window.__violations.push(`${e.violatedDirective} refused ${e.blockedURI || "inline"} (${where})`);
});
"""
# An email's layout, as css-inline leaves it: style attributes everywhere, and an image inlined as data.
STYLED_HTML = (
    '<table width="100%" style="background-color: #f1f5f9"><tr><td style="padding: 16px">'
    '<h1 style="color: #0f172a; font-size: 22px">Your statement</h1>'
    '<p style="color: rgb(30, 64, 175)">Dear Ada, it is ready.</p></td></tr></table>'
)


class Violations:
    """What the browser refused, from the console (every frame) and from the page's own listener."""

    def __init__(self, page: Page) -> None:
        self.page = page
        self.console: list[str] = []
        page.context.add_init_script(LISTEN)
        page.on("console", self._console)

    def _console(self, entry: ConsoleMessage) -> None:
        if "Content Security Policy" in entry.text or "Content-Security-Policy" in entry.text:
            self.console.append(entry.text)

    def take(self) -> list[str]:
        found = self.console + list(self.page.evaluate("window.__violations || []"))
        self.console = []
        return found


def visit(page: Page, url: str, ready: str = "main h1") -> None:
    page.goto(url)
    expect(page.locator(ready).first).to_be_visible()
    page.wait_for_load_state("networkidle")


@pytest.fixture
def more(
    pages: dict[str, Any],  # noqa: F811 - the fixture imported above
    settings: Any,
    monkeypatch: Any,
) -> dict[str, str]:
    """Beyond the layout test's pages: mail in flight (htmx polls), an HTML body, a bulk, a new template."""
    settings.PAGES_LIVE_POLL_SECONDS = 1
    user = pages["user"]
    styled = make_message(user, subject="Styled", to=("ada@example.com",))
    Message.objects.filter(pk=styled.pk).update(html_body=STYLED_HTML + '<img src="https://t.example/o.gif">')
    queued = make_message(user, subject="On its way", status="queued")
    monkeypatch.setattr("emails.accepting.bulk.email_drain_schedule", lambda: None)  # it stays in flight
    bulk = bulk_accept(
        owner=user,
        draft=BulkDraft(name="Spring", subject="Hi", text="Hello", category="notification",
                        rows=[BulkRow(to="ada@example.com"), BulkRow(to="bob@example.com")]),
    )  # fmt: skip
    return {
        "message-html": f"/emails/{styled.pk}",
        "message-html-images": f"/emails/{styled.pk}?images=remote",
        "message-in-flight": f"/emails/{queued.pk}",
        "log-in-flight": "/emails",
        "bulk-in-flight": f"/bulk/{bulk.pk}",
        "template-new": "/templates/new",
    }


def test_no_page_breaks_the_policy(
    pages: dict[str, Any],  # noqa: F811 - the fixture imported above
    more: dict[str, str],
    page: Page,
    live_server: Any,
) -> None:
    violations = Violations(page)
    refused: dict[str, list[str]] = {}
    page.set_viewport_size({"width": 1280, "height": 900})

    visit(page, f"{live_server.url}/accounts/login/")
    refused["login"] = violations.take()
    sign_in(page, live_server, pages["user"])
    pages["user"].is_superuser = True  # the admin's every page
    pages["user"].save(update_fields=["is_superuser"])

    for name, path in {**pages["paths"], **more}.items():
        visit(page, f"{live_server.url}{path}")
        if name == "analytics":
            expect(page.locator("html")).to_have_attribute("data-charts-drawn", "true")  # Chart.js drew
        if name.endswith("in-flight"):
            with page.expect_response(lambda r: "/live" in r.url and r.status == 200):
                pass  # one htmx poll went out and came back
        if name.startswith("message-html"):
            frame = page.frame_locator("iframe.preview")
            expect(frame.locator("p")).to_have_css("color", "rgb(30, 64, 175)")  # its style attributes apply
        found = violations.take()
        if name == "message-html":  # its remote image is refused (until asked): that refusal is the point
            assert [v for v in found if "t.example" in v and "img-src" in v], found
            found = [v for v in found if "t.example" not in v]
        refused[name] = found

    visit(page, f"{live_server.url}/api/docs/", ready="#swagger-ui .opblock")
    refused["api-docs"] = violations.take()
    message = Message.objects.filter(owner=pages["user"]).first()
    assert message is not None
    for path in ("/admin/", "/admin/emails/message/", f"/admin/emails/message/{message.pk}/change/",
                 "/admin/auth/user/add/", "/admin/emails/template/"):  # fmt: skip
        visit(page, f"{live_server.url}{path}", ready="#content")
        refused[path] = violations.take()

    assert {name: found for name, found in refused.items() if found} == {}
    assert len(refused) >= 25

    # The control: a style attribute where the policy forbids one is seen, so an empty list above means something.
    visit(page, f"{live_server.url}/emails")
    page.evaluate("document.body.insertAdjacentHTML('beforeend', '<p style=\"color: red\">x</p>')")
    page.wait_for_function("() => window.__violations.length > 0")
    assert any("style-src" in v for v in violations.take())


def test_a_poll_waits_while_the_focus_is_inside_what_it_would_redraw(
    pages: dict[str, Any],  # noqa: F811 - the fixture imported above
    more: dict[str, str],
    page: Page,
    live_server: Any,
) -> None:
    # htmx's trigger filters are evaluated code, which the policy refuses: static/js/live.js holds the poll instead.
    page.context.add_init_script(
        """window.__polls = {asked: 0, held: 0};
        window.addEventListener("htmx:beforeRequest", (e) => {
          window.__polls.asked++;
          if (e.defaultPrevented) window.__polls.held++;
        });"""
    )
    sign_in(page, live_server, pages["user"])
    visit(page, f"{live_server.url}{more['message-in-flight']}")
    with page.expect_response(lambda r: "/live" in r.url):
        pass
    polled: list[str] = []
    page.on("request", lambda r: polled.append(r.url) if "/live" in r.url else None)

    page.locator("#message-live a").first.focus()
    page.wait_for_function("() => window.__polls.held >= 2")
    assert polled == []  # two polls came due, neither went out

    page.locator("main h1").first.focus()  # focus outside the live part: polling resumes
    page.evaluate("document.activeElement.blur()")
    with page.expect_response(lambda r: "/live" in r.url):
        pass
    assert polled
