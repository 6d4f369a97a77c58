"""What a new user noticed on the files page: the empty state, departments, same-named files, deleting sent files."""

from __future__ import annotations

import re
import uuid
from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from emails.models import Attachment, Message
from files import usage
from files.models import File
from files.usage import FileUsage, file_usage, file_usage_register
from tests.emails.test_pages import make_message
from tests.files.test_access import make

pytestmark = pytest.mark.django_db


def signed_in(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def attach(file: File, message: Message) -> None:
    position = Attachment.objects.filter(message=message).count()
    Attachment.objects.create(
        message=message,
        file=file,
        filename=file.original_name,
        content_type=file.content_type,
        size=file.size,
        position=position,
    )


def delete_form(html: str, file: File) -> str:
    match = re.search(rf'<form method="post" action="/files/{file.pk}/delete"[^>]*>', html)
    assert match, f"no delete form for {file.original_name}"
    return match.group(0)


# --- The empty state --------------------------------------------------------------


def test_a_user_without_files_is_told_what_the_page_is_for_instead_of_an_empty_table(user: Any) -> None:
    html = signed_in(user).get("/files").content.decode()
    assert 'id="files-empty"' in html
    assert "Nothing uploaded yet" in html
    assert '<label for="upload-input" class="btn btn-primary">Choose files to upload</label>' in html
    # The filters and the table wait, hidden, for the first upload (static/js/files.js shows them).
    assert re.search(r'<form [^>]*id="file-filters"[^>]* hidden>', html)
    assert re.search(r'<section [^>]*id="files-card" hidden>', html)


def test_the_empty_state_gives_way_to_the_list_once_there_is_a_file(user: Any) -> None:
    make(user, "first.pdf")
    html = signed_in(user).get("/files").content.decode()
    assert 'id="files-empty"' not in html
    assert "first.pdf" in html
    assert not re.search(r'id="files-card"[^>]* hidden', html)


def test_filters_that_match_nothing_say_so_rather_than_showing_the_empty_state(user: Any) -> None:
    make(user, "first.pdf")
    html = signed_in(user).get("/files", {"search": "nothing-like-it"}).content.decode()
    assert 'id="files-empty"' not in html
    assert "No file matches these filters." in html


# --- Labels and departments ---------------------------------------------------------


def test_a_category_shows_its_label_as_the_upload_script_shows_it(user: Any) -> None:
    make(user, "bill.pdf", category="invoice")
    html = signed_in(user).get("/files").content.decode()
    assert '<td><span class="tag category-cell">Invoice</span></td>' in html
    # The script takes its labels from the category filter's options, the same labels.
    assert '<option value="invoice">Invoice</option>' in html


def test_the_department_fields_offer_the_departments_in_use_most_used_first(user: Any, other_user: Any) -> None:
    make(user, "a.pdf", department_id="support")
    make(user, "b.pdf", department_id="sales")
    make(user, "c.pdf", department_id="sales")
    make(user, "d.pdf")
    make(other_user, "theirs.pdf", department_id="legal")
    html = signed_in(user).get("/files").content.decode()
    datalist = re.search(r'<datalist id="departments">(.*?)</datalist>', html, re.S)
    assert datalist
    assert re.findall(r'<option value="([^"]*)">', datalist.group(1)) == ["sales", "support"]
    assert 'id="upload-department" list="departments"' in html
    assert 'id="f-department" name="departmentId" list="departments"' in html
    assert "the CRM's id for the team the files belong to" in html


# --- The composer's picker ------------------------------------------------------------


def test_same_named_files_are_told_apart_by_size_and_upload_time_in_the_picker(user: Any) -> None:
    older = make(user, "invoice.pdf", size=2048)
    newer = make(user, "invoice.pdf", size=5 * 1024 * 1024)
    File.objects.filter(pk=older.pk).update(created_at=timezone.now() - timedelta(days=3))
    older.refresh_from_db()
    html = signed_in(user).get("/").content.decode()
    options = dict(re.findall(r'<option value="([0-9a-f-]{36})"[^>]*>([^<]*)</option>', html))
    when = older.created_at.strftime("%b %-d, %H:%M")
    assert options[str(older.pk)] == f"invoice.pdf (2.0\xa0KB, uploaded {when})"
    assert options[str(newer.pk)].startswith("invoice.pdf (5.0\xa0MB, uploaded ")
    assert options[str(older.pk)] != options[str(newer.pk)]
    assert f'data-uploaded="{when}"' in html


# --- Deleting a file that went out with mail ----------------------------------------------


def test_the_list_tells_each_delete_button_how_many_emails_carry_the_file(
    user: Any, django_assert_max_num_queries: Any
) -> None:
    sent_twice, waiting, unused = make(user, "contract.pdf"), make(user, "draft.pdf"), make(user, "notes.pdf")
    for _ in range(2):
        attach(sent_twice, make_message(user))
    attach(waiting, make_message(user, status="queued", recipient_status="queued"))
    page = signed_in(user)
    with django_assert_max_num_queries(10):  # one query for all the counts, however many files
        html = page.get("/files").content.decode()
    assert 'data-sent="2" data-waiting="0"' in delete_form(html, sent_twice)
    assert 'data-sent="0" data-waiting="1"' in delete_form(html, waiting)
    assert 'data-sent="0" data-waiting="0"' in delete_form(html, unused)


def test_deleting_a_file_attached_to_sent_mail_asks_first_and_says_how_many(user: Any) -> None:
    file = make(user, "contract.pdf")
    for _ in range(3):
        attach(file, make_message(user))
    page = signed_in(user)

    response = page.post(f"/files/{file.pk}/delete", {"next": "/files?category=general"})

    html = response.content.decode()
    assert response.status_code == 200
    assert "This file is attached to\n        3 sent emails." in html
    assert '<input type="hidden" name="confirmed" value="1">' in html
    assert '<input type="hidden" name="next" value="/files?category=general">' in html
    assert File.objects.get(pk=file.pk).status == "completed"

    confirmed = page.post(f"/files/{file.pk}/delete", {"next": "/files?category=general", "confirmed": "1"})
    assert confirmed["Location"] == "/files?category=general"
    assert File.objects.get(pk=file.pk).status == "deleted"
    # The emails keep their record of it.
    assert Attachment.objects.filter(file=file).count() == 3


def test_the_delete_page_counts_mail_waiting_to_be_sent_apart_from_sent_mail(user: Any) -> None:
    file = make(user, "contract.pdf")
    attach(file, make_message(user))
    attach(file, make_message(user, status="scheduled", recipient_status="queued"))
    html = signed_in(user).get(f"/files/{file.pk}/delete").content.decode()
    assert "1 sent email and to 1 email waiting to be sent." in html


def test_an_unused_file_is_deleted_at_once_and_its_page_only_asks(user: Any) -> None:
    file = make(user, "notes.pdf")
    page = signed_in(user)
    html = page.get(f"/files/{file.pk}/delete").content.decode()
    assert "Delete notes.pdf?" in html and "attached to" not in html
    assert page.post(f"/files/{file.pk}/delete").status_code == 302
    assert File.objects.get(pk=file.pk).status == "deleted"


def test_someone_elses_file_gets_no_delete_page(user: Any, other_user: Any) -> None:
    theirs = make(other_user, "theirs.pdf", is_public=True)
    attach(theirs, make_message(other_user))
    page = signed_in(user)
    assert page.get(f"/files/{theirs.pk}/delete").status_code == 404
    refused = page.post(f"/files/{theirs.pk}/delete", follow=True)
    assert "Only the file&#x27;s owner can delete it." in refused.content.decode()
    assert File.objects.get(pk=theirs.pk).status == "completed"


# --- The hook itself -------------------------------------------------------------------------


def test_the_usage_hook_sums_every_registered_counter_and_replaces_one_registered_again(
    monkeypatch: Any,
) -> None:
    monkeypatch.setattr(usage, "_counters", {})
    one, two = uuid.uuid4(), uuid.uuid4()
    assert file_usage(file_ids=[one, two]) == {}  # nothing registered: nothing is in use

    file_usage_register(name="emails", counter=lambda ids: {one: FileUsage(sent=2)})
    file_usage_register(name="crm", counter=lambda ids: {one: FileUsage(waiting=1), two: FileUsage(sent=1)})
    assert file_usage(file_ids=[one, two]) == {one: FileUsage(sent=2, waiting=1), two: FileUsage(sent=1)}

    file_usage_register(name="emails", counter=lambda ids: {})
    assert file_usage(file_ids=[one, two]) == {one: FileUsage(waiting=1), two: FileUsage(sent=1)}
    assert file_usage(file_ids=[]) == {}


def test_the_emails_app_registers_its_attachment_counter(user: Any) -> None:
    file = make(user, "contract.pdf")
    attach(file, make_message(user))
    attach(file, make_message(user, status="failed", recipient_status="failed"))  # went to no one
    assert file_usage(file_ids=[file.pk]) == {file.pk: FileUsage(sent=1, waiting=0)}
