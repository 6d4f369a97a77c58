"""Staff endpoints for suppressions and the reputation guard; the admin over them."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import Permission
from rest_framework.test import APIClient

from emails.models import Message, ReputationHold, Suppression
from emails.suppression import suppression_add


def _client(user: Any) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


@pytest.fixture
def suppression_staff(db: Any) -> Any:
    from tests.factories import UserFactory

    staff = UserFactory(is_staff=True)
    staff.user_permissions.add(
        *Permission.objects.filter(
            codename__in=[
                "view_suppression",
                "add_suppression",
                "change_suppression",
                "view_reputationhold",
                "change_reputationhold",
            ]
        )
    )
    return staff


def test_staff_list_add_and_lift_suppressions(suppression_staff: Any) -> None:
    client = _client(suppression_staff)
    suppression_add(address="bounced@example.com", reason="bounce")

    created = client.post(
        "/api/email/suppressions", {"address": "Manual@Example.com", "scope": "marketing"}, format="json"
    )
    listed = client.get("/api/email/suppressions?search=example.com").json()["data"]

    assert created.status_code == 201
    assert created.json()["data"]["address"] == "manual@example.com"
    assert created.json()["data"]["reason"] == "manual"
    assert {s["address"] for s in listed["suppressions"]} == {"bounced@example.com", "manual@example.com"}

    lifted = client.delete(f"/api/email/suppressions/{created.json()['data']['id']}")

    assert lifted.status_code == 200 and lifted.json()["data"]["liftedBy"] == suppression_staff.username
    active = client.get("/api/email/suppressions").json()["data"]["suppressions"]
    assert [s["address"] for s in active] == ["bounced@example.com"]
    history = client.get("/api/email/suppressions?active=false").json()["data"]["suppressions"]
    assert [s["address"] for s in history] == ["manual@example.com"]


def test_adding_the_same_suppression_twice_keeps_one(suppression_staff: Any) -> None:
    client = _client(suppression_staff)
    for _ in range(2):
        client.post("/api/email/suppressions", {"address": "x@example.com"}, format="json")
    assert Suppression.objects.count() == 1


def test_a_bad_suppression_is_a_field_error(suppression_staff: Any) -> None:
    response = _client(suppression_staff).post(
        "/api/email/suppressions", {"address": "nope", "scope": "everything"}, format="json"
    )
    assert response.status_code == 400
    assert {tuple(d["path"]) for d in response.json()["details"]} == {("address",), ("scope",)}
    assert Suppression.objects.count() == 0


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/api/email/suppressions"),
        ("post", "/api/email/suppressions"),
        ("delete", "/api/email/suppressions/1"),
        ("get", "/api/email/reputation"),
        ("post", "/api/email/reputation/holds/1/resume"),
    ],
)
def test_users_without_the_permission_are_refused(method: str, path: str, user: Any, staff_user: Any) -> None:
    suppression_add(address="x@example.com", reason="bounce")
    for who in (user, staff_user):  # staff_user may see all mail, not manage suppressions
        response = getattr(_client(who), method)(path, {"address": "y@example.com"}, format="json")
        assert response.status_code == 403
    assert getattr(APIClient(), method)(path).status_code in (401, 403)
    assert Suppression.objects.filter(lifted_at__isnull=True).count() == 1


def test_the_reputation_endpoint_reports_rates_and_resumes_holds(
    suppression_staff: Any, user: Any, django_capture_on_commit_callbacks: Any, ses: Any
) -> None:
    hold = ReputationHold.objects.create(category="marketing", reason="test hold")
    held = Message.objects.create(
        owner=user,
        from_email="a@crm.example.com",
        subject="News",
        category="marketing",
        status="held",
        recipient_count=1,
    )
    held.recipients.create(kind="to", address="fan@example.com")
    client = _client(suppression_staff)

    state = client.get("/api/email/reputation").json()["data"]
    assert state["holds"][0]["reason"] == "test hold"
    assert state["last24Hours"]["sent"] == 0

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/api/email/reputation/holds/{hold.pk}/resume")

    assert response.status_code == 200 and response.json()["data"]["requeued"] == 1
    held.refresh_from_db()
    assert held.status == "sent"
    assert client.post(f"/api/email/reputation/holds/{hold.pk}/resume").status_code == 404


def test_the_admin_lifts_suppressions_and_lists_events(admin_client: Any) -> None:
    suppression = suppression_add(address="x@example.com", reason="bounce")

    response = admin_client.post(
        "/admin/emails/suppression/", {"action": "lift", "_selected_action": [suppression.pk]}, follow=True
    )

    assert response.status_code == 200
    suppression.refresh_from_db()
    assert suppression.lifted_at is not None
    for page in ("event", "inboundnotification", "reputationhold", "suppression", "message", "recipient"):
        assert admin_client.get(f"/admin/emails/{page}/").status_code == 200


SUPPRESSION_CODENAMES = [
    "view_suppression", "add_suppression", "change_suppression", "view_reputationhold", "change_reputationhold",
]  # fmt: skip


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/api/email/suppressions"),
        ("post", "/api/email/suppressions"),
        ("delete", "/api/email/suppressions/{id}"),
        ("get", "/api/email/reputation"),
        ("post", "/api/email/reputation/holds/{hold}/resume"),
    ],
)
def test_a_plain_user_with_the_model_permissions_still_may_not_manage_the_global_lists(
    method: str, path: str, user: Any
) -> None:
    """D6: the list names every user's recipients; the permissions alone, without staff, open nothing."""
    user.user_permissions.add(*Permission.objects.filter(codename__in=SUPPRESSION_CODENAMES))
    suppression = suppression_add(address="someone-elses@example.com", reason="bounce")
    hold = ReputationHold.objects.create(reason="too many bounces")
    client = _client(type(user).objects.get(pk=user.pk))  # fresh: no cached permissions

    response = getattr(client, method)(
        path.format(id=suppression.pk, hold=hold.pk), {"address": "x@example.com"}, format="json"
    )

    assert response.status_code == 403
    assert "someone-elses@example.com" not in response.content.decode()
    assert Suppression.objects.filter(address="x@example.com").exists() is False
    assert Suppression.objects.get(pk=suppression.pk).lifted_at is None
    assert ReputationHold.objects.get(pk=hold.pk).resumed_at is None
