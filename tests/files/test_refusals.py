"""Every refusal of the upload flow: at the request, at the disk endpoint, and at completion."""

from __future__ import annotations

import time
from typing import Any

import pytest

from files.models import File
from tests.files import samples
from tests.files.conftest import Storage, post_upload, s3_unreachable
from tests.files.test_upload_flow import ask, upload

MB = 1024 * 1024


def details(response: Any) -> list[dict[str, Any]]:
    body = response.json()
    assert body["success"] is False
    assert body["error"] == "Invalid request data"
    return list(body["details"])


# --- The request for an upload URL -----------------------------------------


@pytest.mark.parametrize(
    ("file_name", "message"),
    [
        ("../../etc/passwd", "A file name must not contain a path ('/', '\\' or '..')."),
        ("reports/q1.pdf", "A file name must not contain a path ('/', '\\' or '..')."),
        ("C:\\Users\\jane\\q1.pdf", "A file name must not contain a path ('/', '\\' or '..')."),
        ("..", "A file name must not contain a path ('/', '\\' or '..')."),
        ("report\x00.pdf", "Null characters are not allowed."),
        ("report\x07.pdf", "A file name must not contain control or invisible formatting characters."),
        ("report\x85.pdf", "A file name must not contain control or invisible formatting characters."),
        ("report\r\nX-Header: 1.pdf", "A file name must not contain control or invisible formatting characters."),
        ("invoice\u202efdp.exe", "A file name must not contain control or invisible formatting characters."),
        ("x" * 252 + ".pdf", "A file name has at most 255 characters."),
        ("   ", "A file name is required."),
    ],
)
def test_a_bad_file_name_is_refused(api: Any, disk_storage: Storage, file_name: str, message: str) -> None:
    response = ask(api, fileName=file_name)
    assert response.status_code == 400
    found = details(response)
    assert {"path": ["fileName"], "message": message} in found
    assert all(item["path"] == ["fileName"] for item in found)
    assert File.objects.count() == 0


def test_a_name_of_255_characters_in_any_script_is_kept_as_given(api: Any, disk_storage: Storage) -> None:
    name = "Relatório " + "é" * 241 + ".pdf"
    assert len(name) == 255
    response = ask(api, fileName=name)
    assert response.status_code == 201
    file = File.objects.get()
    assert file.original_name == name
    assert file.key.endswith(f"{file.pk}-{'Relatorio_' + 'e' * 106}.pdf")
    assert file.key.isascii()


def test_a_type_outside_the_allowlist_is_refused(api: Any, disk_storage: Storage) -> None:
    response = ask(api, fileName="tool.exe", contentType="application/x-msdownload")
    assert response.status_code == 400
    assert details(response) == [
        {"path": ["contentType"], "message": '"application/x-msdownload" is not a valid choice.'}
    ]


def test_more_than_100_mb_is_refused(api: Any, disk_storage: Storage) -> None:
    response = ask(api, maxSizeBytes=100 * MB + 1)
    assert response.status_code == 400
    assert details(response) == [
        {"path": ["maxSizeBytes"], "message": "Ensure this value is less than or equal to 104857600 (100.0 MB)."}
    ]
    assert ask(api, maxSizeBytes=100 * MB).status_code == 201


def test_an_unknown_category_is_refused(api: Any, disk_storage: Storage) -> None:
    response = ask(api, category="secrets")
    assert response.status_code == 400
    assert details(response)[0]["path"] == ["category"]


def test_the_upload_url_needs_a_signed_in_user(disk_storage: Storage, db: Any) -> None:
    from rest_framework.test import APIClient

    response = ask(APIClient())
    assert response.status_code in (401, 403)
    assert response.json()["success"] is False


# --- The app's own upload endpoint (disk) ------------------------------------


def test_the_disk_endpoint_refuses_a_body_over_the_limit_while_it_streams(api: Any, disk_storage: Storage) -> None:
    data = ask(api, maxSizeBytes=1000).json()["data"]
    posted = post_upload(data, samples.pdf(b"x" * 2000))
    assert posted.status == 400
    assert "<Code>EntityTooLarge</Code>" in posted.text
    assert disk_storage.get(data["fileKey"]) is None
    # Nothing half-written is left beside it either.
    import os

    folder = os.path.dirname(os.path.join(disk_storage.media_root, data["fileKey"]))
    assert not os.path.exists(folder) or os.listdir(folder) == []


