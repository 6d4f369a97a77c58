"""Attachments on POST /api/email: inline and stored files, checked at accept time, streamed into the MIME SES gets."""

from __future__ import annotations

import base64
import email
import email.policy
from decimal import Decimal
from typing import Any

import pytest

from emails.models import Attachment, Message
from files.models import File
from tests.files import samples
from tests.files.conftest import Storage, s3_unreachable
from tests.files.test_access import stored
from tests.files.test_upload_flow import ask

BASE = {"to": "client@example.com", "subject": "Your documents", "textContent": "Attached.", "category": "notification"}


def b64(content: bytes) -> str:
    return base64.b64encode(content).decode()


def received(ses: Any, index: int = 0) -> email.message.EmailMessage:
    raw = ses.sent_messages[index].raw_data
    return email.message_from_bytes(raw.encode() if isinstance(raw, str) else raw, policy=email.policy.default)


def attachments_of(message: email.message.EmailMessage) -> list[tuple[str, str, bytes]]:
    return [
        (str(part.get_filename()), part.get_content_type(), bytes(part.get_payload(decode=True)))
        for part in message.iter_attachments()
    ]


def details(response: Any) -> list[tuple[list[Any], str]]:
    body = response.json()
    assert body["success"] is False and body["error"] == "Invalid request data", body
    return [(d["path"], d["message"]) for d in body["details"]]


def test_inline_attachments_arrive_intact_in_the_mime_ses_received(
    post_email: Any, ses: Any, user: Any, storage: Storage
) -> None:
    pdf = samples.pdf(bytes(range(256)) * 40)  # every byte value
    png = samples.png(64, 64)
    response = post_email(
        BASE
        | {
            "attachments": [
                {"filename": "Übersicht März.pdf", "content": b64(pdf), "contentType": "application/pdf"},
                # Line-wrapped base64, as many mailers send it.
                {
                    "filename": "chart.png",
                    "content": "\n".join(b64(png)[i : i + 76] for i in range(0, len(b64(png)), 76)),
                    "contentType": "image/png",
                },
            ]
        }
    )
    assert response.status_code == 201, response.json()
    assert response.json()["data"]["attachmentCount"] == 2
    message = Message.objects.get()
    assert message.status == "sent"
    assert message.attachment_count == 2
    assert attachments_of(received(ses)) == [
        ("Übersicht März.pdf", "application/pdf", pdf),
        ("chart.png", "image/png", png),
    ]
    # Kept as files of the sender, checked and stored like any upload.
    files = list(File.objects.order_by("original_name"))
    assert [(f.original_name, f.category, f.status, f.size, f.owner_id) for f in files] == [
        ("chart.png", "attachment", "completed", len(png), user.pk),
        ("Übersicht März.pdf", "attachment", "completed", len(pdf), user.pk),
    ]
    assert storage.get(files[1].key) == pdf
    rows = list(Attachment.objects.filter(message=message))
    assert [(a.position, a.filename, a.size) for a in rows] == [
        (0, "Übersicht März.pdf", len(pdf)),
        (1, "chart.png", len(png)),
    ]


