"""The template pages: the list, the editor (save, versions, restore, test send, delete) and its live preview."""

from __future__ import annotations

import html
import json
import re
from typing import Any

import pytest
from django.contrib.auth.models import Permission
from django.test import Client

from emails.models import Message, Template, TemplateVersion
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

PERMISSIONS = ("view_template", "add_template", "change_template", "delete_template")
PREVIEW = "/templates/-/preview"


def client_with(*codenames: str, client: Client | None = None) -> Client:
    member = UserFactory()
    member.user_permissions.add(*Permission.objects.filter(codename__in=codenames, content_type__app_label="emails"))
    client = client or Client()
    client.force_login(member)
    return client


@pytest.fixture
def editor() -> Client:
    return client_with(*PERMISSIONS)


def invoice(**overrides: str) -> dict[str, str]:
    return {
        "slug": "invoice",
        "name": "Invoice",
        "category": "notification",
        "subject": "Invoice {{ number }}",
        # As a browser posts a textarea: CRLF line breaks.
        "html": "<p>Hello {{ name|default:'there' }},</p>\r\n<p>Invoice {{ number }} is due.</p>",
        "text": "Invoice {{ number }} is due.",
        "sampleData": "{}",
        **overrides,
    }


def listed(page: str, list_id: str) -> list[str]:
    """The items of the error list `list_id` (a field's `id_<name>_errors` or live `id_<name>_live`)."""
    match = re.search(rf'<ul class="field-errors" id="{list_id}"[^>]*>(.*?)</ul>', page, re.S)
    if not match:
        return []
    return [html.unescape(item) for item in re.findall(r"<li>(.*?)</li>", match.group(1), re.S)]


def flashes(response: Any) -> list[str]:
    return [str(m) for m in response.context["messages"]]


def described_ids_exist(page: str) -> None:
    for value in re.findall(r'aria-describedby="([^"]*)"', page):
        for element_id in value.split():
            assert f'id="{element_id}"' in page, f"aria-describedby names #{element_id}, which the page lacks"


# --- The list ---------------------------------------------------------------


def test_the_list_needs_view_template(client: Client, django_assert_max_num_queries: Any) -> None:
    response = client.get("/templates")
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")
    assert client_with().get("/templates").status_code == 403

    viewer = client_with("view_template")
    with django_assert_max_num_queries(6):
        page = viewer.get("/templates")
    assert page.status_code == 200
    text = page.content.decode()
    for slug in ("welcome", "password-reset", "notification"):
        assert f'href="/templates/{slug}"' in text
    assert "badge-system" in text and "v1" in text
    assert 'id="new-template"' not in text
    assert 'id="new-template"' in client_with("view_template", "add_template").get("/templates").content.decode()


def test_the_list_has_an_empty_state() -> None:
    Template.objects.all().delete()
    page = client_with("view_template", "add_template").get("/templates").content.decode()
    assert 'id="templates-empty"' in page and "No templates yet" in page
    assert 'href="/templates/new"' in page


# --- Saving -------------------------------------------------------------------


def test_a_template_created_through_the_page_is_saved_as_version_one(editor: Client) -> None:
    response = editor.post("/templates/new", invoice())
    assert response.status_code == 302 and response["Location"] == "/templates/invoice"
    template = Template.objects.get(slug="invoice")
    assert template.version == 1 and template.name == "Invoice"
    assert "\r" not in template.html  # the browser's CRLF is not kept
    assert [v["name"] for v in template.variables] == ["number", "name"]
    assert TemplateVersion.objects.filter(template=template, number=1, note="Created").exists()

    page = editor.get(response["Location"])
    assert "Template \u201cInvoice\u201d created (version 1)." in flashes(page)
    text = page.content.decode()
    # The sample data starts as each variable's placeholder; the variables panel tells required from optional.
    assert json.loads(page.context["form"]["sampleData"].value()) == {"number": "[number]", "name": "[name]"}
    assert '<code>number</code> <span class="badge badge-required">required</span>' in text
    assert '<code>name</code> <span class="badge badge-optional">optional</span>' in text