def test_the_disk_endpoint_refuses_an_empty_file(api: Any, disk_storage: Storage) -> None:
    data = ask(api).json()["data"]
    posted = post_upload(data, b"")
    assert posted.status == 400
    assert "<Code>EntityTooSmall</Code>" in posted.text
    assert disk_storage.get(data["fileKey"]) is None


def test_the_disk_endpoint_refuses_an_expired_url(api: Any, disk_storage: Storage, monkeypatch: Any) -> None:
    data = ask(api).json()["data"]
    later = time.time() + 901
    monkeypatch.setattr("files.storage.disk.time.time", lambda: later)
    posted = post_upload(data, samples.pdf())
    assert posted.status == 403
    assert "<Message>The link has expired.</Message>" in posted.text
    assert disk_storage.get(data["fileKey"]) is None


def test_the_disk_endpoint_refuses_a_tampered_url(api: Any, disk_storage: Storage) -> None:
    data = ask(api, maxSizeBytes=10).json()["data"]
    url = data["uploadUrl"]
    # Flip one character of the signed token: for example to raise its size limit.
    tampered = url[:-3] + ("A" if url[-3] != "A" else "B") + url[-2:]
    posted = post_upload(data | {"uploadUrl": tampered}, samples.pdf())
    assert posted.status == 403
    assert "<Message>The link is invalid.</Message>" in posted.text
    assert disk_storage.get(data["fileKey"]) is None


@pytest.mark.parametrize(
    ("field", "value"),
    [("key", "document/1/someone-elses-file.pdf"), ("Content-Type", "image/png")],
)
def test_the_disk_endpoint_holds_the_form_to_the_signed_key_and_type(
    api: Any, disk_storage: Storage, field: str, value: str
) -> None:
    data = ask(api).json()["data"]
    data["fields"][field] = value
    posted = post_upload(data, samples.pdf())
    assert posted.status == 403
    assert f"Policy Condition failed: {field}" in posted.text
    assert disk_storage.get(data["fileKey"]) is None


def test_the_disk_endpoint_never_replaces_an_uploaded_object(api: Any, disk_storage: Storage) -> None:
    data = upload(api, samples.pdf())
    assert api.post("/api/files/complete", {"fileId": data["fileId"]}, format="json").status_code == 200
    again = post_upload(data, samples.exe())
    assert again.status == 409
    assert disk_storage.get(data["fileKey"]) == samples.pdf()


def test_the_disk_endpoint_takes_posts_only(api: Any, disk_storage: Storage) -> None:
    from django.test import Client

    data = ask(api).json()["data"]
    assert Client().get(data["uploadUrl"].removeprefix("http://testserver")).status_code == 405


# --- The completion check: bad objects placed in storage ---------------------


def complete(api: Any, file_id: str) -> Any:
    return api.post("/api/files/complete", {"fileId": file_id}, format="json")


def assert_rejected(api: Any, storage: Storage, data: dict[str, Any], reason: str) -> None:
    response = complete(api, data["fileId"])
    assert response.status_code == 422
    assert response.json()["error"] == f"The upload was rejected: {reason}"
    file = File.objects.get(pk=data["fileId"])
    assert file.status == "failed"
    assert file.failure_reason == reason
    # The object is gone, and the file can never be completed.
    assert storage.get(data["fileKey"]) is None
    assert complete(api, data["fileId"]).status_code == 422
    assert api.get(f"/api/files/{data['fileId']}/download-url").status_code == 404


def test_an_object_over_the_size_limit_fails_the_file(api: Any, storage: Storage) -> None:
    # moto takes any size; S3 itself would refuse this POST, disk refuses it too.
    data = ask(api, maxSizeBytes=1000).json()["data"]
    content = samples.pdf(b"x" * 2000)
    storage.put(data["fileKey"], content)
    assert_rejected(api, storage, data, f"The uploaded file is {len(content)} bytes, over its limit of 1000 bytes.")


def test_an_empty_object_fails_the_file(api: Any, storage: Storage) -> None:
    data = ask(api).json()["data"]
    storage.put(data["fileKey"], b"")
    assert_rejected(api, storage, data, "The uploaded file is empty.")


