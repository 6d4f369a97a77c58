"""The rules of a send live in the service: every problem at once, whoever calls, and nothing stored."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client

from core.errors import ValidationFailed
from emails.accepting import EmailDraft, email_queue
from emails.models import Message, Recipient
from files.models import File
from tests.emails.test_pages import field_errors

BASE = {"to": "a@example.com", "subject": "Hi", "textContent": "x", "category": "notification"}


def _details(response: Any) -> list[tuple[list[Any], str]]:
    body = response.json()
    assert body["success"] is False and body["error"] == "Invalid request data", body
    return [(d["path"], d["message"]) for d in body["details"]]


def _nothing_stored(ses: Any) -> None:
    assert Message.objects.count() == 0
    assert Recipient.objects.count() == 0
    assert ses.sent_messages == []


def test_the_api_reports_every_field_error_at_once(post_email: Any, ses: Any) -> None:
    response = post_email({"to": "nope", "subject": "", "category": "spam", "textContent": "x"})

    assert response.status_code == 400
    paths = [path for path, _ in _details(response)]
    assert ["to"] in paths and ["subject"] in paths and ["category"] in paths
    _nothing_stored(ses)


def test_shape_errors_and_rule_errors_come_together(post_email: Any, ses: Any) -> None:
    """A value that does not even parse (a number for `to`) hides none of the rules' findings."""
    response = post_email({"to": 42, "subject": "s" * 201, "textContent": "", "category": "notification"})

    details = _details(response)
    assert (["to"], "Must be an email address or a list of email addresses.") in details
    assert (["subject"], "Ensure this field has no more than 200 characters.") in details
    assert (["content"], "Either htmlContent or textContent (or a templateId) must be provided.") in details
    _nothing_stored(ses)


def test_the_composer_shows_every_error_at_once_in_words_for_people(
    client: Client, user: Any, ses: Any, django_capture_on_commit_callbacks: Any
) -> None:
    client.force_login(user)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/", {"to": "nope", "subject": "", "category": "spam", "priority": "normal"})

    page = response.content.decode()
    assert field_errors(page, "to") == ["Enter a valid email address: 'nope'."]
    assert field_errors(page, "subject") == ["This field is required."]
    assert field_errors(page, "category") == ['"spam" is not a valid choice.']
    assert field_errors(page, "content") == ["Write an HTML body or a text body, or choose a template."]
    # The summary above the form links every one of them, and takes the focus.
    assert 'id="error-summary" tabindex="-1"' in page
    for anchor in ("#id_to", "#id_subject", "#id_category", "#field-content"):
        assert f'href="{anchor}"' in page
    # Each invalid field points at its error list (and its help), ids that exist on the page.
    assert 'aria-describedby="id_to_errors id_to_helptext"' in page
    assert 'id="id_to_errors"' in page and 'id="id_to_helptext"' in page
    for api_word in ("htmlContent", "textContent", "templateId"):
        assert api_word not in " ".join(field_errors(page, "content"))
    _nothing_stored(ses)


def test_the_service_refuses_an_over_limit_send_whoever_calls_it(user: Any, ses: Any) -> None:
    draft = EmailDraft(
        to=[f"t{i}@example.com" for i in range(51)],
        cc=", ".join(f"c{i}@example.com" for i in range(50)),
        subject="Hi",
        text="x",
        category="notification",
    )

    with pytest.raises(ValidationFailed) as refused:
        email_queue(owner=user, draft=draft)

    found = {(e.path, e.message) for e in refused.value.errors}
    assert (("to",), "At most 50 addresses.") in found
    assert (("recipients",), "Total recipients cannot exceed 100.") in found
    _nothing_stored(ses)


