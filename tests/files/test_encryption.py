"""Files encrypted at rest: S3's server-side encryption pinned in the POST policy, and disk files sealed by the app."""

from __future__ import annotations

import base64
import hashlib
import io
import json
import os
import re
import sys
import tracemalloc
from typing import Any

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.core.files.storage import storages
from django.core.handlers.wsgi import WSGIRequest
from django.core.management import CommandError, call_command
from django.test import Client

from emails.models import Message
from emails.templating import message_bodies
from files import storage as file_storage
from files.exceptions import StorageUnavailable, StoredObjectCorrupt
from files.models import File
from files.storage.sealed import HEADER_SIZE, MAGIC, SEGMENT_SIZE, TAG_SIZE, Keyring, sealed_size
from files.views import disk_upload
from tests.files import samples
from tests.files.conftest import Storage, post_upload
from tests.files.test_access import stored
from tests.files.test_attachments import BASE, attachments_of, received
from tests.files.test_bulk_csv import bulk
from tests.files.test_upload_flow import ask, fetch, upload
from tests.test_settings import settings_with

SSE = "x-amz-server-side-encryption"
SSE_KMS_KEY = "x-amz-server-side-encryption-aws-kms-key-id"
KMS_KEY = "arn:aws:kms:us-east-1:123456789012:key/0b6f3b3e-6a8a-4f4e-9d4e-5a1f2f0c7d11"
# Three and a half segments: ranges can cross a boundary, tampering can hit the middle.
CONTENT = samples.pdf(b"% confidential ledger line: 4111-1111-1111-1111\n" * 4800)
SECRET = b"confidential ledger line"


def new_key() -> str:
    return base64.urlsafe_b64encode(os.urandom(32)).decode()


@pytest.fixture
def file_key(settings: Any) -> bytes:
    key = os.urandom(32)
    settings.FILE_ENCRYPTION_KEY = key
    settings.FILE_ENCRYPTION_PREVIOUS_KEYS = []
    return key


@pytest.fixture
def sealed(disk_storage: Storage, file_key: bytes) -> Storage:
    """Disk storage with FILE_ENCRYPTION_KEY set."""
    return disk_storage


def on_disk(storage: Storage, key: str) -> str:
    return os.path.join(storage.media_root, key)


def download_url(api: Any, file: File) -> str:
    return str(api.get(f"/api/files/{file.pk}/download-url").json()["data"]["downloadUrl"])


def get(url: str, **headers: str) -> Any:
    return Client().get(url.removeprefix("http://testserver"), headers=headers)


def rewrite(path: str, change: Any) -> None:
    with open(path, "rb") as handle:
        data = bytearray(handle.read())
    with open(path, "wb") as handle:
        handle.write(change(data))


def flip(offset: int) -> Any:
    def change(data: bytearray) -> bytearray:
        data[offset] ^= 0x01
        return data

    return change


def policy_of(fields: dict[str, str]) -> dict[str, Any]:
    return dict(json.loads(base64.b64decode(fields["policy"])))


def unmet(policy: dict[str, Any], form: dict[str, str]) -> list[Any]:
    """The policy's exact-match conditions the form does not meet, judged as S3 judges them (moto judges none)."""
    misses = []
    for condition in policy["conditions"]:
        if isinstance(condition, dict):
            (name, value), *_ = condition.items()
            if name != "bucket" and form.get(name) != value:
                misses.append(condition)
        elif condition[0] == "eq" and form.get(condition[1].lstrip("$")) != condition[2]:
            misses.append(condition)
    return misses


# --- Settings ------------------------------------------------------------------


def file_settings(monkeypatch: Any, **environ: str) -> dict[str, Any]:
    """The settings evaluated afresh with only these of the files' encryption variables set."""
    names = ("FILE_ENCRYPTION_KEY", "FILE_ENCRYPTION_PREVIOUS_KEYS", "FILE_ENCRYPTION_ALLOW_PLAIN", "FILE_S3_SSE")
    for name in (*names, "FILE_S3_KMS_KEY_ID"):
        monkeypatch.delenv(name, raising=False)
    return settings_with(monkeypatch, **environ)


