"""The bulk pages: pasted recipients with mapped columns, a preview that stores nothing, sending, following, and
pause / resume / cancel from the page."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from emails.models import Bulk, Message

pytestmark = pytest.mark.django_db

PASTED = "E-mail,Full name,number\nann@example.com,Ann,1\nnope,Bad,2\nbob@example.com,<b>Bob</b>,<script>x</script>\n"


def form(**overrides: str) -> dict[str, str]:
    return {"name": "Renewals", "pasted": PASTED, "emailColumn": "E-mail", "nameColumn": "Full name",
            "subject": "Renewal {{ number }}", "htmlContent": "<p>Dear {{ name }}</p>", "category": "notification",
            "priority": "low", "action": "send", **overrides}  # fmt: skip


def test_a_preview_shows_the_first_messages_escaped_and_stores_nothing(signed_in: Client) -> None:
    page = signed_in.post(reverse("emails:bulk"), form(action="preview")).content.decode()
    assert 'id="bulk-preview"' in page
    assert "Renewal 1" in page and "Renewal &lt;script&gt;x&lt;/script&gt;" in page
    assert "Skipped: Enter a valid email address: &#x27;nope&#x27;." in page
    assert "&amp;lt;b&amp;gt;Bob" in page  # escaped in the message, and again in the srcdoc attribute
    assert "<script>x" not in page and "<b>Bob" not in page
    assert not Bulk.objects.exists() and not Message.objects.exists()


def test_sending_from_the_page_maps_the_columns_and_follows_the_bulk(
    signed_in: Client, ses: Any, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        response = signed_in.post(reverse("emails:bulk"), form())
    bulk = Bulk.objects.get()
    assert response["Location"] == reverse("emails:bulk-detail", args=[bulk.pk])
    assert (bulk.accepted, bulk.total, len(bulk.skipped)) == (2, 3, 1)
    ann = Message.objects.get(bulk=bulk, bulk_index=0)
    assert ann.recipients.get().display_name == "Ann" and ann.subject == "Renewal 1"
    page = signed_in.get(response["Location"]).content.decode()
    assert "2 of 3 recipients accepted; 1 skipped" in page
    assert 'id="bulk-progress" max="100" value="100"' in page and "Done" in page
    assert reverse("api:bulk-report", args=[bulk.pk]) in page
    assert "Enter a valid email address" in page  # the skipped rows, listed
    listing = signed_in.get(reverse("emails:bulk")).content.decode()
    assert "Renewals" in listing


def test_errors_of_the_whole_are_shown_and_nothing_is_stored(signed_in: Client) -> None:
    page = signed_in.post(reverse("emails:bulk"), form(pasted="", category="", name="")).content.decode()
    assert 'id="error-summary"' in page
    assert 'id="id_pasted_errors"' in page and 'id="id_category_errors"' in page and 'id="id_name_errors"' in page
    bad_column = signed_in.post(reverse("emails:bulk"), form(emailColumn="Mail")).content.decode()
    assert "no column" in bad_column
    assert not Bulk.objects.exists()


def test_pause_resume_and_cancel_from_the_page(signed_in: Client, other_user: Any) -> None:
    signed_in.post(reverse("emails:bulk"), form())  # queued: no worker ran
    bulk = Bulk.objects.get()
    page = signed_in.get(reverse("emails:bulk-detail", args=[bulk.pk])).content.decode()
    assert reverse("emails:bulk-change", args=[bulk.pk, "pause"]) in page
    assert reverse("emails:bulk-live", args=[bulk.pk]) in page  # it polls while it runs
    signed_in.post(reverse("emails:bulk-change", args=[bulk.pk, "pause"]))
    paused = signed_in.get(reverse("emails:bulk-detail", args=[bulk.pk])).content.decode()
    assert reverse("emails:bulk-change", args=[bulk.pk, "resume"]) in paused
    signed_in.post(reverse("emails:bulk-change", args=[bulk.pk, "resume"]))
    signed_in.post(reverse("emails:bulk-change", args=[bulk.pk, "cancel"]))
    assert set(Message.objects.values_list("status", flat=True)) == {"cancelled"}
    again = signed_in.post(reverse("emails:bulk-change", args=[bulk.pk, "cancel"]), follow=True).content.decode()
    assert "already cancelled" in again
    other = Client()
    other.force_login(other_user)
    assert other.get(reverse("emails:bulk-detail", args=[bulk.pk])).status_code == 404
    assert other.post(reverse("emails:bulk-change", args=[bulk.pk, "pause"])).status_code == 404
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(bulk.owner)
    assert strict.post(reverse("emails:bulk-change", args=[bulk.pk, "resume"])).status_code == 403
