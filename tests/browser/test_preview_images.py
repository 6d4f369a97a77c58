"""Opening a message fires no tracking pixel: its remote images load only after "Load remote images", in Chromium.

The pixel is served by a real HTTP server on this machine that counts what it is asked for, so "no request"
means the browser sent none, not that a mock saw none.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from playwright.sync_api import ConsoleMessage, Page, expect

from tests.browser.test_analytics import sign_in
from tests.emails.test_pages import make_message
from tests.factories import UserFactory

pytestmark = [pytest.mark.browser]

SCREENSHOTS = "/tmp"  # noqa: S108 - screenshots for a human to look at
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}
# One blue pixel (a two-colour palette, no transparency), so a loaded banner shows in the screenshot.
GIF = (
    b"GIF89a\x01\x00\x01\x00\x80\x00\x00\x25\x63\xeb\xff\xff\xff"
    b"\x2c\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02\x44\x01\x00\x3b"
)


@dataclass
class PixelServer:
    url: str
    hits: list[str] = field(default_factory=list)


@pytest.fixture
def pixel() -> Iterator[PixelServer]:
    """A tracker's image host: answers every GET with a 1x1 GIF and remembers its path."""
    found = PixelServer(url="")

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            found.hits.append(self.path)
            self.send_response(200)
            self.send_header("Content-Type", "image/gif")
            self.send_header("Content-Length", str(len(GIF)))
            self.send_header("Cache-Control", "no-store")
            self.end_headers()
            self.wfile.write(GIF)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    found.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield found
    server.shutdown()
    server.server_close()


def newsletter(pixel_url: str) -> str:
    return (
        '<table width="100%" style="background-color: #eef2ff"><tr><td style="padding: 24px">'
        '<h1 style="color: #1e3a8a; font-family: Georgia, serif">Your December statement</h1>'
        '<p style="color: rgb(153, 27, 27)">Dear Ada, your statement is ready.</p>'
        f'<img src="{pixel_url}/banner.gif" width="240" height="60" alt="Our logo">'
        f'<div style="background-image: url({pixel_url}/background.gif); height: 20px"></div>'
        f'<img src="{pixel_url}/open.gif?m=42" width="1" height="1" alt="">'
        "</td></tr></table>"
    )


def test_opening_a_message_loads_no_remote_image_until_asked(
    page: Page, live_server: Any, transactional_db: Any, pixel: PixelServer
) -> None:
    user = UserFactory()
    message = make_message(user, subject="Your December statement", to=("ada@example.com",))
    message.html_body = newsletter(pixel.url)
    message.save(update_fields=["html_body"])
    refused: list[str] = []

    def on_console(entry: ConsoleMessage) -> None:
        if "Content Security Policy" in entry.text and pixel.url in entry.text:
            refused.append(entry.text)

    page.on("console", on_console)
    sign_in(page, live_server, user)
    page.set_viewport_size(DESKTOP)
    page.goto(f"{live_server.url}/emails/{message.pk}")

    preview = page.frame_locator("iframe.preview")
    # The body is shown, with its styles (style attributes are allowed on this page) ...
    expect(preview.locator("p")).to_have_css("color", "rgb(153, 27, 27)")
    # ... and its three remote images were refused by the policy the srcdoc frame inherits: the browser asked
    # the policy for each, and the server never heard of any of them.
    while len(refused) < 3:  # the console reports each refusal (a timeout fails the test)
        page.wait_for_event("console", timeout=10_000)
    trackers = [pixel.url + path for path in ("/banner.gif", "/background.gif", "/open.gif?m=42")]
    assert [url for url in trackers if not any(url in text for text in refused)] == [], refused
    assert pixel.hits == []
    assert preview.get_by_alt_text("Our logo").evaluate("img => img.naturalWidth") == 0

    button = page.get_by_role("button", name="Load remote images")
    expect(button).to_be_visible()
    expect(page.get_by_text("Remote images are blocked")).to_be_visible()
    # The card itself: a full-page screenshot leaves a sandboxed frame blank.
    page.locator("#content").screenshot(path=f"{SCREENSHOTS}/message-remote-images-blocked-1280.png")
    page.set_viewport_size(PHONE)
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    expect(button).to_be_visible()
    page.locator("#content").screenshot(path=f"{SCREENSHOTS}/message-remote-images-blocked-390.png")
    page.set_viewport_size(DESKTOP)

    button.click()
    shown = page.frame_locator('iframe[title="HTML body preview, with remote images"]')
    expect(shown.get_by_alt_text("Our logo")).to_have_js_property("complete", True)
    # The GIF itself (one pixel wide), shown at the size its attributes give.
    assert shown.get_by_alt_text("Our logo").evaluate("img => img.naturalWidth") == 1
    expect(shown.locator("p")).to_have_css("color", "rgb(153, 27, 27)")
    assert "/banner.gif" in pixel.hits and "/open.gif?m=42" in pixel.hits
    expect(page.get_by_role("button", name="Block remote images")).to_be_visible()
    page.locator("#content").screenshot(path=f"{SCREENSHOTS}/message-remote-images-shown-1280.png")

    # Blocked again, the page is as it was: nothing more is fetched.
    asked = len(pixel.hits)
    page.get_by_role("button", name="Block remote images").click()
    expect(page.get_by_role("button", name="Load remote images")).to_be_visible()
    expect(page.frame_locator("iframe.preview").locator("p")).to_be_visible()
    assert len(pixel.hits) == asked


def test_a_link_in_the_preview_opens_in_a_tab_of_its_own(
    page: Page, live_server: Any, transactional_db: Any, pixel: PixelServer
) -> None:
    """A click on a link in the sandboxed preview opened nothing; now a new tab, outside the sandbox."""
    user = UserFactory()
    message = make_message(user, subject="Pay", to=("ada@example.com",))
    message.html_body = f'<p><a href="{pixel.url}/pay">Pay your invoice</a></p>'
    message.save(update_fields=["html_body"])
    sign_in(page, live_server, user)
    page.goto(f"{live_server.url}/emails/{message.pk}")

    with page.expect_popup() as opened:
        page.frame_locator("iframe.preview").get_by_role("link", name="Pay your invoice").click()
    opened.value.wait_for_load_state()
    assert opened.value.url == f"{pixel.url}/pay"
    assert "/pay" in pixel.hits
    assert page.url == f"{live_server.url}/emails/{message.pk}"  # the message page stays where it was