@pytest.mark.parametrize("name", ["FILE_ENCRYPTION_KEY", "FILE_ENCRYPTION_PREVIOUS_KEYS"])
@pytest.mark.parametrize(
    "value",
    [
        "not a key",
        base64.urlsafe_b64encode(os.urandom(16)).decode(),  # 16 bytes: too short
        base64.urlsafe_b64encode(os.urandom(33)).decode(),
        os.urandom(32).hex(),  # hex, not base64url
    ],
)
def test_a_malformed_key_stops_the_process_and_names_the_variable(monkeypatch: Any, name: str, value: str) -> None:
    with pytest.raises(ImproperlyConfigured, match=f"^{name} is not a valid key: it must be 32 random bytes") as e:
        file_settings(monkeypatch, **{name: value})
    assert value not in str(e.value)  # a secret is never echoed into a log


def test_a_key_is_32_bytes_of_base64url_with_or_without_padding(monkeypatch: Any) -> None:
    raw = os.urandom(32)
    padded = base64.urlsafe_b64encode(raw).decode()
    assert len(padded) == 44
    assert file_settings(monkeypatch, FILE_ENCRYPTION_KEY=padded)["FILE_ENCRYPTION_KEY"] == raw
    assert file_settings(monkeypatch, FILE_ENCRYPTION_KEY=padded.rstrip("="))["FILE_ENCRYPTION_KEY"] == raw
    old = os.urandom(32)
    both = settings_with(
        monkeypatch,
        FILE_ENCRYPTION_KEY=padded,
        FILE_ENCRYPTION_PREVIOUS_KEYS=f"{new_key()}, {base64.urlsafe_b64encode(old).decode()}",
    )
    assert len(both["FILE_ENCRYPTION_PREVIOUS_KEYS"]) == 2 and both["FILE_ENCRYPTION_PREVIOUS_KEYS"][1] == old
    assert file_settings(monkeypatch)["FILE_ENCRYPTION_KEY"] is None


def test_s3_encryption_is_aes256_unless_kms_is_asked_for(monkeypatch: Any) -> None:
    assert file_settings(monkeypatch)["AWS_S3_OBJECT_PARAMETERS"] == {"ServerSideEncryption": "AES256"}
    kms = file_settings(monkeypatch, FILE_S3_SSE="aws:kms", FILE_S3_KMS_KEY_ID=KMS_KEY)
    assert kms["AWS_S3_OBJECT_PARAMETERS"] == {"ServerSideEncryption": "aws:kms", "SSEKMSKeyId": KMS_KEY}
    with pytest.raises(
        ImproperlyConfigured, match=re.escape("FILE_S3_SSE='AES128' is not one of AES256, aws:kms or none")
    ):
        file_settings(monkeypatch, FILE_S3_SSE="AES128")
    with pytest.raises(ImproperlyConfigured, match=re.escape("FILE_S3_KMS_KEY_ID is set, but FILE_S3_SSE='AES256'")):
        file_settings(monkeypatch, FILE_S3_KMS_KEY_ID=KMS_KEY)


# --- S3: server-side encryption ---------------------------------------------------


def test_the_s3_policy_pins_aes256_and_the_form_carries_it(api: Any, s3_storage: Storage) -> None:
    data = ask(api).json()["data"]
    fields = data["fields"]
    policy = policy_of(fields)
    assert {SSE: "AES256"} in policy["conditions"]
    assert fields[SSE] == "AES256"
    assert not any(SSE_KMS_KEY in condition for condition in policy["conditions"] if isinstance(condition, dict))
    # moto enforces no POST policy; judged as S3 would, the form passes, and fails without the header.
    assert unmet(policy, fields) == []
    assert unmet(policy, {name: value for name, value in fields.items() if name != SSE}) == [{SSE: "AES256"}]
    # The form as given is accepted (moto 5 keeps no SSE of a POST form, so head_object cannot show it here).
    assert post_upload(data, samples.pdf()).status == 204
    assert api.post("/api/files/complete", {"fileId": data["fileId"]}, format="json").status_code == 200


