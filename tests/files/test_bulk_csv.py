"""A bulk's recipients from one of our stored CSV files, on disk and on S3: columns, streaming, refusals."""

from __future__ import annotations

from typing import Any

import pytest

from emails.models import Bulk, Message
from emails.templating import message_bodies
from tests.files.conftest import Storage
from tests.files.test_access import client_for, stored

CSV = (
    "email,name,clientId,number,amount\r\n"
    "ann@example.com,Ann Árvíz,c-1,7,€12\r\n"
    "not-an-address,Bad,c-2,8,1\r\n"
    'bob@example.com,Bob,c-3,9,"1,50"\r\n'
).encode()


def bulk(api: Any, file_id: Any, django_capture_on_commit_callbacks: Any, **overrides: Any) -> Any:
    body = {"name": "From a file", "subject": "Invoice {{ number }}", "textContent": "Hi {{ name }}: {{ amount }}",
            "category": "notification", "recipientsFileId": str(file_id), **overrides}  # fmt: skip
    with django_capture_on_commit_callbacks(execute=False):
        return api.post("/api/email/bulk", body, format="json")


def test_a_csv_file_becomes_one_message_per_row(api: Any, storage: Storage,
                                                 django_capture_on_commit_callbacks: Any) -> None:  # fmt: skip
    file = stored(api, CSV, fileName="people.csv", contentType="text/csv", category="document")
    response = bulk(api, file.pk, django_capture_on_commit_callbacks)
    assert response.status_code == 202, response.json()
    data = response.json()["data"]
    assert (data["total"], data["accepted"]) == (3, 2)
    assert data["skipped"][0]["index"] == 1 and data["skipped"][0]["to"] == "not-an-address"
    ann, bob = Message.objects.order_by("bulk_index")
    assert (ann.subject, ann.client_id, message_bodies(ann)[1]) == ("Invoice 7", "c-1", "Hi Ann Árvíz: €12")
    assert ann.recipients.get().display_name == "Ann Árvíz"
    assert ann.template_data == {"name": "Ann Árvíz", "number": "7", "amount": "€12"}  # every other column
    assert message_bodies(bob)[1] == "Hi Bob: 1,50"


def test_a_file_that_is_not_a_recipients_csv_is_refused_whole(
    api: Any, storage: Storage, django_capture_on_commit_callbacks: Any
) -> None:
    pdf = stored(api, fileName="report.pdf")
    no_email = stored(api, b"name,number\r\nAnn,1\r\n", fileName="x.csv", contentType="text/csv", category="document")
    for file_id, words in ((pdf.pk, "A CSV file is needed"), (no_email.pk, "`email`"),
                           ("00000000-0000-0000-0000-000000000000", "No such completed file")):  # fmt: skip
        response = bulk(api, file_id, django_capture_on_commit_callbacks)
        assert response.status_code == 400
        assert words in {tuple(d["path"]): d["message"] for d in response.json()["details"]}[("recipientsFileId",)]
    both = bulk(api, no_email.pk, django_capture_on_commit_callbacks, recipients=[{"to": "a@example.com"}])
    assert both.status_code == 400
    assert not Bulk.objects.exists() and not Message.objects.exists()


def test_another_users_csv_cannot_be_named(api: Any, storage: Storage, other_user: Any,
                                           django_capture_on_commit_callbacks: Any) -> None:  # fmt: skip
    theirs = stored(client_for(other_user), CSV, fileName="theirs.csv", contentType="text/csv", category="document")
    response = bulk(api, theirs.pk, django_capture_on_commit_callbacks)
    assert response.status_code == 400 and not Message.objects.exists()


@pytest.fixture(autouse=True)
def _no_send(settings: Any) -> None:
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
