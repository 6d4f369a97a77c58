"""Files in a real (headless) Chromium: upload with a progress bar, attach in the composer, find it at SES."""

from __future__ import annotations

import email
import email.policy
import re
from typing import Any

import pytest
from django.contrib.auth.models import User
from playwright.sync_api import Page, expect

from emails.models import Attachment, Message
from files.models import File
from tests.emails.test_pages import make_message
from tests.factories import PASSWORD, UserFactory
from tests.files import samples
from tests.files.conftest import disk_storage, s3_storage  # noqa: F401 - fixtures used below

pytestmark = [pytest.mark.browser]

SCREENSHOTS = "/tmp"  # noqa: S108 - screenshots for a human to look at


@pytest.fixture(params=["disk", "s3"])
def any_storage(request: Any) -> Any:
    return request.getfixturevalue("s3_storage" if request.param == "s3" else "disk_storage")


@pytest.fixture
def signed_in(page: Page, live_server: Any, transactional_db: Any, ses: Any, any_storage: Any) -> Page:
    user = UserFactory(first_name="Fay", last_name="Files")
    page.goto(f"{live_server.url}/accounts/login/?next=/files")
    page.get_by_label("Username").fill(user.username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Files")).to_be_visible()
    # The page's scripts are deferred: files chosen before they ran would go unnoticed.
    page.wait_for_load_state("load")
    return page


def throttle_uploads(page: Page, bytes_per_second: int) -> None:
    """Slow the browser's uploads, as a real network would, so progress has steps to show."""
    session = page.context.new_cdp_session(page)
    session.send("Network.enable")
    session.send(
        "Network.emulateNetworkConditions",
        {"offline": False, "latency": 20, "downloadThroughput": -1, "uploadThroughput": bytes_per_second},
    )


def raw_of(ses: Any) -> email.message.EmailMessage:
    raw = ses.sent_messages[0].raw_data
    return email.message_from_bytes(raw.encode() if isinstance(raw, str) else raw, policy=email.policy.default)


def test_upload_with_progress_attach_in_the_composer_and_find_it_at_ses(
    signed_in: Page, live_server: Any, ses: Any, any_storage: Any
) -> None:
    page = signed_in
    report = samples.pdf(b"% quarterly figures\n" * 15_000)  # about 300 KB: 0.75 s at the throttled rate
    throttle_uploads(page, 400 * 1024)

    # 1. The files page: drop a file in, watch it go up.
    page.set_input_files(
        "#upload-input", files=[{"name": "Q1 report é.pdf", "mimeType": "application/pdf", "buffer": report}]
    )
    item = page.locator(".upload-item").first
    expect(item.locator("progress")).to_be_visible()
    expect(item).to_have_class(re.compile(r"\bupload-done\b"), timeout=30_000)
    expect(item.locator(".upload-state")).to_have_text("Uploaded")
    expect(item.locator("progress")).to_have_js_property("value", 100)
    # The bar moved in steps as the bytes went out, not once at the end.
    assert int(item.get_attribute("data-progress-events") or "0") >= 3
    row = page.locator("#files-table tbody tr", has_text="Q1 report é.pdf")
    expect(row).to_have_count(1)
    expect(row.locator(".file-status")).to_have_text("Completed")
    page.screenshot(path=f"{SCREENSHOTS}/files-{any_storage.kind}.png", full_page=True)
    uploaded = File.objects.get(original_name="Q1 report é.pdf")
    assert uploaded.status == "completed"
    assert uploaded.size == len(report)
    assert any_storage.get(uploaded.key) == report

    # 2. The composer: pick it from my files, and upload another on the spot.
    page.get_by_role("link", name="Compose").click()
    expect(page.get_by_role("heading", name="Compose email")).to_be_visible()
    page.wait_for_load_state("load")
    page.get_by_role("textbox", name="To", exact=True).fill("jane@example.com")
    page.get_by_role("textbox", name="Subject", exact=True).fill("Your quarterly report")
    page.get_by_role("textbox", name="Text body", exact=True).fill("Please find it attached.")
    page.get_by_role("combobox", name="Category", exact=True).select_option("client-portal")
    page.select_option("#attachment-choose", value=str(uploaded.pk))
    chips = page.locator("#attachment-list .attachment-chip")
    expect(chips).to_have_count(1)
    expect(chips.first).to_contain_text("Q1 report é.pdf")

    figures = samples.csv_text() * 5_000  # about 225 KB
    page.set_input_files(
        "#attachment-upload", files=[{"name": "figures.csv", "mimeType": "text/csv", "buffer": figures}]
    )
    on_the_spot = chips.nth(1)
    expect(on_the_spot.locator("progress")).to_be_visible()
    # While it uploads, the send waits.
    expect(page.locator("#send-button")).to_be_disabled()
    expect(on_the_spot).to_have_class(re.compile(r"\bupload-done\b"), timeout=30_000)
    assert int(on_the_spot.get_attribute("data-progress-events") or "0") >= 3
    expect(page.locator("#send-button")).to_be_enabled()
    page.screenshot(path=f"{SCREENSHOTS}/composer-attachments-{any_storage.kind}.png", full_page=True)

    page.get_by_role("button", name="Send email").click()

    # 3. The message page, and the MIME SES received.
    expect(page).to_have_url(re.compile(r"/emails/[0-9a-f-]{36}$"))
    expect(page.locator("#message-attachments .attachment-chip")).to_have_count(2)
    message = Message.objects.get()
    assert message.status == "sent"
    parts = [
        (part.get_filename(), part.get_content_type(), part.get_payload(decode=True))
        for part in raw_of(ses).iter_attachments()
    ]
    assert parts == [("Q1 report é.pdf", "application/pdf", report), ("figures.csv", "text/csv", figures)]


def test_a_refused_upload_says_why_on_the_page(signed_in: Page, any_storage: Any) -> None:
    page = signed_in
    # A program, named like a PDF.
    page.set_input_files(
        "#upload-input", files=[{"name": "invoice.pdf", "mimeType": "application/pdf", "buffer": samples.exe()}]
    )
    item = page.locator(".upload-item").first
    expect(item).to_have_class(re.compile(r"\bupload-failed\b"))
    expect(item.locator(".upload-state")).to_have_text(
        "The file is a Windows program; executables are never accepted, whatever their name or type."
    )
    expect(page.locator("#files-table tbody tr[data-file-id]")).to_have_count(0)
    assert File.objects.get().status == "failed"


def test_a_file_dropped_on_the_zone_is_uploaded(signed_in: Page, any_storage: Any) -> None:
    page = signed_in
    page.select_option("#upload-category", "invoice")
    page.get_by_label("Department (optional)").fill("sales")
    page.check("#upload-public")
    transfer = page.evaluate_handle(
        """(bytes) => {
            const transfer = new DataTransfer();
            transfer.items.add(new File([new Uint8Array(bytes)], "scan.png", {type: "image/png"}));
            return transfer;
        }""",
        list(samples.png(32, 32)),
    )
    page.dispatch_event("#dropzone", "dragenter", {"dataTransfer": transfer})
    expect(page.locator("#dropzone")).to_have_class(re.compile(r"\bdragging\b"))
    page.dispatch_event("#dropzone", "drop", {"dataTransfer": transfer})
    expect(page.locator("#dropzone")).not_to_have_class(re.compile(r"\bdragging\b"))
    expect(page.locator(".upload-item").first).to_have_class(re.compile(r"\bupload-done\b"))
    row = page.locator("#files-table tbody tr", has_text="scan.png")
    # The label the server shows after a reload, not the raw value.
    expect(row.locator(".category-cell")).to_have_text("Invoice")
    file = File.objects.get()
    assert file.department_id == "sales"
    page.reload()
    expect(page.locator("#files-table tbody tr", has_text="scan.png").locator(".category-cell")).to_have_text("Invoice")
    assert (file.original_name, file.category, file.is_public, file.status) == (
        "scan.png",
        "invoice",
        True,
        "completed",
    )
    assert any_storage.get(file.key) == samples.png(32, 32)


def test_deleting_a_file_sent_as_an_attachment_warns_with_the_count(signed_in: Page, any_storage: Any) -> None:
    """The dialog says how many emails carry the file (files.usage); dismissed, nothing is deleted."""
    page = signed_in
    user = User.objects.get()
    file = File.objects.create(
        key=f"general/{user.pk}/contract.pdf", file_name="contract.pdf", original_name="contract.pdf",
        content_type="application/pdf", size=10, max_size=10, category="contract", status="completed", owner=user,
    )  # fmt: skip
    for message in (make_message(user), make_message(user)):
        Attachment.objects.create(
            message=message, file=file, filename="contract.pdf", content_type="application/pdf", size=10, position=0
        )
    page.reload()
    questions: list[str] = []

    def answer(dialog: Any) -> None:
        questions.append(dialog.message)
        dialog.dismiss() if len(questions) == 1 else dialog.accept()

    page.on("dialog", answer)
    row = page.locator("#files-table tbody tr", has_text="contract.pdf")
    row.get_by_role("button", name="Delete").click()
    expect(row).to_be_visible()
    assert File.objects.get(pk=file.pk).status == "completed"
    row.get_by_role("button", name="Delete").click()
    expect(page.get_by_text("contract.pdf was deleted.")).to_be_visible()
    assert questions[0].startswith("contract.pdf is attached to 2 sent emails.")
    assert questions[0].endswith("Delete it?")
    assert File.objects.get(pk=file.pk).status == "deleted"
