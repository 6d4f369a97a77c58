"""GET /api/email, /api/email/<id>, /api/email/quota: filters, summary, ownership, query counts."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.core.cache import cache
from django.utils import timezone
from rest_framework.test import APIClient

from emails.models import Message


def _send(post_email: Any, client: APIClient | None = None, **change: Any) -> str:
    payload = {"to": "a@example.com", "subject": "Hello", "textContent": "x", "category": "notification", **change}
    response = post_email(payload, client=client)
    assert response.status_code == 201, response.content
    return str(response.json()["data"]["messageId"])


def _client(user: Any) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def test_the_list_shows_only_the_callers_messages_with_a_summary(
    post_email: Any, api: Any, other_user: Any, ses: Any
) -> None:
    mine = {_send(post_email, subject="One"), _send(post_email, subject="Two", category="auth", priority="high")}
    _send(post_email, client=_client(other_user), subject="Not yours")

    body = api.get("/api/email").json()

    assert body["success"] is True
    data = body["data"]
    assert {e["messageId"] for e in data["emails"]} == mine
    assert data["pagination"] == {"page": 1, "limit": 20, "total": 2, "pages": 1}
    stats = data["stats"]
    assert stats["totalEmails"] == 2
    assert stats["totalRecipients"] == 2
    assert stats["totalCost"] == pytest.approx(0.0002)
    assert {row["category"]: row["count"] for row in stats["byCategory"]} == {"notification": 1, "auth": 1}
    assert {row["status"]: row["count"] for row in stats["byStatus"]} == {"sent": 2}
    assert {row["priority"]: row["count"] for row in stats["byPriority"]} == {"normal": 1, "high": 1}


def test_staff_with_the_permission_see_everyones_messages(
    post_email: Any, staff_user: Any, other_user: Any, ses: Any
) -> None:
    _send(post_email)
    _send(post_email, client=_client(other_user))
    plain_staff = _client(type(staff_user).objects.create_user("plainstaff", is_staff=True))

    assert _client(staff_user).get("/api/email").json()["data"]["pagination"]["total"] == 2
    assert plain_staff.get("/api/email").json()["data"]["pagination"]["total"] == 0
    only_other = _client(staff_user).get(f"/api/email?userId={other_user.pk}").json()["data"]
    assert only_other["pagination"]["total"] == 1


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("status=sent", {"Alpha", "Beta", "Gamma"}),
        ("status=failed", set()),
        ("category=auth", {"Beta"}),
        ("priority=urgent", {"Gamma"}),
        ("clientId=c-7", {"Alpha"}),
        ("search=beta", {"Beta"}),
        ("search=gamma@example.com", {"Gamma"}),
        ("recipientStatus=sent", {"Alpha", "Beta", "Gamma"}),
    ],
)
def test_the_list_filters(query: str, expected: set[str], post_email: Any, api: Any, ses: Any) -> None:
    _send(post_email, subject="Alpha", clientId="c-7")
    _send(post_email, subject="Beta", category="auth")
    _send(post_email, subject="Gamma", priority="urgent", to="gamma@example.com")

    data = api.get(f"/api/email?{query}").json()["data"]

    assert {e["subject"] for e in data["emails"]} == expected
    assert data["stats"]["totalEmails"] == len(expected)


def test_the_list_filters_by_date_range_inclusive(post_email: Any, api: Any, ses: Any) -> None:
    old = _send(post_email, subject="Old")
    _send(post_email, subject="New")
    Message.objects.filter(pk=old).update(created_at=timezone.now() - timedelta(days=10))
    today = timezone.now().date()

    recent = api.get(f"/api/email?startDate={today - timedelta(days=1)}&endDate={today}").json()["data"]
    older = api.get(f"/api/email?endDate={today - timedelta(days=5)}").json()["data"]

    assert [e["subject"] for e in recent["emails"]] == ["New"]
    assert [e["subject"] for e in older["emails"]] == ["Old"]


def test_the_list_paginates_and_sorts(post_email: Any, api: Any, ses: Any) -> None:
    for name in ["b", "c", "a", "e", "d"]:
        _send(post_email, subject=name)

    first = api.get("/api/email?limit=2&sortBy=subject&sortOrder=asc").json()["data"]
    last = api.get("/api/email?limit=2&page=3&sortBy=subject&sortOrder=asc").json()["data"]

    assert [e["subject"] for e in first["emails"]] == ["a", "b"]
    assert first["pagination"] == {"page": 1, "limit": 2, "total": 5, "pages": 3}
    assert [e["subject"] for e in last["emails"]] == ["e"]


@pytest.mark.parametrize(
    ("query", "path"),
    [
        ("status=lost", ["status"]),
        ("limit=1000", ["limit"]),
        ("page=0", ["page"]),
        ("startDate=yesterday", ["startDate"]),
        ("startDate=2026-02-02&endDate=2026-01-01", ["endDate"]),
        ("sortBy=password", ["sortBy"]),
        ("endDate=9999-12-31", ["endDate"]),  # the inclusive end's next day is past Python's dates
        ("startDate=0001-01-01", ["startDate"]),
    ],
)
def test_bad_filters_are_a_400_with_the_field(query: str, path: list[str], api: Any) -> None:
    response = api.get(f"/api/email?{query}")
    assert response.status_code == 400
    assert path in [d["path"] for d in response.json()["details"]]


def test_the_list_does_not_query_per_message(
    post_email: Any, api: Any, ses: Any, django_assert_max_num_queries: Any
) -> None:
    for i in range(25):
        _send(post_email, to=[f"u{i}@example.com", f"v{i}@example.com"], cc=f"c{i}@example.com")

    with django_assert_max_num_queries(9):  # 2 permission lookups, page + count, prefetch, 4 stats
        response = api.get("/api/email?limit=25")

    assert len(response.json()["data"]["emails"]) == 25


def test_the_detail_has_recipients_and_events(post_email: Any, api: Any, ses: Any) -> None:
    message_id = _send(post_email, to=["a@example.com", "Bee <b@example.com>"], bcc="c@example.com")

    data = api.get(f"/api/email/{message_id}").json()["data"]

    assert data["messageId"] == message_id
    assert data["status"] == "sent"
    assert data["to"] == ["a@example.com", "Bee <b@example.com>"]
    assert data["bcc"] == ["c@example.com"]
    assert [(r["address"], r["kind"], r["status"]) for r in data["recipients"]] == [
        ("a@example.com", "to", "sent"),
        ("b@example.com", "to", "sent"),
        ("c@example.com", "bcc", "sent"),
    ]
    assert len(data["sesMessageIds"]) == 1
    assert all(r["sesMessageId"] == data["sesMessageIds"][0] for r in data["recipients"])
    assert [(e["type"], e["recipient"]) for e in data["events"]] == [
        ("send", "a@example.com"),
        ("send", "b@example.com"),
        ("send", "c@example.com"),
    ]
    assert data["textContent"] == "x"


def test_another_users_message_is_not_found(post_email: Any, other_user: Any, ses: Any) -> None:
    message_id = _send(post_email)

    response = _client(other_user).get(f"/api/email/{message_id}")

    assert response.status_code == 404
    assert response.json() == {"success": False, "error": "Email not found"}


def test_staff_with_the_permission_can_read_any_message(post_email: Any, staff_user: Any, ses: Any) -> None:
    message_id = _send(post_email)
    assert _client(staff_user).get(f"/api/email/{message_id}").status_code == 200


def test_the_detail_query_count_does_not_grow_with_recipients(
    post_email: Any, api: Any, ses: Any, django_assert_max_num_queries: Any
) -> None:
    message_id = _send(post_email, to=[f"u{i}@example.com" for i in range(40)])
    with django_assert_max_num_queries(6):
        assert api.get(f"/api/email/{message_id}").status_code == 200


def test_the_quota_comes_from_ses_and_is_cached(post_email: Any, api: Any, ses: Any) -> None:
    cache.clear()
    first = api.get("/api/email/quota").json()["data"]
    assert first["maxSend24Hour"] == 200.0  # moto's sandbox quota
    assert first["maxSendRate"] == 1.0
    assert first["sentLast24Hours"] == 0

    _send(post_email)
    cached = api.get("/api/email/quota").json()["data"]
    cache.clear()
    fresh = api.get("/api/email/quota").json()["data"]

    assert cached == first
    assert fresh["sentLast24Hours"] > 0
    assert fresh["remaining24Hour"] == fresh["maxSend24Hour"] - fresh["sentLast24Hours"]


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/api/email"),
        ("post", "/api/email"),
        ("get", "/api/email/quota"),
        ("get", "/api/email/00000000-0000-0000-0000-000000000000"),
    ],
)
def test_every_endpoint_needs_a_signed_in_caller(method: str, path: str, db: Any) -> None:
    response = getattr(APIClient(), method)(path)
    assert response.status_code in (401, 403)
    assert response.json()["success"] is False


def test_paths_work_with_and_without_a_trailing_slash(api: Any) -> None:
    assert api.get("/api/email").status_code == 200
    assert api.get("/api/email/").status_code == 200
    assert api.get("/api/email/quota/").status_code in (200, 503)


def test_the_openapi_schema_describes_the_api(api: Any) -> None:
    response = api.get("/api/schema/", HTTP_ACCEPT="application/json")
    assert response.status_code == 200
    schema = response.json() if response["Content-Type"].startswith("application/json") else None
    text = response.content.decode()
    assert "/api/email" in text
    assert schema is None or "paths" in schema
