"""Templates: the API and its rules (syntax, variables, versions, system templates, permissions), and sends by one."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import Permission
from rest_framework.test import APIClient

from emails.models import Message, Recipient, Template, TemplateVersion
from emails.templating import source_variables
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

PERMISSIONS = ("view_template", "add_template", "change_template", "delete_template")


def client_with(*codenames: str) -> APIClient:
    member = UserFactory()
    member.user_permissions.add(*Permission.objects.filter(codename__in=codenames, content_type__app_label="emails"))
    client = APIClient()
    client.force_authenticate(member)
    return client


@pytest.fixture
def editor() -> APIClient:
    return client_with(*PERMISSIONS)


def invoice(**overrides: Any) -> dict[str, Any]:
    return {
        "slug": "invoice",
        "name": "Invoice",
        "subject": "Invoice {{ number }}",
        "html": "<p>Hello {{ name|default:'there' }},</p>\n<p>Invoice {{ number }} is due.</p>"
        "{% if note %}<p>{{ note }}</p>{% endif %}",
        "text": "Invoice {{ number }} is due.",
        "category": "notification",
        **overrides,
    }


def details(response: Any) -> dict[tuple[Any, ...], str]:
    return {tuple(d["path"]): d["message"] for d in response.json()["details"]}


def test_create_detects_variables_and_keeps_version_one(editor: APIClient) -> None:
    response = editor.post("/api/email/templates", invoice(), format="json")
    assert response.status_code == 201, response.json()
    data = response.json()["data"]
    assert data["slug"] == "invoice" and data["version"] == 1 and data["isSystem"] is False
    assert data["variables"] == [
        {"name": "number", "required": True},
        {"name": "name", "required": False},
        {"name": "note", "required": False},
    ]
    assert data["updatedBy"] and data["updatedAt"]
    assert set(data) >= {"id", "slug", "name", "subject", "html", "text", "category", "variables", "version",
                         "isSystem", "updatedAt", "updatedBy"}  # fmt: skip
    assert TemplateVersion.objects.filter(template__slug="invoice", number=1).exists()


def test_the_variable_rules() -> None:
    found = source_variables(
        subject="{{ a }}",
        html="{% if b %}{{ c }}{% endif %}{{ d|default:'x' }}{% for item in items %}{{ item.name }}{% endfor %}"
        "{% with total=amount %}{{ total }}{% endwith %}{{ product_name }}{{ e|default_if_none:'' }}{{ a }}",
        text="{{ f|upper }}",
    )
    assert [(v.name, v.required) for v in found] == [
        ("a", True), ("b", False), ("c", False), ("d", False), ("items", True), ("amount", True), ("e", False),
        ("f", True),
    ]  # fmt: skip


def test_a_variable_used_both_optionally_and_plainly_is_required() -> None:
    found = source_variables(subject="", html="{% if x %}{{ x }}{% endif %}", text="{{ x }}")
    assert [(v.name, v.required) for v in found] == [("x", True)]


def test_a_syntax_error_is_refused_on_its_field_with_its_line_and_nothing_is_saved(editor: APIClient) -> None:
    response = editor.post(
        "/api/email/templates",
        invoice(html="<p>one</p>\n<p>{% if x %}two</p>", subject="{{ a|nosuchfilter }}", category="nope"),
        format="json",
    )
    assert response.status_code == 400
    problems = details(response)
    assert "line 2" in problems[("html",)].lower() and "if" in problems[("html",)]
    assert "nosuchfilter" in problems[("subject",)]
    assert ("category",) in problems  # every error at once
    assert not Template.objects.filter(slug="invoice").exists()


def test_every_missing_field_is_named_at_once(editor: APIClient) -> None:
    response = editor.post("/api/email/templates", {}, format="json")
    assert response.status_code == 400
    assert set(details(response)) == {("slug",), ("name",), ("subject",), ("html",), ("category",)}


def test_a_bad_or_taken_slug_is_refused(editor: APIClient) -> None:
    assert details(editor.post("/api/email/templates", invoice(slug="Not a slug"), format="json"))[("slug",)]
    assert (
        "already exists"
        in details(editor.post("/api/email/templates", invoice(slug="welcome"), format="json"))[("slug",)]
    )


def test_edits_keep_versions_and_mail_already_accepted_is_unchanged(
    editor: APIClient, post_email: Any, api: APIClient
) -> None:
    editor.post("/api/email/templates", invoice(), format="json")
    post_email({"to": "a@example.com", "templateId": "invoice", "templateData": {"number": "7"},
                "category": "notification"})  # fmt: skip
    first = Message.objects.get()
    assert first.template_version == 1 and first.subject == "Invoice 7"

    response = editor.patch("/api/email/templates/invoice", {"subject": "Bill {{ number }}"}, format="json")
    assert response.status_code == 200 and response.json()["data"]["version"] == 2
    first.refresh_from_db()
    assert first.subject == "Invoice 7"  # accepted mail keeps what it was rendered from

    post_email({"to": "b@example.com", "templateId": "invoice", "templateData": {"number": "8"},
                "category": "notification"})  # fmt: skip
    second = Message.objects.exclude(pk=first.pk).get()
    assert second.subject == "Bill 8" and second.template_version == 2

    versions = editor.get("/api/email/templates/invoice/versions").json()["data"]["versions"]
    assert [(v["version"], v["subject"], v["note"]) for v in versions] == [
        (2, "Bill {{ number }}", "Edited"),
        (1, "Invoice {{ number }}", "Created"),
    ]
    restored = editor.post("/api/email/templates/invoice/restore", {"version": 1}, format="json")
    assert restored.status_code == 200
    assert restored.json()["data"]["version"] == 3 and restored.json()["data"]["subject"] == "Invoice {{ number }}"
    assert TemplateVersion.objects.get(template__slug="invoice", number=3).note == "Restored version 1"
    assert editor.post("/api/email/templates/invoice/restore", {"version": 99}, format="json").status_code == 404
    assert editor.post("/api/email/templates/invoice/restore", {}, format="json").status_code == 400


def test_put_needs_every_field_and_the_slug_stays(editor: APIClient) -> None:
    editor.post("/api/email/templates", invoice(), format="json")
    assert set(details(editor.put("/api/email/templates/invoice", {"name": "X"}, format="json"))) == {
        ("subject",), ("html",), ("category",)
    }  # fmt: skip
    moved = editor.put("/api/email/templates/invoice", invoice(slug="bill"), format="json")
    assert "cannot change" in details(moved)[("slug",)]
    assert editor.put("/api/email/templates/invoice", invoice(name="Invoice v2"), format="json").status_code == 200
    assert Template.objects.get(slug="invoice").version == 2


def test_a_system_template_can_be_edited_but_not_deleted(editor: APIClient) -> None:
    response = editor.patch("/api/email/templates/welcome", {"name": "Welcome aboard"}, format="json")
    assert response.status_code == 200 and response.json()["data"]["version"] == 2
    refused = editor.delete("/api/email/templates/welcome")
    assert refused.status_code == 409 and "system template" in refused.json()["error"]
    assert Template.objects.filter(slug="welcome").exists()

    editor.post("/api/email/templates", invoice(), format="json")
    deleted = editor.delete("/api/email/templates/invoice")
    assert deleted.status_code == 200 and deleted.json()["data"] == {"slug": "invoice", "deleted": True}
    assert not Template.objects.filter(slug="invoice").exists()
    assert editor.get("/api/email/templates/invoice").status_code == 404


def test_the_seed_templates_name_the_product_and_know_their_variables() -> None:
    welcome = Template.objects.get(slug="welcome")
    assert "Digi Era Pro" not in welcome.subject + welcome.html + welcome.text
    assert {"name": "name", "required": True} in welcome.variables
    assert {"name": "productName", "required": False} in welcome.variables
    reset = Template.objects.get(slug="password-reset")
    assert [v["name"] for v in reset.variables if v["required"]] == ["name", "resetUrl"]
    assert reset.versions.count() == 1


def test_a_send_missing_a_required_variable_is_refused_and_nothing_is_stored(post_email: Any) -> None:
    response = post_email({"to": "a@example.com", "templateId": "password-reset", "templateData": {"name": " "},
                           "category": "auth"})  # fmt: skip
    assert response.status_code == 400
    problems = details(response)
    assert set(problems) == {("templateData", "name"), ("templateData", "resetUrl")}
    assert "resetUrl" in problems[("templateData", "resetUrl")]
    assert not Message.objects.exists() and not Recipient.objects.exists()


def test_preview_renders_escaped_and_sanitised(editor: APIClient) -> None:
    editor.post("/api/email/templates", invoice(html="<p>{{ number }}</p><img src=x onerror=alert(1)>"), format="json")
    response = editor.post(
        "/api/email/templates/invoice/preview", {"templateData": {"number": "<script>alert(1)</script>"}}, format="json"
    )
    assert response.status_code == 200
    data = response.json()["data"]
    assert data["subject"] == "Invoice <script>alert(1)</script>"  # a subject is text, not HTML
    assert "&lt;script&gt;" in data["html"] and "<script" not in data["html"]
    assert "onerror" not in data["html"]
    assert data["text"] == "Invoice <script>alert(1)</script> is due."
    bad = editor.post("/api/email/templates/invoice/preview", {"templateData": "nope"}, format="json")
    assert bad.status_code == 400 and ("templateData",) in details(bad)


def test_a_test_send_goes_to_the_callers_own_address(
    editor: APIClient, django_capture_on_commit_callbacks: Any
) -> None:
    editor.post("/api/email/templates", invoice(), format="json")
    with django_capture_on_commit_callbacks(execute=True):
        response = editor.post("/api/email/templates/invoice/test", {"templateData": {"number": "1"}}, format="json")
    assert response.status_code == 201, response.json()
    message = Message.objects.get(pk=response.json()["data"]["messageId"])
    member = message.owner
    assert [r.address for r in message.recipients.all()] == [member.email]
    assert message.subject == "[Test] Invoice 1"
    missing = editor.post("/api/email/templates/invoice/test", {"templateData": {}}, format="json")
    assert missing.status_code == 400 and ("templateData", "number") in details(missing)


@pytest.mark.parametrize(
    ("codenames", "allowed"),
    [
        ((), set()),
        (("view_template",), {"list", "retrieve", "preview", "versions"}),
        (("view_template", "add_template"), {"list", "retrieve", "preview", "versions", "create"}),
        (("view_template", "change_template"), {"list", "retrieve", "preview", "versions", "patch", "restore"}),
        (("view_template", "delete_template"), {"list", "retrieve", "preview", "versions", "delete"}),
    ],
)
def test_permissions_are_the_django_model_permissions(codenames: tuple[str, ...], allowed: set[str]) -> None:
    Template.objects.create(slug="spare", name="Spare", subject="s", text="t", category="notification")
    client = client_with(*codenames)
    calls = {
        "list": lambda: client.get("/api/email/templates"),
        "retrieve": lambda: client.get("/api/email/templates/welcome"),
        "preview": lambda: client.post("/api/email/templates/welcome/preview", {}, format="json"),
        "versions": lambda: client.get("/api/email/templates/welcome/versions"),
        "create": lambda: client.post("/api/email/templates", invoice(), format="json"),
        "patch": lambda: client.patch("/api/email/templates/welcome", {"name": "W"}, format="json"),
        "restore": lambda: client.post("/api/email/templates/welcome/restore", {"version": 1}, format="json"),
        "delete": lambda: client.delete("/api/email/templates/spare"),
    }
    for name, call in calls.items():
        status = call().status_code
        assert (status < 400) == (name in allowed), (name, status)
        if name not in allowed:
            assert status == 403, (name, status)
    assert APIClient().get("/api/email/templates").status_code == 401