def test_a_syntax_error_is_shown_inline_with_its_line_and_nothing_is_saved(editor: Client) -> None:
    response = editor.post("/templates/new", invoice(html="<p>Hi</p>\r\n{% if paid %}<p>Thanks</p>", name=""))
    assert response.status_code == 400
    assert not Template.objects.filter(slug="invoice").exists()
    page = response.content.decode()
    [syntax] = listed(page, "id_html_live")
    assert "Line 2" in syntax and "Unclosed tag" in syntax
    assert listed(page, "id_name_errors") == ["This field is required."]
    # Every error in the summary, linked to its field, and the field says which elements describe it.
    assert 'href="#id_html">HTML body: Template syntax error: Line 2' in page
    assert re.search(r'<textarea[^>]*aria-describedby="id_html_live id_html_helptext"[^>]*aria-invalid="true"', page)
    described_ids_exist(page)


def test_an_edit_saves_version_two_and_the_slug_stays(editor: Client, django_assert_max_num_queries: Any) -> None:
    editor.post("/templates/new", invoice())
    response = editor.post("/templates/invoice", invoice(slug="moved", name="Invoice due", subject="Due: {{ number }}"))
    assert response.status_code == 302 and response["Location"] == "/templates/invoice"
    template = Template.objects.get(slug="invoice")
    assert (template.version, template.name, template.subject) == (2, "Invoice due", "Due: {{ number }}")
    assert not Template.objects.filter(slug="moved").exists()
    with django_assert_max_num_queries(6):  # however many versions the history lists
        page = editor.get("/templates/invoice")
    assert "Saved as version 2." in flashes(page)
    text = page.content.decode()
    described_ids_exist(text)
    assert 'id="version-2"' in text and 'id="version-1"' in text
    assert text.index('id="version-2"') < text.index('id="version-1"')  # newest first


def test_restore_saves_an_old_version_as_the_newest(editor: Client) -> None:
    editor.post("/templates/new", invoice())
    editor.post("/templates/invoice", invoice(subject="Changed {{ number }}"))
    response = editor.post("/templates/invoice/restore", {"version": "1"}, follow=True)
    assert "Version 1 restored as version 3." in flashes(response)
    template = Template.objects.get(slug="invoice")
    assert template.version == 3 and template.subject == "Invoice {{ number }}"
    assert template.versions.get(number=3).note == "Restored version 1"
    assert editor.post("/templates/invoice/restore", {"version": "9"}).status_code == 404
    assert editor.post("/templates/invoice/restore", {"version": "x"}).status_code == 404


# --- The live preview -------------------------------------------------------------


def preview(client: Client, **fields: str) -> dict[str, Any]:
    response = client.post(PREVIEW, {"subject": "", "html": "", "text": "", "sampleData": "{}", **fields})
    assert response.status_code == 200
    return dict(response.json())


def test_the_preview_escapes_variables_and_sanitises_the_html() -> None:
    viewer = client_with("view_template")
    answer = preview(
        viewer,
        subject="Hi {{ name }}",
        html="<p>{{ name }}</p><img src=x onerror=alert(1)><script>alert(2)</script>{% if vip %}VIP{% endif %}",
        text="Hi {{ name }}",
        sampleData=json.dumps({"name": "<script>alert(1)</script>"}),
    )
    assert answer["errors"] == []
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in answer["html"]
    assert "<script" not in answer["html"] and "onerror" not in answer["html"]
    assert answer["subject"] == "Hi <script>alert(1)</script>"  # text, shown as text by the page
    assert answer["text"] == "Hi <script>alert(1)</script>"
    assert answer["variables"] == [{"name": "name", "required": True}, {"name": "vip", "required": False}]


def test_the_preview_puts_syntax_errors_on_their_fields() -> None:
    answer = preview(client_with("view_template"), subject="{{ a|nofilter }}", html="<p>\n{% for x in y %}", text="ok")
    assert answer["html"] is None and answer["subject"] is None
    errors = {e["field"]: e["message"] for e in answer["errors"]}
    assert set(errors) == {"subject", "html"}
    assert "Line 2" in errors["html"] and "Line 1" in errors["subject"]


@pytest.mark.parametrize(("raw", "words"), [("{nope", "Enter valid JSON"), ("[1, 2]", "Enter a JSON object")])
def test_bad_sample_data_is_an_error_on_its_field(raw: str, words: str) -> None:
    answer = preview(client_with("view_template"), html="<p>{{ name }}</p>", sampleData=raw)
    assert [e["field"] for e in answer["errors"]] == ["sampleData"]
    assert words in answer["errors"][0]["message"]
    assert answer["variables"] == [{"name": "name", "required": True}]


