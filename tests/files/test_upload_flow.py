"""The direct-upload flow against disk and against moto's S3: ask, upload, complete, download, delete."""

from __future__ import annotations

import base64
import hashlib
import json
from typing import Any

import pytest
import requests
from django.test import Client

from files.models import File
from tests.files import samples
from tests.files.conftest import Storage, post_upload


def ask(api: Any, **overrides: Any) -> Any:
    body = {
        "fileName": "Quarterly report.pdf",
        "contentType": "application/pdf",
        "category": "document",
        "maxSizeBytes": 1024 * 1024,
    } | overrides
    return api.post("/api/files/upload-url", body, format="json")


def upload(api: Any, content: bytes, **overrides: Any) -> dict[str, Any]:
    """Ask for an upload URL, POST the content there, and return the upload-url answer's data."""
    answer = ask(api, **overrides)
    assert answer.status_code == 201, answer.json()
    data = answer.json()["data"]
    posted = post_upload(data, content)
    assert posted.status == 204, posted.text
    return data


def fetch(url: str) -> tuple[int, Any, bytes]:
    """GET a download URL as a browser would: no session, just the URL. Headers are case-insensitive."""
    if url.startswith("http://testserver"):
        response = Client().get(url.removeprefix("http://testserver"))
        body = b"".join(response.streaming_content) if response.streaming else response.content
        return response.status_code, response.headers, body
    answer = requests.get(url, timeout=30)
    return answer.status_code, answer.headers, answer.content


def test_the_whole_flow_stores_a_checked_file(api: Any, user: Any, storage: Storage) -> None:
    content = samples.pdf(b"% the body\n" * 100)
    answer = ask(api, metadata={"tags": "Q1, finance", "source": "crm"}, clientId="client-7", departmentId="sales")
    assert answer.status_code == 201
    data = answer.json()["data"]
    assert data["expiresIn"] == 900
    file = File.objects.get(pk=data["fileId"])
    assert file.status == "uploading"
    assert data["fileKey"] == file.key
    assert file.key == f"document/{user.pk}/{file.pk}-Quarterly_report.pdf"
    assert file.original_name == "Quarterly report.pdf"
    assert data["fields"]["key"] == file.key
    assert data["fields"]["Content-Type"] == "application/pdf"

    assert post_upload(data, content).status == 204
    # The client's number is ignored: the size is measured in storage.
    done = api.post("/api/files/complete", {"fileId": data["fileId"], "actualSize": 1}, format="json")
    assert done.status_code == 200, done.json()
    record = done.json()["data"]["file"]
    assert record["status"] == "completed"
    assert record["size"] == len(content)
    assert record["metadata"]["checksum"] == "md5:" + hashlib.md5(content).hexdigest()  # noqa: S324
    assert record["s3Info"]["etag"] == hashlib.md5(content).hexdigest()  # noqa: S324
    assert record["metadata"]["tags"] == ["finance", "q1"]
    assert record["metadata"]["source"] == "crm"
    assert record["clientId"] == "client-7"
    assert record["departmentId"] == "sales"
    if storage.kind == "s3":
        assert record["s3Info"]["bucket"] == storage.bucket
        assert record["s3Info"]["region"] == "us-east-1"
    assert storage.get(file.key) == content

    link = api.get(f"/api/files/{file.pk}/download-url")
    assert link.status_code == 200
    status, headers, body = fetch(link.json()["data"]["downloadUrl"])
    assert status == 200
    assert body == content
    assert headers["Content-Disposition"].startswith("attachment;")

    listed = api.get("/api/files")
    assert [f["id"] for f in listed.json()["data"]["files"]] == [str(file.pk)]

    gone = api.delete(f"/api/files/{file.pk}")
    assert gone.status_code == 200
    assert gone.json()["data"]["file"]["status"] == "deleted"
    assert api.get("/api/files").json()["data"]["files"] == []
    # Soft: the object stays until the purge.
    assert storage.get(file.key) == content
    assert api.get(f"/api/files/{file.pk}/download-url").status_code == 404