@pytest.mark.parametrize(
    ("file_name", "content_type", "content", "reason"),
    [
        ("q1.pdf", "application/pdf", samples.png(), "The file is not a PDF document: its content is a PNG image."),
        ("photo.png", "image/png", samples.jpeg(), "The file is not a PNG image: its content is a JPEG image."),
        ("photo.jpg", "image/jpeg", samples.pdf(), "The file is not a JPEG image: its content is a PDF document."),
        (
            "anim.gif",
            "image/gif",
            b"just text",
            "The file is not a GIF image: its content is unrecognised binary data.",
        ),
        (
            "letter.docx",
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
            samples.xlsx(),
            "The file is not a Word document: the archive does not hold one.",
        ),
        (
            "letter.docx",
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
            samples.plain_zip(),
            "The file is not a Word document: the archive does not hold one.",
        ),
        (
            "letter.docx",
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
            samples.docx(with_macros=True),
            "The file is a Word document with macros; files that can run code are never accepted.",
        ),
        (
            "sheet.xls",
            "application/vnd.ms-excel",
            samples.doc(),
            "The file is not an Excel 97-2003 workbook: its content is a Word 97-2003 document.",
        ),
        ("notes.txt", "text/plain", samples.png(), "The file is not a text file: its content is a PNG image."),
        ("data.csv", "text/csv", b"a,b\n\x00\x01\x02", "The file is not a CSV file: its content is binary data."),
    ],
)
def test_a_type_lie_by_magic_bytes_fails_the_file(
    api: Any, storage: Storage, file_name: str, content_type: str, content: bytes, reason: str
) -> None:
    data = ask(api, fileName=file_name, contentType=content_type).json()["data"]
    storage.put(data["fileKey"], content, content_type)
    assert_rejected(api, storage, data, reason)


@pytest.mark.parametrize(
    ("content_type", "content", "kind"),
    [
        ("application/pdf", samples.exe(), "a Windows program"),
        ("image/png", samples.elf(), "a Linux program"),
        ("text/plain", b"#!/bin/sh\nrm -rf ~\n", "a script"),
        ("text/csv", b"\xcf\xfa\xed\xfe\x07\x00\x00\x01", "a macOS program"),
        ("application/msword", samples.msi(), "a Windows installer"),
    ],
)
def test_an_executable_is_refused_under_any_name(
    api: Any, storage: Storage, content_type: str, content: bytes, kind: str
) -> None:
    data = ask(api, fileName="harmless.pdf", contentType=content_type).json()["data"]
    storage.put(data["fileKey"], content)
    assert_rejected(
        api, storage, data, f"The file is {kind}; executables are never accepted, whatever their name or type."
    )


def test_a_csv_that_starts_with_mz_is_still_text(api: Any, disk_storage: Storage) -> None:
    data = upload(api, b"MZ Holdings,Berlin\n", fileName="firms.csv", contentType="text/csv")
    assert complete(api, data["fileId"]).status_code == 200


# --- Another user's file -----------------------------------------------------


def test_another_users_upload_cannot_be_completed(api: Any, other_api: Any, storage: Storage) -> None:
    data = upload(api, samples.pdf())
    response = complete(other_api, data["fileId"])
    assert response.status_code == 404
    assert response.json() == {"success": False, "error": "File not found"}
    assert File.objects.get(pk=data["fileId"]).status == "uploading"


def test_an_unknown_file_id_is_a_404_and_a_malformed_one_a_400(api: Any, disk_storage: Storage) -> None:
    assert complete(api, "3f1b7a4e-9d7e-4c1a-8a53-1f0f4b2f0c11").status_code == 404
    response = complete(api, "64b7f0c2a1e4c3d2b1a09f8e")  # a MongoDB ObjectId, as the seeds used
    assert response.status_code == 400
    assert details(response) == [{"path": ["fileId"], "message": "Must be a valid UUID."}]


def test_unreachable_storage_is_a_503_and_the_upload_can_be_completed_later(
    api: Any, s3_storage: Storage, settings: Any
) -> None:
    data = upload(api, samples.pdf())
    working = s3_unreachable(settings)
    response = complete(api, data["fileId"])
    assert response.status_code == 503
    assert response.json() == {"success": False, "error": "File storage is unavailable; try again shortly."}
    assert File.objects.get(pk=data["fileId"]).status == "uploading"
    settings.STORAGES = {**settings.STORAGES, "default": working}
    assert complete(api, data["fileId"]).status_code == 200


def test_an_object_replaced_during_the_check_fails_the_file(api: Any, s3_storage: Storage, monkeypatch: Any) -> None:
    from files import storage as storage_module

    data = upload(api, samples.pdf())
    real_head = storage_module.head

    def head_then_swap(*, key: str) -> Any:
        info = real_head(key=key)
        s3_storage.put(key, samples.exe())  # a still-valid upload URL used again, just now
        return info

    monkeypatch.setattr(storage_module, "head", head_then_swap)
    assert_rejected(api, s3_storage, data, "The uploaded file was replaced while it was being checked.")
