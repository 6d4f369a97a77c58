"""Who sees, downloads and deletes which file; downloads' headers; the list's filters."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import pytest
from django.contrib.auth.models import Permission
from django.utils import timezone
from rest_framework.test import APIClient

from files.models import File
from tests.factories import UserFactory
from tests.files import samples
from tests.files.conftest import Storage
from tests.files.test_upload_flow import fetch, upload


def stored(api: Any, content: bytes | None = None, **overrides: Any) -> File:
    """A completed file, uploaded through the real flow."""
    data = upload(api, content or samples.pdf(), **overrides)
    assert api.post("/api/files/complete", {"fileId": data["fileId"]}, format="json").status_code == 200
    return File.objects.get(pk=data["fileId"])


def client_for(user: Any) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


# --- Download headers ----------------------------------------------------------


def test_a_download_carries_the_original_non_ascii_name(api: Any, storage: Storage) -> None:
    name = "Relatório financeiro \u2013 2024 \u201cfinal\u201d \u2713.pdf"  # en dash, curly quotes, check mark
    file = stored(api, fileName=name)
    assert file.key.endswith("-Relatorio_financeiro_2024_final.pdf")
    link = api.get(f"/api/files/{file.pk}/download-url").json()["data"]
    assert link["expiresIn"] == 3600
    assert link["file"]["originalName"] == name
    status, headers, body = fetch(link["downloadUrl"])
    assert status == 200
    assert body == samples.pdf()
    assert headers["Content-Type"] == "application/pdf"
    # RFC 6266: an ASCII fallback, then the exact name in UTF-8 (RFC 8187).
    assert headers["Content-Disposition"] == (
        f"attachment; filename=\"Relat_rio financeiro _ 2024 _final_ _.pdf\"; filename*=UTF-8''{quote(name, safe='')}"
    )


def test_a_download_is_counted(api: Any, storage: Storage) -> None:
    file = stored(api)
    assert file.download_count == 0
    before = timezone.now()
    api.get(f"/api/files/{file.pk}/download-url")
    api.get(f"/api/files/{file.pk}/download-url")
    file.refresh_from_db()
    assert file.download_count == 2
    assert file.last_accessed_at is not None and file.last_accessed_at >= before
    record = api.get(f"/api/files/{file.pk}").json()["data"]["file"]
    assert record["access"]["downloadCount"] == 2


def test_an_expired_disk_download_url_is_refused(api: Any, disk_storage: Storage, monkeypatch: Any) -> None:
    import time

    file = stored(api)
    url = api.get(f"/api/files/{file.pk}/download-url").json()["data"]["downloadUrl"]
    later = time.time() + 3601
    monkeypatch.setattr("files.storage.disk.time.time", lambda: later)
    status, _, body = fetch(url)
    assert status == 403
    assert b"<Message>The link has expired.</Message>" in body


def test_a_tampered_disk_download_url_is_refused(api: Any, disk_storage: Storage) -> None:
    file = stored(api)
    url = api.get(f"/api/files/{file.pk}/download-url").json()["data"]["downloadUrl"]
    status, _, body = fetch(url[:-4] + ("AAAA" if not url.endswith("AAAA") else "BBBB"))
    assert status == 403
    assert b"<Message>The link is invalid.</Message>" in body


def test_a_disk_download_url_issued_before_a_delete_serves_nothing_after_it(api: Any, disk_storage: Storage) -> None:
    """D12: the link was signed for an hour, and kept serving the deleted file for the rest of it."""
    file = stored(api)
    url = api.get(f"/api/files/{file.pk}/download-url").json()["data"]["downloadUrl"]
    assert fetch(url)[0] == 200

    assert api.delete(f"/api/files/{file.pk}").status_code == 200

    status, _, body = fetch(url)
    assert status == 403
    assert b"<Message>The file is no longer available.</Message>" in body
    assert disk_storage.get(file.key) is not None  # the object stays until the purge; it is just not served


def test_a_file_past_its_access_expiry_cannot_be_downloaded(api: Any, disk_storage: Storage) -> None:
    file = stored(api)
    File.objects.filter(pk=file.pk).update(expires_at=timezone.now())
    response = api.get(f"/api/files/{file.pk}/download-url")
    assert response.status_code == 403
    assert response.json()["error"] == "This file can no longer be downloaded: its access has expired."


def test_an_unfinished_upload_cannot_be_downloaded(api: Any, storage: Storage) -> None:
    data = upload(api, samples.pdf())
    assert api.get(f"/api/files/{data['fileId']}/download-url").status_code == 404


# --- Ownership ---------------------------------------------------------------


def test_another_users_private_file_is_invisible_on_every_endpoint(api: Any, other_api: Any, storage: Storage) -> None:
    file = stored(api)
    assert other_api.get("/api/files").json()["data"]["files"] == []
    for response in (
        other_api.get(f"/api/files/{file.pk}"),
        other_api.get(f"/api/files/{file.pk}/download-url"),
        other_api.delete(f"/api/files/{file.pk}"),
    ):
        assert response.status_code == 404
        assert response.json() == {"success": False, "error": "File not found"}
    file.refresh_from_db()
    assert file.status == "completed"
    assert file.download_count == 0


def test_a_public_file_is_downloadable_by_anyone_signed_in_but_not_listed_or_deleted(
    api: Any, other_api: Any, storage: Storage
) -> None:
    file = stored(api, isPublic=True)
    assert other_api.get("/api/files").json()["data"]["files"] == []
    detail = other_api.get(f"/api/files/{file.pk}")
    assert detail.status_code == 200
    # The uploader's IP and browser are not shown to others.
    assert "ipAddress" not in detail.json()["data"]["file"]["metadata"]
    assert "ipAddress" in api.get(f"/api/files/{file.pk}").json()["data"]["file"]["metadata"]
    link = other_api.get(f"/api/files/{file.pk}/download-url")
    assert link.status_code == 200
    assert fetch(link.json()["data"]["downloadUrl"])[2] == samples.pdf()
    refused = other_api.delete(f"/api/files/{file.pk}")
    assert refused.status_code == 403
    assert refused.json() == {"success": False, "error": "Only the file's owner can delete it."}
    assert File.objects.get(pk=file.pk).status == "completed"


def test_a_public_file_is_not_public_before_it_is_completed(api: Any, other_api: Any, storage: Storage) -> None:
    data = upload(api, samples.pdf(), isPublic=True)
    assert other_api.get(f"/api/files/{data['fileId']}").status_code == 404


def test_signed_out_callers_get_nothing(storage: Storage, api: Any) -> None:
    file = stored(api, isPublic=True)
    anonymous = APIClient()
    for response in (
        anonymous.get("/api/files"),
        anonymous.get(f"/api/files/{file.pk}"),
        anonymous.get(f"/api/files/{file.pk}/download-url"),
        anonymous.delete(f"/api/files/{file.pk}"),
        anonymous.post("/api/files/complete", {"fileId": str(file.pk)}, format="json"),
    ):
        assert response.status_code in (401, 403)
    assert File.objects.get(pk=file.pk).download_count == 0


def test_staff_with_the_permission_see_and_download_all_files(
    api: Any, file_viewer: Any, disk_storage: Storage
) -> None:
    file = stored(api)
    staff = client_for(file_viewer)
    assert [f["id"] for f in staff.get("/api/files").json()["data"]["files"]] == [str(file.pk)]
    assert staff.get(f"/api/files/{file.pk}/download-url").status_code == 200
    # Seeing is not deleting.
    assert staff.delete(f"/api/files/{file.pk}").status_code == 403
    manager = UserFactory(is_staff=True)
    manager.user_permissions.add(Permission.objects.get(codename="manage_all_files"))
    assert client_for(manager).delete(f"/api/files/{file.pk}").status_code == 200


def test_staff_without_the_permission_see_only_their_own(api: Any, disk_storage: Storage) -> None:
    stored(api)
    staff = client_for(UserFactory(is_staff=True))
    assert staff.get("/api/files").json()["data"]["files"] == []


def test_staff_can_filter_by_owner(
    api: Any, other_api: Any, user: Any, file_viewer: Any, disk_storage: Storage
) -> None:
    mine = stored(api)
    stored(other_api)
    staff = client_for(file_viewer)
    assert staff.get("/api/files").json()["data"]["pagination"]["total"] == 2
    found = staff.get("/api/files", {"userId": user.pk}).json()["data"]["files"]
    assert [f["id"] for f in found] == [str(mine.pk)]


def test_deleting_twice_is_a_404(api: Any, disk_storage: Storage) -> None:
    file = stored(api)
    assert api.delete(f"/api/files/{file.pk}").status_code == 200
    assert api.delete(f"/api/files/{file.pk}").status_code == 404


# --- The list ----------------------------------------------------------------


def make(owner: Any, name: str, **fields: Any) -> File:
    import uuid

    file_id = uuid.uuid4()
    defaults = {
        "key": f"general/{owner.pk}/{file_id}-{name}",
        "file_name": name,
        "original_name": name,
        "content_type": "application/pdf",
        "size": 100,
        "max_size": 1000,
        "category": "general",
        "status": "completed",
        "owner": owner,
    }
    return File.objects.create(id=file_id, **(defaults | fields))


def names(response: Any) -> list[str]:
    assert response.status_code == 200, response.json()
    return [f["originalName"] for f in response.json()["data"]["files"]]


def test_the_list_filters_searches_sorts_and_pages(api: Any, user: Any, other_user: Any) -> None:
    make(user, "alpha.pdf", size=300, category="invoice", department_id="sales", client_id="c-1")
    make(user, "beta.pdf", size=100, category="contract", department_id="sales")
    make(user, "gamma.pdf", size=200, status="failed")
    make(user, "delta.pdf", status="deleted")
    make(other_user, "alpha-other.pdf")
    assert names(api.get("/api/files", {"sortBy": "fileName", "sortOrder": "asc"})) == [
        "alpha.pdf",
        "beta.pdf",
        "gamma.pdf",
    ]
    assert names(api.get("/api/files", {"sortBy": "size", "sortOrder": "desc"})) == [
        "alpha.pdf",
        "gamma.pdf",
        "beta.pdf",
    ]
    assert names(api.get("/api/files", {"search": "ALPH"})) == ["alpha.pdf"]
    assert names(api.get("/api/files", {"search": "c-1"})) == ["alpha.pdf"]
    assert names(api.get("/api/files", {"category": "contract"})) == ["beta.pdf"]
    assert names(api.get("/api/files", {"status": "failed"})) == ["gamma.pdf"]
    assert names(api.get("/api/files", {"status": "deleted"})) == ["delta.pdf"]
    assert sorted(names(api.get("/api/files", {"departmentId": "sales"}))) == ["alpha.pdf", "beta.pdf"]
    assert sorted(names(api.get("/api/files", {"department": "sales"}))) == ["alpha.pdf", "beta.pdf"]
    assert names(api.get("/api/files", {"clientId": "c-1"})) == ["alpha.pdf"]
    # The seeds' empty filters mean "any".
    assert len(names(api.get("/api/files", {"category": "", "status": ""}))) == 3
    page = api.get("/api/files", {"limit": 2, "page": 2, "sortBy": "fileName", "sortOrder": "asc"}).json()["data"]
    assert [f["originalName"] for f in page["files"]] == ["gamma.pdf"]
    assert page["pagination"] == {"page": 2, "limit": 2, "total": 3, "pages": 2}


def test_the_list_filters_by_tag(api: Any, disk_storage: Storage) -> None:
    stored(api, metadata={"tags": "Finance,2024"})
    stored(api, fileName="other.pdf")
    assert names(api.get("/api/files", {"tag": "finance"})) == ["Quarterly report.pdf"]


@pytest.mark.parametrize(
    ("query", "path"),
    [
        ({"limit": 101}, ["limit"]),
        ({"page": 0}, ["page"]),
        ({"category": "secrets"}, ["category"]),
        ({"status": "lost"}, ["status"]),
        ({"sortBy": "key"}, ["sortBy"]),
        ({"sortOrder": "up"}, ["sortOrder"]),
    ],
)
def test_a_bad_query_is_a_400(api: Any, query: dict[str, Any], path: list[str]) -> None:
    response = api.get("/api/files", query)
    assert response.status_code == 400
    assert [d["path"] for d in response.json()["details"]] == [path]


def test_the_list_runs_a_fixed_number_of_queries(api: Any, user: Any, django_assert_max_num_queries: Any) -> None:
    for index in range(30):
        file = make(user, f"file-{index}.pdf")
        file.tags.create(name=f"tag-{index}")
    # The user's permissions (2), the count, the page, its tags.
    with django_assert_max_num_queries(5):
        response = api.get("/api/files", {"limit": 25})
    assert len(response.json()["data"]["files"]) == 25