def test_the_s3_policy_pins_the_key_the_type_and_the_size(api: Any, s3_storage: Storage) -> None:
    """moto does not enforce POST policies: read the policy S3 would enforce."""
    data = ask(api, maxSizeBytes=5_000_000).json()["data"]
    fields = data["fields"]
    policy = json.loads(base64.b64decode(fields["policy"]))
    conditions = policy["conditions"]
    assert {"key": data["fileKey"]} in conditions
    assert {"bucket": s3_storage.bucket} in conditions
    assert {"Content-Type": "application/pdf"} in conditions
    assert ["content-length-range", 1, 5_000_000] in conditions
    assert fields["key"] == data["fileKey"]
    assert fields["Content-Type"] == "application/pdf"
    assert fields["x-amz-algorithm"] == "AWS4-HMAC-SHA256"
    assert "x-amz-signature" in fields
    # Signed for 15 minutes.
    from datetime import datetime, timedelta

    expires = datetime.fromisoformat(policy["expiration"].replace("Z", "+00:00"))
    now = datetime.now(tz=expires.tzinfo)
    assert timedelta(minutes=14) < expires - now <= timedelta(minutes=15)
    assert data["uploadUrl"].endswith(f"/{s3_storage.bucket}")


def test_the_s3_flow_sends_no_file_bytes_through_the_app(api: Any, s3_storage: Storage) -> None:
    data = ask(api).json()["data"]
    assert not data["uploadUrl"].startswith("http://testserver")
    link_data = upload(api, samples.pdf())
    api.post("/api/files/complete", {"fileId": link_data["fileId"]}, format="json")
    url = api.get(f"/api/files/{link_data['fileId']}/download-url").json()["data"]["downloadUrl"]
    assert not url.startswith("http://testserver")
    assert "X-Amz-Signature=" in url
    assert "X-Amz-Expires=3600" in url


def test_a_disk_upload_url_is_the_apps_own_signed_url(api: Any, disk_storage: Storage) -> None:
    data = ask(api).json()["data"]
    assert data["uploadUrl"].startswith("http://testserver/files/upload/")
    assert data["fields"] == {"key": data["fileKey"], "Content-Type": "application/pdf"}


def test_completing_twice_is_harmless(api: Any, storage: Storage) -> None:
    data = upload(api, samples.pdf())
    first = api.post("/api/files/complete", {"fileId": data["fileId"]}, format="json")
    second = api.post("/api/files/complete", {"fileId": data["fileId"]}, format="json")
    assert first.status_code == second.status_code == 200
    assert second.json()["data"]["file"]["status"] == "completed"


def test_completing_before_the_upload_arrives_says_so_and_waits(api: Any, storage: Storage) -> None:
    data = ask(api).json()["data"]
    early = api.post("/api/files/complete", {"fileId": data["fileId"]}, format="json")
    assert early.status_code == 409
    assert early.json() == {"success": False, "error": "No upload has reached storage for this file yet."}
    assert File.objects.get(pk=data["fileId"]).status == "uploading"
    assert post_upload(data, samples.pdf()).status == 204
    assert api.post("/api/files/complete", {"fileId": data["fileId"]}, format="json").status_code == 200


@pytest.mark.parametrize(
    ("file_name", "content_type", "content"),
    [
        ("photo.jpg", "image/jpeg", samples.jpeg()),
        ("photo.png", "image/png", samples.png()),
        ("anim.gif", "image/gif", samples.gif()),
        ("photo.webp", "image/webp", samples.webp()),
        ("letter.doc", "application/msword", samples.doc()),
        ("sheet.xls", "application/vnd.ms-excel", samples.xls()),
        ("letter.docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document", samples.docx()),
        ("sheet.xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", samples.xlsx()),
        ("notes.txt", "text/plain", "Grüße aus Köln\r\n".encode()),
        ("clients.csv", "text/csv", samples.csv_text()),
    ],
)
def test_every_allowed_type_passes_when_it_is_what_it_claims(
    api: Any, disk_storage: Storage, file_name: str, content_type: str, content: bytes
) -> None:
    data = upload(api, content, fileName=file_name, contentType=content_type)
    done = api.post("/api/files/complete", {"fileId": data["fileId"]}, format="json")
    assert done.status_code == 200, done.json()
    assert done.json()["data"]["file"]["size"] == len(content)