def test_the_s3_policy_pins_kms_and_its_key(api: Any, s3_storage: Storage, settings: Any) -> None:
    settings.FILE_S3_SSE, settings.FILE_S3_KMS_KEY_ID = "aws:kms", KMS_KEY
    data = ask(api).json()["data"]
    fields = data["fields"]
    policy = policy_of(fields)
    assert {SSE: "aws:kms"} in policy["conditions"]
    assert {SSE_KMS_KEY: KMS_KEY} in policy["conditions"]
    assert (fields[SSE], fields[SSE_KMS_KEY]) == ("aws:kms", KMS_KEY)
    another_key = {name: value for name, value in fields.items()} | {SSE_KMS_KEY: "alias/mine"}
    assert unmet(policy, another_key) == [{SSE_KMS_KEY: KMS_KEY}]
    assert post_upload(data, samples.pdf()).status == 204


def test_no_encryption_header_when_turned_off_for_a_store_without_it(
    api: Any, s3_storage: Storage, settings: Any
) -> None:
    settings.FILE_S3_SSE = "none"
    fields = ask(api).json()["data"]["fields"]
    assert SSE not in fields
    assert not any(SSE in str(condition) for condition in policy_of(fields)["conditions"])


@pytest.mark.parametrize(
    ("sse", "kms_key", "expected"),
    [("AES256", "", ("AES256", None)), ("aws:kms", KMS_KEY, ("aws:kms", KMS_KEY))],
)
def test_objects_the_app_writes_to_s3_are_encrypted(
    post_email: Any, ses: Any, s3_storage: Storage, settings: Any, sse: str, kms_key: str, expected: Any
) -> None:
    settings.FILE_S3_SSE, settings.FILE_S3_KMS_KEY_ID = sse, kms_key
    pdf = samples.pdf()
    inline = {"filename": "a.pdf", "content": base64.b64encode(pdf).decode(), "contentType": "application/pdf"}
    assert post_email(BASE | {"attachments": [inline]}).status_code == 201
    found = s3_storage.client.head_object(Bucket=s3_storage.bucket, Key=File.objects.get().key)
    assert (found.get("ServerSideEncryption"), found.get("SSEKMSKeyId")) == expected
    assert attachments_of(received(ses)) == [("a.pdf", "application/pdf", pdf)]


def test_what_django_storages_writes_itself_is_encrypted(s3_storage: Storage) -> None:
    name = storages["default"].save("document/1/by-storages.txt", io.BytesIO(b"written by S3Storage.save"))
    found = s3_storage.client.head_object(Bucket=s3_storage.bucket, Key=name)
    assert found["ServerSideEncryption"] == "AES256"


# --- Disk: sealed at rest -----------------------------------------------------------


def test_a_file_is_unreadable_on_disk_and_served_exactly(api: Any, sealed: Storage) -> None:
    file = stored(api, CONTENT)
    raw = sealed.get(file.key)
    assert raw is not None
    assert raw != CONTENT and SECRET not in raw and b"%PDF" not in raw
    assert raw.startswith(MAGIC)
    assert len(raw) == sealed_size(len(CONTENT)) == HEADER_SIZE + len(CONTENT) + 4 * TAG_SIZE
    # Size and checksum are the plaintext's, as S3 reports them.
    assert (file.size, file.checksum) == (len(CONTENT), "md5:" + hashlib.md5(CONTENT).hexdigest())  # noqa: S324
    status, headers, body = fetch(download_url(api, file))
    assert status == 200
    assert body == CONTENT
    assert headers["Content-Length"] == str(len(CONTENT))


def test_two_uploads_of_the_same_bytes_differ_on_disk(api: Any, sealed: Storage) -> None:
    first, second = stored(api, samples.pdf()), stored(api, samples.pdf())
    one, two = sealed.get(first.key), sealed.get(second.key)
    assert one is not None and two is not None
    assert one[HEADER_SIZE:] != two[HEADER_SIZE:]