def test_stored_files_attach_by_id_or_key_and_arrive_intact(
    api: Any, post_email: Any, ses: Any, storage: Storage
) -> None:
    report = stored(api, samples.pdf(b"% report\n" * 500), fileName="Report.pdf")
    sheet = stored(
        api,
        samples.xlsx(),
        fileName="numbers.xlsx",
        contentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
    response = post_email(
        BASE
        | {
            "s3Attachments": [
                {"fileId": str(report.pk), "filename": "Q1 report.pdf", "contentType": "application/pdf"},
                {"key": sheet.key},
            ]
        }
    )
    assert response.status_code == 201, response.json()
    assert attachments_of(received(ses)) == [
        ("Q1 report.pdf", "application/pdf", samples.pdf(b"% report\n" * 500)),
        ("numbers.xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", samples.xlsx()),
    ]
    # The files stay where they were: no copy is made.
    assert File.objects.count() == 2


def test_inline_and_stored_attachments_mix_in_order(api: Any, post_email: Any, ses: Any, disk_storage: Storage) -> None:
    kept = stored(api, samples.pdf(), fileName="kept.pdf")
    response = post_email(
        BASE
        | {
            "attachments": [{"filename": "notes.txt", "content": b64(b"hello\n"), "contentType": "text/plain"}],
            "s3Attachments": [{"fileId": str(kept.pk)}],
        }
    )
    assert response.status_code == 201
    assert [name for name, _, _ in attachments_of(received(ses))] == ["notes.txt", "kept.pdf"]


def test_a_public_file_of_another_user_can_be_attached(
    other_api: Any, post_email: Any, ses: Any, disk_storage: Storage
) -> None:
    shared = stored(other_api, samples.pdf(), fileName="brochure.pdf", isPublic=True)
    response = post_email(BASE | {"s3Attachments": [{"fileId": str(shared.pk)}]})
    assert response.status_code == 201
    assert attachments_of(received(ses))[0][0] == "brochure.pdf"


def test_the_cost_adds_the_attachment_price_per_gb(
    post_email: Any, ses: Any, settings: Any, disk_storage: Storage
) -> None:
    content = samples.pdf(b"x" * 100_000)
    response = post_email(
        BASE
        | {
            "cc": "second@example.com",
            "attachments": [{"filename": "a.pdf", "content": b64(content), "contentType": "application/pdf"}],
        }
    )
    assert response.status_code == 201
    message = Message.objects.get()
    # Two recipients in one SES call, carrying the attachment once.
    expected = Decimal("0.10") * 2 / 1000 + Decimal("0.12") * len(content) / 2**30
    assert message.cost == expected.quantize(Decimal("0.00000001"))


def test_an_attachment_gone_by_send_time_fails_the_message_with_that_reason(
    api: Any, ses: Any, storage: Storage, django_capture_on_commit_callbacks: Any
) -> None:
    file = stored(api, samples.pdf(), fileName="contract.pdf")
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = api.post("/api/email", BASE | {"s3Attachments": [{"fileId": str(file.pk)}]}, format="json")
    assert response.status_code == 201
    storage.remove(file.key)  # purged, or removed by hand, before the worker ran
    for callback in callbacks:
        callback()
    message = Message.objects.get()
    assert message.status == "failed"
    reason = "Attachment 'contract.pdf' is no longer in storage; the email was not sent."
    assert message.status_reason == reason
    assert list(message.recipients.values_list("status", "reason")) == [("failed", reason)]
    assert ses.sent_messages == []


def test_an_s3_object_replaced_after_its_check_is_not_sent(
    api: Any, ses: Any, s3_storage: Storage, django_capture_on_commit_callbacks: Any
) -> None:
    file = stored(api, samples.pdf(), fileName="contract.pdf")
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        api.post("/api/email", BASE | {"s3Attachments": [{"fileId": str(file.pk)}]}, format="json")
    # The upload URL was still valid for a while: someone posts other bytes to it.
    s3_storage.put(file.key, samples.exe())
    for callback in callbacks:
        callback()
    message = Message.objects.get()
    assert message.status == "failed"
    assert "was replaced in storage after it was checked" in message.status_reason
    assert ses.sent_messages == []


# --- Refusals at accept time ---------------------------------------------------


def assert_nothing_stored(ses: Any, files_before: int = 0) -> None:
    assert Message.objects.count() == 0
    assert File.objects.count() == files_before
    assert Attachment.objects.count() == 0
    assert ses.sent_messages == []


@pytest.mark.parametrize(
    ("item", "path", "message"),
    [
        (
            {"filename": "a.pdf", "content": "not base64!", "contentType": "application/pdf"},
            ["attachments", 0, "content"],
            "Must be base64-encoded content.",
        ),
        (
            {"filename": "a.pdf", "content": b64(samples.png()), "contentType": "application/pdf"},
            ["attachments", 0, "content"],
            "The file is not a PDF document: its content is a PNG image.",
        ),
        (
            {"filename": "invoice.pdf", "content": b64(samples.exe()), "contentType": "application/pdf"},
            ["attachments", 0, "content"],
            "The file is a Windows program; executables are never accepted, whatever their name or type.",
        ),
        (
            {"filename": "a.pdf", "content": "", "contentType": "application/pdf"},
            ["attachments", 0, "content"],
            "An attachment must not be empty.",
        ),
        (
            {"filename": "../../a.pdf", "content": b64(samples.pdf()), "contentType": "application/pdf"},
            ["attachments", 0, "filename"],
            "A file name must not contain a path ('/', '\\' or '..').",
        ),
        (
            {"filename": "a\r\nb.pdf", "content": b64(samples.pdf()), "contentType": "application/pdf"},
            ["attachments", 0, "filename"],
            "A file name must not contain control or invisible formatting characters.",
        ),
        (
            {"filename": "tool.exe", "content": b64(samples.exe()), "contentType": "application/x-msdownload"},
            ["attachments", 0, "contentType"],
            '"application/x-msdownload" is not a valid choice.',
        ),
    ],
)
def test_a_bad_inline_attachment_is_refused_with_its_path(
    post_email: Any, ses: Any, disk_storage: Storage, item: dict[str, str], path: list[Any], message: str
) -> None:
    good = {"filename": "ok.txt", "content": b64(b"fine"), "contentType": "text/plain"}
    response = post_email(BASE | {"attachments": [good, item]})
    assert response.status_code == 400
    path = [path[0], 1, path[2]]
    assert (path, message) in details(response)
    assert_nothing_stored(ses)


def test_more_than_ten_attachments_are_refused(api: Any, post_email: Any, ses: Any, disk_storage: Storage) -> None:
    item = {"filename": "a.txt", "content": b64(b"a"), "contentType": "text/plain"}
    response = post_email(BASE | {"attachments": [item] * 11})
    assert response.status_code == 400
    assert details(response) == [(["attachments"], "Ensure this field has no more than 10 elements.")]
    kept = stored(api)
    files_before = File.objects.count()
    response = post_email(BASE | {"attachments": [item] * 10, "s3Attachments": [{"fileId": str(kept.pk)}]})
    assert details(response) == [(["attachments"], "At most 10 attachments per email.")]
    assert_nothing_stored(ses, files_before)


def test_inline_attachments_over_10_mb_together_are_refused(
    post_email: Any, ses: Any, disk_storage: Storage, settings: Any
) -> None:
    settings.EMAIL_RAW_MESSAGE_MAX_BYTES = 40 * 1024 * 1024  # SES v2's limit, so only the inline limit speaks
    half = samples.pdf(b"x" * (5 * 1024 * 1024))
    item = {"filename": "big.pdf", "content": b64(half), "contentType": "application/pdf"}
    response = post_email(BASE | {"attachments": [item, item]})
    assert response.status_code == 400
    assert details(response) == [(["attachments"], "Inline attachments are at most 10.0 MB in all; these are 10.0 MB.")]
    assert_nothing_stored(ses)


def test_an_email_over_the_ses_raw_size_limit_is_refused_with_a_clear_message(
    api: Any, post_email: Any, ses: Any, disk_storage: Storage
) -> None:
    big = stored(api, samples.pdf(b"x" * (8 * 1024 * 1024)), maxSizeBytes=9 * 1024 * 1024)
    response = post_email(BASE | {"s3Attachments": [{"fileId": str(big.pk)}]})
    assert response.status_code == 400
    assert details(response) == [
        (
            ["s3Attachments"],
            "This email would be about 11.0 MB once encoded, over the 10.0 MB SES accepts in one message, "
            "so it cannot be sent. Attach fewer or smaller files, or send a download link instead.",
        )
    ]
    assert_nothing_stored(ses, 1)


def test_a_stored_attachment_over_25_mb_is_refused(
    api: Any, post_email: Any, ses: Any, disk_storage: Storage, settings: Any
) -> None:
    settings.EMAIL_STORED_ATTACHMENT_MAX_BYTES = 1000
    big = stored(api, samples.pdf(b"x" * 2000))
    response = post_email(BASE | {"s3Attachments": [{"fileId": str(big.pk)}]})
    assert details(response) == [(["s3Attachments", 0, "fileId"], "Stored attachments are at most 0.0 MB each.")]


def test_another_users_private_file_cannot_be_attached(
    other_api: Any, post_email: Any, ses: Any, disk_storage: Storage
) -> None:
    private = stored(other_api, samples.pdf())
    for reference, path in ((({"fileId": str(private.pk)}), "fileId"), ({"key": private.key}, "key")):
        response = post_email(BASE | {"s3Attachments": [reference]})
        assert response.status_code == 400
        assert details(response) == [
            (["s3Attachments", 0, path], "No such completed file among yours or the public ones.")
        ]
    assert_nothing_stored(ses, 1)


def test_an_unfinished_or_deleted_file_cannot_be_attached(
    api: Any, post_email: Any, ses: Any, disk_storage: Storage
) -> None:
    pending = ask(api).json()["data"]
    deleted = stored(api)
    api.delete(f"/api/files/{deleted.pk}")
    for file_id in (pending["fileId"], str(deleted.pk)):
        response = post_email(BASE | {"s3Attachments": [{"fileId": file_id}]})
        assert details(response) == [
            (["s3Attachments", 0, "fileId"], "No such completed file among yours or the public ones.")
        ]


def test_a_stored_attachment_cannot_claim_another_type(
    api: Any, post_email: Any, ses: Any, disk_storage: Storage
) -> None:
    file = stored(api, samples.pdf())
    response = post_email(BASE | {"s3Attachments": [{"fileId": str(file.pk), "contentType": "image/png"}]})
    assert details(response) == [
        (["s3Attachments", 0, "contentType"], "Does not match the stored file, which is application/pdf.")
    ]


def test_a_stored_attachment_needs_an_id_or_a_key(post_email: Any, ses: Any, disk_storage: Storage) -> None:
    response = post_email(BASE | {"s3Attachments": [{"filename": "x.pdf"}]})
    assert details(response) == [(["s3Attachments", 0, "fileId"], "Give the file's fileId or its key.")]


def test_an_idempotent_retry_with_the_same_attachments_sends_nothing_new(
    post_email: Any, ses: Any, disk_storage: Storage
) -> None:
    payload = BASE | {
        "attachments": [{"filename": "a.pdf", "content": b64(samples.pdf()), "contentType": "application/pdf"}]
    }
    first = post_email(payload, **{"Idempotency-Key": "k-1"})
    again = post_email(payload, **{"Idempotency-Key": "k-1"})
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json()["data"]["attachmentCount"] == 1
    assert len(ses.sent_messages) == 1
    assert File.objects.count() == 1
    other = BASE | {
        "attachments": [{"filename": "a.pdf", "content": b64(samples.pdf(b"%")), "contentType": "application/pdf"}]
    }
    assert post_email(other, **{"Idempotency-Key": "k-1"}).status_code == 409


def test_storage_unreachable_at_send_time_retries_the_message_later(
    api: Any, ses: Any, s3_storage: Storage, settings: Any, django_capture_on_commit_callbacks: Any
) -> None:
    file = stored(api, samples.pdf(), fileName="contract.pdf")
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        api.post("/api/email", BASE | {"s3Attachments": [{"fileId": str(file.pk)}]}, format="json")
    s3_unreachable(settings)
    settings.EMAIL_RETRY_BACKOFF_SECONDS = 60  # so the retry is scheduled, not run at once
    with django_capture_on_commit_callbacks(execute=False):
        for callback in callbacks:
            callback()
    message = Message.objects.get()
    assert message.status == "queued"
    assert message.status_reason.startswith("Retrying: Storage could not be reached")
    assert message.attempts == 1
    assert list(message.recipients.values_list("status", flat=True)) == ["queued"]
    assert ses.sent_messages == []


def test_storage_unreachable_at_accept_time_is_a_503_and_nothing_is_kept(
    post_email: Any, ses: Any, s3_storage: Storage, settings: Any
) -> None:
    s3_unreachable(settings)
    item = {"filename": "a.pdf", "content": b64(samples.pdf()), "contentType": "application/pdf"}
    response = post_email(BASE | {"attachments": [item]})
    assert response.status_code == 503
    assert response.json() == {"success": False, "error": "File storage is unavailable; try again shortly."}
    assert_nothing_stored(ses)
