"""Templates in the Django admin: saved through the templating wing (syntax checked, versions kept), system kept."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from emails.models import Template, TemplateVersion

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client_(client: Client, admin_user: Any) -> Client:
    client.force_login(admin_user)
    return client


def fields(**overrides: str) -> dict[str, str]:
    return {"slug": "invoice", "name": "Invoice", "category": "notification", "subject": "Invoice {{ number }}",
            "html": "<p>{{ number }}</p>", "text": "", "versions-TOTAL_FORMS": "0", "versions-INITIAL_FORMS": "0",
            **overrides}  # fmt: skip


def test_a_syntax_error_is_shown_on_its_field_and_nothing_is_saved(admin_client_: Client) -> None:
    response = admin_client_.post("/admin/emails/template/add/", fields(html="<p>{% if x %}</p>"))
    assert response.status_code == 200
    assert "Template syntax error" in response.content.decode()
    assert not Template.objects.filter(slug="invoice").exists()


def test_a_save_in_the_admin_keeps_a_version_and_finds_the_variables(admin_client_: Client) -> None:
    assert admin_client_.post("/admin/emails/template/add/", fields()).status_code == 302
    template = Template.objects.get(slug="invoice")
    assert template.version == 1 and template.variables == [{"name": "number", "required": True}]
    response = admin_client_.post(f"/admin/emails/template/{template.pk}/change/", fields(subject="Bill {{ number }}"))
    assert response.status_code == 302
    template.refresh_from_db()
    assert template.version == 2 and template.subject == "Bill {{ number }}"
    assert TemplateVersion.objects.filter(template=template).count() == 2


def test_a_system_template_cannot_be_deleted_in_the_admin(admin_client_: Client) -> None:
    welcome = Template.objects.get(slug="welcome")
    assert admin_client_.post(f"/admin/emails/template/{welcome.pk}/delete/", {"post": "yes"}).status_code == 403
    response = admin_client_.post(
        "/admin/emails/template/", {"action": "delete_selected", "_selected_action": [str(welcome.pk)], "post": "yes"}
    )
    assert response.status_code == 403  # the bulk delete, too, refuses a selection holding a system template
    assert Template.objects.filter(slug="welcome").exists()