def test_the_service_checks_stored_files_belong_to_the_sender(user: Any, other_user: Any, ses: Any) -> None:
    theirs = File.objects.create(
        key="attachment/2/x-theirs.pdf", file_name="theirs.pdf", original_name="theirs.pdf",
        content_type="application/pdf", size=10, max_size=10, category="document", status="completed",
        owner=other_user,
    )  # fmt: skip
    from emails.accepting import StoredAttachment

    draft = EmailDraft(to="a@example.com", subject="Hi", text="x", category="notification",
                       stored_attachments=[StoredAttachment(file_id=theirs.pk)])  # fmt: skip

    with pytest.raises(ValidationFailed) as refused:
        email_queue(owner=user, draft=draft)

    assert [(e.path, e.message) for e in refused.value.errors] == [
        (("s3Attachments", 0, "fileId"), "No such completed file among yours or the public ones.")
    ]
    _nothing_stored(ses)


def test_an_address_with_two_angle_addresses_is_one_malformed_address(post_email: Any, ses: Any) -> None:
    """D11: it was read as two recipients, one of them injected."""
    response = post_email({**BASE, "to": "Bob <injected@evil.example> <rcpt@example.com>"})

    assert response.status_code == 400
    assert _details(response) == [
        (["to"], "Enter a valid email address: 'Bob <injected@evil.example> <rcpt@example.com>'.")
    ]
    _nothing_stored(ses)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (
            '"Doe, Jane" <jane@example.com>, bob@example.com',
            [("jane@example.com", "Doe, Jane"), ("bob@example.com", "")],
        ),
        ("jane@example.com; Bob <BOB@Example.com>", [("jane@example.com", ""), ("bob@example.com", "Bob")]),
        ("  <jane@example.com> , ", [("jane@example.com", "")]),
    ],
)
def test_a_typed_list_of_addresses_is_read_as_people_type_it(
    value: str, expected: list[tuple[str, str]], post_email: Any, ses: Any
) -> None:
    response = post_email({**BASE, "to": value})
    assert response.status_code == 201, response.content
    assert list(Recipient.objects.values_list("address", "display_name")) == expected


@pytest.mark.parametrize(
    ("change", "path"),
    [
        ({"tags": {"\ud800": "v"}}, ["tags"]),
        ({"tags": {"k": "\ud800"}}, ["tags", "k"]),
        ({"customData": {"note": "\ud800"}}, ["customData", "note"]),
        ({"customData": {"deep": {"\u0000key": 1}}}, ["customData", "deep", "\\x00key"]),
        ({"templateData": {"name": "a\u0000b"}}, ["templateData", "name"]),
        ({"subject": "Hi \u0000"}, ["subject"]),
        ({"textContent": "x\ud83d"}, ["textContent"]),
        ({"to": "Bad\ud800 Name <a@example.com>"}, ["to"]),
    ],
)
def test_nul_and_lone_surrogates_are_refused_on_their_field(
    change: dict[str, Any], path: list[Any], post_email: Any, ses: Any, api: Any
) -> None:
    """D3: stored, they made every later read of the log a 500 (SQLite), or the send a 500 (PostgreSQL)."""
    body = json.dumps({**BASE, **change})  # the escapes travel as JSON spells them

    response = api.post("/api/email", body, content_type="application/json")

    assert response.status_code == 400, response.content
    assert path in [p for p, _ in _details(response)]
    _nothing_stored(ses)
    assert api.get("/api/email").status_code == 200


@pytest.mark.parametrize(
    ("change", "path", "fragment"),
    [
        ({"customData": {"blob": "x" * 40_000}}, ["customData"], "At most 32,768 bytes"),
        (
            {"templateData": {"a": {"b": {"c": {"d": {"e": {"f": {"g": {"h": {"i": 1}}}}}}}}}},
            ["templateData"],
            "Nested too deeply",
        ),
        ({"tags": {f"t{i}": "v" for i in range(51)}}, ["tags"], "At most 50 tags"),
        ({"tags": {"t": "v" * 257}}, ["tags", "t"], "no more than 256"),
    ],
)
def test_free_form_data_is_capped_in_size_and_depth(
    change: dict[str, Any], path: list[Any], fragment: str, post_email: Any, ses: Any
) -> None:
    response = post_email({**BASE, **change})
    assert response.status_code == 400
    found = _details(response)
    assert any(p[: len(path)] == path and fragment in m for p, m in found), found
    _nothing_stored(ses)