def test_the_preview_needs_view_template() -> None:
    assert client_with().post(PREVIEW, {"html": "x"}).status_code == 403
    assert Client().post(PREVIEW, {"html": "x"}).status_code == 403
    assert client_with("view_template").get(PREVIEW).status_code == 405


# --- Test send, delete, read-only -------------------------------------------------


def test_a_test_send_goes_to_ones_own_address(editor: Client) -> None:
    editor.post("/templates/new", invoice())
    viewer = client_with("view_template")
    response = viewer.post("/templates/invoice/test", invoice(sampleData='{"number": "42"}'))
    assert response.status_code == 200
    message = Message.objects.get()
    owner = response.context["user"]
    assert message.owner == owner and message.subject == "[Test] Invoice 42"
    assert [r.address for r in message.recipients.all()] == [owner.email]
    assert flashes(response) == [f"A test of version 1 is queued to {owner.email}."]

    refused = viewer.post("/templates/invoice/test", invoice(sampleData="{}"))
    assert refused.status_code == 400 and Message.objects.count() == 1
    assert flashes(refused) == [
        "The test was not sent. The sample data needs a value for \u201cnumber\u201d (required by the template)."
    ]
    bad_json = viewer.post("/templates/invoice/test", invoice(sampleData="{"))
    assert bad_json.status_code == 400 and Message.objects.count() == 1
    assert "Enter valid JSON" in listed(bad_json.content.decode(), "id_sampleData_live")[0]


def test_a_system_template_is_not_deleted(editor: Client) -> None:
    page = editor.get("/templates/welcome").content.decode()
    assert 'id="delete-confirm"' not in page and 'id="system-note"' in page
    response = editor.post("/templates/welcome/delete", follow=True)
    assert Template.objects.filter(slug="welcome").exists()
    assert any("system template" in message for message in flashes(response))

    editor.post("/templates/new", invoice())
    assert 'id="delete-confirm"' in editor.get("/templates/invoice").content.decode()
    deleted = editor.post("/templates/invoice/delete", follow=True)
    assert not Template.objects.filter(slug="invoice").exists()
    assert deleted.redirect_chain[-1][0] == "/templates"
    assert "Template \u201cInvoice\u201d deleted." in flashes(deleted)
    assert client_with("view_template", "change_template").post("/templates/welcome/delete").status_code == 403


def test_without_change_template_the_editor_is_read_only() -> None:
    viewer = client_with("view_template")
    page = viewer.get("/templates/welcome").content.decode()
    assert 'id="read-only-note"' in page and 'id="save-button"' not in page
    assert re.search(r'<textarea name="html"[^>]*readonly', page)
    assert re.search(r'<select name="category"[^>]*disabled', page)
    assert "Restore" not in page
    assert 'id="test-button"' in page  # viewing is enough to test
    assert viewer.post("/templates/welcome", invoice(slug="welcome")).status_code == 403
    assert viewer.post("/templates/welcome/restore", {"version": "1"}).status_code == 403
    assert viewer.get("/templates/new").status_code == 403
    assert Template.objects.get(slug="welcome").version == 1


def test_an_unknown_template_is_a_404(editor: Client) -> None:
    assert editor.get("/templates/nope").status_code == 404
    assert editor.post("/templates/nope/test", {}).status_code == 404


def test_every_post_needs_the_csrf_token() -> None:
    strict = client_with(*PERMISSIONS, client=Client(enforce_csrf_checks=True))
    Template.objects.create(slug="spare", name="Spare", subject="s", text="t", category="notification")
    posts = {
        "/templates/new": invoice(),
        "/templates/welcome": invoice(slug="welcome"),
        PREVIEW: {"html": "x"},
        "/templates/welcome/restore": {"version": "1"},
        "/templates/welcome/test": {"sampleData": "{}"},
        "/templates/spare/delete": {},
    }
    for url, data in posts.items():
        assert strict.post(url, data).status_code == 403, url
    assert Template.objects.filter(slug="spare").exists() and not Template.objects.filter(slug="invoice").exists()
    assert Template.objects.get(slug="welcome").version == 1 and not Message.objects.exists()
