"""The files page, its actions, the composer's attachments (server side) and the admin."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import Permission
from django.test import Client

from emails.models import Message
from files.models import File
from tests.factories import UserFactory
from tests.files import samples
from tests.files.conftest import Storage
from tests.files.test_access import make, stored


def signed_in(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_the_files_page_needs_a_sign_in(db: Any) -> None:
    response = Client().get("/files")
    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/?next=/files"


def test_the_files_page_lists_only_the_users_files(
    user: Any, other_user: Any, django_assert_max_num_queries: Any
) -> None:
    for index in range(15):
        make(user, f"mine-{index}.pdf")
    make(other_user, "theirs.pdf")
    make(user, "gone.pdf", status="deleted")
    page = signed_in(user)
    with django_assert_max_num_queries(10):
        response = page.get("/files")
    html = response.content.decode()
    assert response.status_code == 200
    assert html.count('data-file-id="') == 15
    assert "theirs.pdf" not in html
    assert "gone.pdf" not in html
    assert 'id="dropzone"' in html
    assert 'href="/files" aria-current="page">Files</a>' in html


def test_the_files_page_filters_and_shows_bad_filters(user: Any) -> None:
    make(user, "invoice-1.pdf", category="invoice")
    make(user, "contract.pdf", category="contract")
    page = signed_in(user)
    html = page.get("/files", {"category": "invoice"}).content.decode()
    assert "invoice-1.pdf" in html and "contract.pdf" not in html
    html = page.get("/files", {"search": "contr", "category": ""}).content.decode()
    assert "contract.pdf" in html and "invoice-1.pdf" not in html
    bad = page.get("/files", {"status": "lost"})
    assert bad.status_code == 400
    assert "These filters are not valid" in bad.content.decode()


def test_staff_with_the_permission_see_every_file_with_its_owner(user: Any, file_viewer: Any) -> None:
    make(user, "someones.pdf")
    html = signed_in(file_viewer).get("/files").content.decode()
    assert "someones.pdf" in html
    assert f"<td>{user.username}</td>" in html


def test_the_download_action_counts_and_redirects_to_a_signed_url(api: Any, user: Any, storage: Storage) -> None:
    file = stored(api, samples.pdf(), fileName="Résumé.pdf")
    response = signed_in(user).get(f"/files/{file.pk}/download")
    assert response.status_code == 302
    location = response["Location"]
    if storage.kind == "disk":
        assert location.startswith("/files/download/")
        download = Client().get(location)
        assert b"".join(download.streaming_content) == samples.pdf()
        assert (
            download["Content-Disposition"]
            == "attachment; filename=\"R_sum_.pdf\"; filename*=UTF-8''R%C3%A9sum%C3%A9.pdf"
        )
    else:
        assert "X-Amz-Signature=" in location
    file.refresh_from_db()
    assert file.download_count == 1


def test_the_download_action_hides_other_users_files(api: Any, other_user: Any, disk_storage: Storage) -> None:
    file = stored(api, samples.pdf())
    assert signed_in(other_user).get(f"/files/{file.pk}/download").status_code == 404


def test_the_delete_action_soft_deletes_with_a_message(api: Any, user: Any, disk_storage: Storage) -> None:
    file = stored(api, samples.pdf(), fileName="old.pdf")
    page = signed_in(user)
    response = page.post(f"/files/{file.pk}/delete", {"next": "/files?category=document"}, follow=True)
    assert response.redirect_chain == [("/files?category=document", 302)]
    assert "old.pdf was deleted." in response.content.decode()
    assert File.objects.get(pk=file.pk).status == "deleted"
    # A GET only asks (and a deleted file has nothing left to ask about); never an outside redirect.
    other = stored(api, samples.pdf(), fileName="other.pdf")
    assert page.get(f"/files/{other.pk}/delete").status_code == 200
    assert File.objects.get(pk=other.pk).status == "completed"
    assert page.get(f"/files/{file.pk}/delete").status_code == 404
    assert page.post(f"/files/{other.pk}/delete", {"next": "https://evil.example.com/"})["Location"] == "/files"


def test_the_delete_action_refuses_a_public_file_of_someone_else(
    api: Any, other_user: Any, disk_storage: Storage
) -> None:
    file = stored(api, samples.pdf(), isPublic=True)
    response = signed_in(other_user).post(f"/files/{file.pk}/delete", follow=True)
    assert "Only the file&#x27;s owner can delete it." in response.content.decode()
    assert File.objects.get(pk=file.pk).status == "completed"
    private = stored(api, samples.pdf())
    assert signed_in(other_user).post(f"/files/{private.pk}/delete").status_code == 404


# --- The composer --------------------------------------------------------------

COMPOSE = {"to": "client@example.com", "subject": "Files", "textContent": "Here.", "category": "notification"}


def test_the_composer_offers_the_users_completed_files(
    api: Any, user: Any, other_user: Any, disk_storage: Storage
) -> None:
    mine = stored(api, samples.pdf(), fileName="mine.pdf")
    make(user, "failed.pdf", status="failed")
    make(other_user, "theirs.pdf")
    html = signed_in(user).get("/").content.decode()
    assert 'id="attachments-card"' in html
    assert f'<option value="{mine.pk}" data-name="mine.pdf"' in html
    assert "failed.pdf" not in html and "theirs.pdf" not in html
    assert "js/files-picker.js" in html


def test_the_composer_sends_picked_files_as_attachments(
    api: Any, user: Any, ses: Any, disk_storage: Storage, django_capture_on_commit_callbacks: Any
) -> None:
    mine = stored(api, samples.pdf(), fileName="mine.pdf")
    with django_capture_on_commit_callbacks(execute=True):
        response = signed_in(user).post("/", COMPOSE | {"attachmentFileIds": [str(mine.pk)]})
    assert response.status_code == 302
    message = Message.objects.get()
    assert [a.filename for a in message.attachments.all()] == ["mine.pdf"]
    assert message.status == "sent"
    assert b"mine.pdf" in (
        ses.sent_messages[0].raw_data.encode()
        if isinstance(ses.sent_messages[0].raw_data, str)
        else ses.sent_messages[0].raw_data
    )
    detail = signed_in(user).get(response["Location"]).content.decode()
    assert 'id="message-attachments"' in detail and "mine.pdf" in detail


def test_the_composer_keeps_attachments_when_it_shows_errors(
    api: Any, other_api: Any, user: Any, disk_storage: Storage
) -> None:
    mine = stored(api, samples.pdf(), fileName="mine.pdf")
    theirs = stored(other_api, samples.pdf(), fileName="theirs.pdf")
    response = signed_in(user).post(
        "/", COMPOSE | {"to": "not-an-address", "attachmentFileIds": [str(mine.pk), str(theirs.pk)]}
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert f'<input type="hidden" name="attachmentFileIds" value="{mine.pk}">' in html
    assert "theirs.pdf" not in html
    assert Message.objects.count() == 0


def test_the_composer_refuses_someone_elses_file(api: Any, other_api: Any, user: Any, disk_storage: Storage) -> None:
    theirs = stored(other_api, samples.pdf(), fileName="theirs.pdf")
    response = signed_in(user).post("/", COMPOSE | {"attachmentFileIds": [str(theirs.pk)]})
    assert response.status_code == 200
    assert "No such completed file among yours or the public ones." in response.content.decode()
    assert Message.objects.count() == 0


# --- Admin -----------------------------------------------------------------------


def test_the_admin_lists_files_and_soft_deletes_them(api: Any, disk_storage: Storage) -> None:
    file = stored(api, samples.pdf(), fileName="admin-me.pdf")
    admin_user = UserFactory(is_staff=True, is_superuser=True)
    page = signed_in(admin_user)
    listing = page.get("/admin/files/file/")
    assert listing.status_code == 200
    assert "admin-me.pdf" in listing.content.decode()
    assert page.get(f"/admin/files/file/{file.pk}/change/").status_code == 200
    response = page.post(
        "/admin/files/file/", {"action": "soft_delete", "_selected_action": [str(file.pk)]}, follow=True
    )
    assert "1 file(s) marked deleted." in response.content.decode()
    assert File.objects.get(pk=file.pk).status == "deleted"
    assert page.get("/admin/emails/attachment/").status_code == 200


def test_staff_without_admin_rights_on_files_cannot_open_them(api: Any, disk_storage: Storage) -> None:
    stored(api)
    staff = UserFactory(is_staff=True)
    staff.user_permissions.add(Permission.objects.get(codename="view_all_files"))
    assert signed_in(staff).get("/admin/files/file/").status_code == 403


def test_the_download_action_is_a_get_and_nothing_else(api: Any, user: Any, disk_storage: Storage) -> None:
    file = stored(api, samples.pdf())
    page = signed_in(user)
    assert page.post(f"/files/{file.pk}/download").status_code == 405
    assert page.head(f"/files/{file.pk}/download").status_code == 405  # a prefetch must not count a download
    file.refresh_from_db()
    assert file.download_count == 0


def test_a_disk_download_url_answers_another_method_as_s3_does(api: Any, user: Any, disk_storage: Storage) -> None:
    file = stored(api, samples.pdf())
    location = signed_in(user).get(f"/files/{file.pk}/download")["Location"]
    browser = Client(enforce_csrf_checks=True)  # no session and no token, as anyone holding the link
    for method in (browser.post, browser.put, browser.delete):
        refused = method(location)
        assert refused.status_code == 405 and refused["Allow"] == "GET, HEAD"
        assert b"<Code>MethodNotAllowed</Code>" in refused.content
    head = browser.head(location)
    assert head.status_code == 200 and head["Content-Length"] == str(len(samples.pdf()))