@pytest.mark.parametrize(
    "size", [1, SEGMENT_SIZE - 1, SEGMENT_SIZE, SEGMENT_SIZE + 1, 2 * SEGMENT_SIZE, 3 * SEGMENT_SIZE + 5]
)
def test_every_size_round_trips_whole_and_by_range(sealed: Storage, size: int) -> None:
    content = os.urandom(size)
    info = file_storage.save(key="document/1/sizes.bin", content=content, content_type="application/octet-stream")
    assert os.path.getsize(on_disk(sealed, "document/1/sizes.bin")) == sealed_size(size)
    assert file_storage.head(key="document/1/sizes.bin") == info
    assert info.size == size
    with file_storage.open_stream(key="document/1/sizes.bin") as stream:
        assert stream.read() == content
    for start in {0, size // 2, max(size - 1, 0), max(SEGMENT_SIZE - 2, 0)}:
        assert file_storage.read_range(key="document/1/sizes.bin", start=start, length=5) == content[start : start + 5]
    assert file_storage.read_range(key="document/1/sizes.bin", start=-7, length=7) == content[-7:]


@pytest.mark.parametrize("encrypted", [True, False], ids=["sealed", "plain"])
def test_a_ranged_download_serves_the_exact_slice(
    api: Any, disk_storage: Storage, settings: Any, encrypted: bool
) -> None:
    settings.FILE_ENCRYPTION_KEY = os.urandom(32) if encrypted else None
    file = stored(api, CONTENT)
    url, size = download_url(api, file), len(CONTENT)
    boundary = SEGMENT_SIZE
    for asked, start, end in [
        (f"bytes={boundary - 10}-{boundary + 9}", boundary - 10, boundary + 9),  # across a segment boundary
        (f"bytes={2 * boundary - 1}-{3 * boundary}", 2 * boundary - 1, 3 * boundary),
        ("bytes=-100", size - 100, size - 1),
        (f"bytes={size - 5}-", size - 5, size - 1),
        (f"bytes=0-{size + 1000}", 0, size - 1),
    ]:
        response = get(url, Range=asked)
        assert response.status_code == 206, asked
        assert b"".join(response.streaming_content) == CONTENT[start : end + 1], asked
        assert response["Content-Range"] == f"bytes {start}-{end}/{size}"
        assert response["Content-Length"] == str(end - start + 1)
    outside = get(url, Range=f"bytes={size}-")
    assert outside.status_code == 416
    assert outside["Content-Range"] == f"bytes */{size}"
    # Several ranges, or an If-Range this answer has no validator for: the whole file.
    for headers in [{"Range": "bytes=0-1,5-6"}, {"Range": "bytes=0-1", "If-Range": '"abc"'}]:
        whole = get(url, **headers)
        assert whole.status_code == 200
        assert b"".join(whole.streaming_content) == CONTENT


def test_a_ranged_read_decrypts_only_the_segments_it_covers(api: Any, sealed: Storage) -> None:
    file = stored(api, CONTENT)
    # Damage the third segment: reads of the first two still succeed, the whole file no longer does.
    rewrite(on_disk(sealed, file.key), flip(HEADER_SIZE + 2 * (SEGMENT_SIZE + TAG_SIZE) + 100))
    start = SEGMENT_SIZE - 3
    assert file_storage.read_range(key=file.key, start=start, length=6) == CONTENT[start : start + 6]
    assert file_storage.read_range(key=file.key, start=0, length=8) == CONTENT[:8]
    with pytest.raises(StoredObjectCorrupt, match="segment 2"):
        file_storage.read_range(key=file.key, start=2 * SEGMENT_SIZE, length=1)


@pytest.mark.parametrize(
    ("file_name", "content_type", "content", "reason"),
    [
        ("invoice.pdf", "application/pdf", samples.exe(), "executables are never accepted"),
        ("notes.txt", "text/plain", b"plain words\n" * 20_000 + b"\x00\x01", "its content is binary data"),
        (
            "letter.docx",
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
            samples.xlsx(),
            "the archive does not hold one",
        ),
    ],
)
def test_the_magic_byte_check_still_refuses_a_disguised_file(
    api: Any, sealed: Storage, file_name: str, content_type: str, content: bytes, reason: str
) -> None:
    data = upload(api, content, fileName=file_name, contentType=content_type)
    assert sealed.get(data["fileKey"]) != content  # checked through the seal, not as stored
    done = api.post("/api/files/complete", {"fileId": data["fileId"]}, format="json")
    assert done.status_code == 422
    assert reason in done.json()["error"]
    assert sealed.get(data["fileKey"]) is None


def test_files_of_every_kind_pass_the_check_through_the_seal(api: Any, sealed: Storage) -> None:
    docx = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
    for name, content_type, content in [
        ("a.docx", docx, samples.docx()),
        ("a.doc", "application/msword", samples.doc()),
    ]:
        data = upload(api, content, fileName=name, contentType=content_type)
        done = api.post("/api/files/complete", {"fileId": data["fileId"]}, format="json")
        assert done.status_code == 200, done.json()


def test_a_sealed_file_attached_to_an_email_reaches_ses_intact(
    api: Any, post_email: Any, ses: Any, sealed: Storage
) -> None:
    file = stored(api, CONTENT, fileName="ledger.pdf")
    sheet = samples.xlsx()
    xlsx_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    inline = {"filename": "numbers.xlsx", "content": base64.b64encode(sheet).decode(), "contentType": xlsx_type}
    response = post_email(BASE | {"s3Attachments": [{"fileId": str(file.pk)}], "attachments": [inline]})
    assert response.status_code == 201, response.json()
    assert sorted(attachments_of(received(ses))) == [
        ("ledger.pdf", "application/pdf", CONTENT),
        ("numbers.xlsx", xlsx_type, sheet),
    ]
    # The inline attachment the app kept is sealed on disk too.
    kept = File.objects.get(original_name="numbers.xlsx")
    assert sealed.get(kept.key) != sheet and (sealed.get(kept.key) or b"").startswith(MAGIC)


def test_a_sealed_csv_becomes_a_bulk_row_by_row(
    api: Any, sealed: Storage, django_capture_on_commit_callbacks: Any
) -> None:
    # Longer than a segment, with two-byte characters wherever the boundaries fall.
    rows = "".join(f"p{i}@example.com,Zoë Ærø {i}\r\n" for i in range(3000))
    content = ("email,name\r\n" + rows).encode()
    assert len(content) > SEGMENT_SIZE
    file = stored(api, content, fileName="people.csv", contentType="text/csv", category="document")
    response = bulk(api, file.pk, django_capture_on_commit_callbacks, subject="News", textContent="Hi {{ name }}")
    assert response.status_code == 202, response.json()
    assert response.json()["data"]["accepted"] == 3000
    last = Message.objects.order_by("bulk_index").last()
    assert last is not None and message_bodies(last)[1] == "Hi Zoë Ærø 2999"


# --- Tampering -------------------------------------------------------------------------


def test_a_byte_changed_mid_file_stops_the_download_before_it(api: Any, sealed: Storage) -> None:
    file = stored(api, CONTENT)
    rewrite(on_disk(sealed, file.key), flip(HEADER_SIZE + 2 * (SEGMENT_SIZE + TAG_SIZE) + 7))
    response = get(download_url(api, file))
    assert response.status_code == 200  # the ends check out; the damage is found where it lies
    served = bytearray()
    with pytest.raises(StoredObjectCorrupt, match="segment 2"):
        for chunk in response.streaming_content:
            served += chunk
    # Nothing of the damaged segment, nor after it, left: only authenticated bytes.
    assert len(served) <= 2 * SEGMENT_SIZE
    assert bytes(served) == CONTENT[: len(served)]
    response.close()


@pytest.mark.parametrize(
    "damage",
    [
        pytest.param(flip(HEADER_SIZE + 5), id="first-segment"),
        pytest.param(flip(20), id="header-salt"),
        pytest.param(flip(8), id="header-version"),
        pytest.param(lambda data: data[: HEADER_SIZE + 3 * (SEGMENT_SIZE + TAG_SIZE)], id="cut-at-a-boundary"),
        pytest.param(lambda data: data[:-1], id="cut-by-a-byte"),
        pytest.param(
            lambda data: (
                data[:HEADER_SIZE]
                + data[HEADER_SIZE + SEGMENT_SIZE + TAG_SIZE : HEADER_SIZE + 2 * (SEGMENT_SIZE + TAG_SIZE)]
                + data[HEADER_SIZE : HEADER_SIZE + SEGMENT_SIZE + TAG_SIZE]
                + data[HEADER_SIZE + 2 * (SEGMENT_SIZE + TAG_SIZE) :]
            ),
            id="segments-swapped",
        ),
        pytest.param(lambda data: data + b"\x00" * 40, id="extended"),
    ],
)
def test_a_damaged_file_is_refused_and_no_byte_of_it_served(api: Any, sealed: Storage, damage: Any) -> None:
    file = stored(api, CONTENT)
    rewrite(on_disk(sealed, file.key), damage)
    response = get(download_url(api, file))
    assert response.status_code == 500
    assert b"<Code>InternalError</Code>" in response.content
    assert b"failed its integrity check" in response.content
    assert SECRET not in response.content
    with pytest.raises(StoredObjectCorrupt), file_storage.open_stream(key=file.key) as stream:
        stream.read()


def test_a_damaged_attachment_is_not_sent(
    api: Any, ses: Any, sealed: Storage, django_capture_on_commit_callbacks: Any
) -> None:
    file = stored(api, CONTENT, fileName="ledger.pdf")
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        api.post("/api/email", BASE | {"s3Attachments": [{"fileId": str(file.pk)}]}, format="json")
    rewrite(on_disk(sealed, file.key), flip(HEADER_SIZE + SEGMENT_SIZE + TAG_SIZE + 1))
    for callback in callbacks:
        callback()
    message = Message.objects.get()
    assert message.status == "failed"
    assert message.status_reason.startswith("Attachment 'ledger.pdf'")
    assert ses.sent_messages == []


def test_an_upload_damaged_before_its_check_fails(api: Any, sealed: Storage) -> None:
    data = upload(api, CONTENT)
    rewrite(on_disk(sealed, data["fileKey"]), flip(HEADER_SIZE + 3 * (SEGMENT_SIZE + TAG_SIZE) + 2))
    done = api.post("/api/files/complete", {"fileId": data["fileId"]}, format="json")
    assert done.status_code == 422
    assert done.json()["error"] == "The upload was rejected: The stored file failed its integrity check."
    assert File.objects.get(pk=data["fileId"]).status == "failed"


# --- Plain files from before the key, and key rotation -----------------------------------------


def test_files_written_before_the_key_stay_readable(
    api: Any, post_email: Any, ses: Any, disk_storage: Storage, settings: Any
) -> None:
    settings.FILE_ENCRYPTION_KEY = None
    old = stored(api, CONTENT, fileName="old.pdf")
    assert disk_storage.get(old.key) == CONTENT
    settings.FILE_ENCRYPTION_KEY = os.urandom(32)
    new = stored(api, samples.pdf(), fileName="new.pdf")
    assert (disk_storage.get(new.key) or b"").startswith(MAGIC)
    assert fetch(download_url(api, old))[2] == CONTENT
    ranged = get(download_url(api, old), Range="bytes=70000-70009")
    assert b"".join(ranged.streaming_content) == CONTENT[70000:70010]
    assert post_email(BASE | {"s3Attachments": [{"fileId": str(old.pk)}, {"fileId": str(new.pk)}]}).status_code == 201
    assert [body for _, _, body in attachments_of(received(ses))] == [CONTENT, samples.pdf()]


def test_an_old_key_kept_as_previous_still_reads_its_files(
    api: Any, sealed: Storage, settings: Any, file_key: bytes
) -> None:
    file = stored(api, CONTENT)
    settings.FILE_ENCRYPTION_KEY = os.urandom(32)  # rotated: new files get the new key
    settings.FILE_ENCRYPTION_PREVIOUS_KEYS = [file_key]
    assert fetch(download_url(api, file))[2] == CONTENT
    newer = stored(api, samples.pdf())
    # Without the old key its files are unreadable, and say why, rather than served or called damaged.
    settings.FILE_ENCRYPTION_PREVIOUS_KEYS = []
    refused = get(download_url(api, file))
    assert refused.status_code == 503
    assert b"<Code>ServiceUnavailable</Code>" in refused.content
    with pytest.raises(StorageUnavailable, match="neither FILE_ENCRYPTION_KEY nor FILE_ENCRYPTION_PREVIOUS_KEYS"):
        file_storage.read_range(key=file.key, start=0, length=10)
    assert fetch(download_url(api, newer))[2] == samples.pdf()
    settings.FILE_ENCRYPTION_KEY = None  # nor can a process with no key at all read a sealed file
    assert get(download_url(api, newer)).status_code == 503


def test_files_seal_puts_plain_and_older_files_under_the_current_key(
    api: Any, disk_storage: Storage, settings: Any
) -> None:
    settings.FILE_ENCRYPTION_KEY, settings.FILE_ENCRYPTION_PREVIOUS_KEYS = None, []
    plain = stored(api, CONTENT, fileName="plain.pdf")
    settings.FILE_ENCRYPTION_KEY = old = os.urandom(32)
    older = stored(api, samples.pdf(b"% older\n"), fileName="older.pdf")
    deleted = stored(api, samples.pdf(b"% deleted\n"), fileName="deleted.pdf")
    assert api.delete(f"/api/files/{deleted.pk}").status_code == 200  # soft: its object waits for the purge
    in_flight = upload(api, samples.pdf(), fileName="in-flight.pdf")  # not completed: still being written to
    settings.FILE_ENCRYPTION_KEY, settings.FILE_ENCRYPTION_PREVIOUS_KEYS = os.urandom(32), [old]
    current = stored(api, samples.pdf(b"% current\n"), fileName="current.pdf")
    before = {file.key: disk_storage.get(file.key) for file in (current,)}
    out = io.StringIO()
    call_command("files_seal", stdout=out)
    assert "Sealed 3 file(s) with the current key." in out.getvalue()
    keyring = Keyring.of(settings.FILE_ENCRYPTION_KEY)
    for file in (plain, older, deleted, current):
        assert keyring.is_current(disk_storage.get(file.key) or b""), file.original_name
    assert disk_storage.get(current.key) == before[current.key]  # already current: untouched
    assert not keyring.is_current(disk_storage.get(in_flight["fileKey"]) or b"")
    assert Keyring.of(old).is_current(disk_storage.get(in_flight["fileKey"]) or b"")
    # The old key and plain files can now go.
    settings.FILE_ENCRYPTION_PREVIOUS_KEYS, settings.FILE_ENCRYPTION_ALLOW_PLAIN = [], False
    assert fetch(download_url(api, plain))[2] == CONTENT
    assert fetch(download_url(api, older))[2] == samples.pdf(b"% older\n")
    again = io.StringIO()
    call_command("files_seal", stdout=again)
    assert "Sealed 0 file(s)" in again.getvalue()


def test_files_seal_reports_a_damaged_file_and_seals_the_rest(api: Any, disk_storage: Storage, settings: Any) -> None:
    settings.FILE_ENCRYPTION_KEY = old = os.urandom(32)
    damaged, sound = stored(api, CONTENT), stored(api, samples.pdf())
    rewrite(on_disk(disk_storage, damaged.key), flip(HEADER_SIZE + SEGMENT_SIZE + TAG_SIZE + 9))
    settings.FILE_ENCRYPTION_KEY, settings.FILE_ENCRYPTION_PREVIOUS_KEYS = os.urandom(32), [old]
    damaged_bytes = disk_storage.get(damaged.key)
    with pytest.raises(
        CommandError, match=f"1 file\\(s\\) failed their check and were left as they are: {damaged.key}"
    ):
        call_command("files_seal", stdout=io.StringIO())
    assert disk_storage.get(damaged.key) == damaged_bytes
    assert Keyring.of(settings.FILE_ENCRYPTION_KEY).is_current(disk_storage.get(sound.key) or b"")
    assert not [name for name in os.listdir(os.path.dirname(on_disk(disk_storage, damaged.key))) if ".part" in name]


@pytest.mark.parametrize(
    "swap",
    [
        pytest.param(lambda data: bytearray(CONTENT), id="plaintext-swapped-in"),
        pytest.param(flip(0), id="magic-flipped"),
    ],
)
def test_once_plain_files_are_refused_a_file_without_the_seal_is_not_served(
    api: Any, sealed: Storage, settings: Any, swap: Any
) -> None:
    settings.FILE_ENCRYPTION_ALLOW_PLAIN = False
    file = stored(api, CONTENT)
    rewrite(on_disk(sealed, file.key), swap)
    refused = get(download_url(api, file))
    assert refused.status_code == 500
    assert b"failed its integrity check" in refused.content


def test_refusing_plain_files_needs_a_key(monkeypatch: Any) -> None:
    with pytest.raises(
        ImproperlyConfigured, match=re.escape("FILE_ENCRYPTION_ALLOW_PLAIN=false needs FILE_ENCRYPTION_KEY")
    ):
        file_settings(monkeypatch, FILE_ENCRYPTION_ALLOW_PLAIN="false")
    assert (
        file_settings(monkeypatch, FILE_ENCRYPTION_ALLOW_PLAIN="false", FILE_ENCRYPTION_KEY=new_key())[
            "FILE_ENCRYPTION_ALLOW_PLAIN"
        ]
        is False
    )


# --- Constant memory --------------------------------------------------------------------------

LARGE = 20 * 1024 * 1024


def multipart_file(path: str, fields: dict[str, str], size: int) -> tuple[str, int]:
    """Write a browser's multipart form with a `size`-byte PDF to `path`, a chunk at a time; its boundary and length."""
    boundary = "----sealed-upload-boundary"
    with open(path, "wb") as out:
        for name, value in fields.items():
            out.write(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode())
        out.write(
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="big.pdf"\r\n'
            "Content-Type: application/pdf\r\n\r\n".encode()
        )
        out.write(b"%PDF-1.4\n")
        line = b"% a line of a large document, repeated until it is twenty megabytes long\n"
        written = 9
        while written < size:
            piece = line[: size - written]
            out.write(piece)
            written += len(piece)
        out.write(f"\r\n--{boundary}--\r\n".encode())
        return boundary, out.tell()


def peak_while(work: Any) -> int:
    tracemalloc.start()
    try:
        work()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_a_large_upload_streams_through_the_seal_in_constant_memory(api: Any, sealed: Storage, tmp_path: Any) -> None:
    data = ask(api, maxSizeBytes=LARGE + 1).json()["data"]
    boundary, length = multipart_file(str(tmp_path / "form"), data["fields"], LARGE)
    answers: list[int] = []

    def post() -> None:
        with open(tmp_path / "form", "rb") as body:
            environ = {
                "REQUEST_METHOD": "POST",
                "PATH_INFO": data["uploadUrl"].removeprefix("http://testserver"),
                "SCRIPT_NAME": "",
                "QUERY_STRING": "",
                "SERVER_NAME": "testserver",
                "SERVER_PORT": "80",
                "SERVER_PROTOCOL": "HTTP/1.1",
                "wsgi.url_scheme": "http",
                "wsgi.input": body,
                "wsgi.errors": sys.stderr,
                "CONTENT_TYPE": f"multipart/form-data; boundary={boundary}",
                "CONTENT_LENGTH": str(length),
            }
            token = data["uploadUrl"].rstrip("/").rpartition("/")[2]
            answers.append(disk_upload(WSGIRequest(environ), token).status_code)

    upload_peak = peak_while(post)
    assert answers == [204]
    assert os.path.getsize(on_disk(sealed, data["fileKey"])) == sealed_size(LARGE)

    completed: list[Any] = []
    complete_peak = peak_while(
        lambda: completed.append(api.post("/api/files/complete", {"fileId": data["fileId"]}, format="json"))
    )
    assert completed[0].status_code == 200, completed[0].json()
    assert completed[0].json()["data"]["file"]["size"] == LARGE

    url = download_url(api, File.objects.get(pk=data["fileId"]))
    digest = hashlib.sha256()

    def download() -> None:
        response = get(url)
        for chunk in response.streaming_content:
            digest.update(chunk)
        response.close()

    download_peak = peak_while(download)
    expected = hashlib.sha256()
    with open(tmp_path / "form", "rb") as body:
        body.read(length - LARGE - len(f"\r\n--{boundary}--\r\n"))
        expected.update(body.read(LARGE))
    assert digest.hexdigest() == expected.hexdigest()
    # A few segments at a time, whatever the size: far under the file's 20 MB.
    for peak in (upload_peak, complete_peak, download_peak):
        assert peak < LARGE / 10, (upload_peak, complete_peak, download_peak)
