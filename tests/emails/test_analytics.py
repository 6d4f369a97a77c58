"""GET /api/email/analytics: counts, rates, the daily series and breakdowns, over mixed per-recipient outcomes."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from emails.models import Message, Recipient, Template
from emails.suppression import suppression_add
from emails.tracking import notification_store, notifications_drain
from tests.emails.ses_examples import ses_event
from tests.sns_signing import sns_envelope

BASE = {"subject": "Statement", "textContent": "Your statement.", "category": "notification"}


def client_for(user: Any) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def send(post_email: Any, to: list[str], client: APIClient | None = None, **change: Any) -> Message:
    response = post_email({**BASE, "to": to, **change}, client=client)
    assert response.status_code == 201, response.content
    return Message.objects.get(pk=response.json()["data"]["messageId"])


def events(message: Message, *happened: tuple[str, list[str]], at: datetime | None = None, **change: Any) -> None:
    """SES events for this message's recipients, stored and applied as the webhook and a worker would."""
    ses_id = message.recipients.values_list("ses_message_id", flat=True).first() or ""
    when = (at or timezone.now()).isoformat().replace("+00:00", "Z")
    for kind, recipients in happened:
        envelope = sns_envelope(ses_event(kind, ses_message_id=ses_id, recipients=recipients, timestamp=when, **change))
        notification_store(message=envelope, body=json.dumps(envelope))
    notifications_drain()


def analytics(client: APIClient, query: str = "") -> dict[str, Any]:
    response = client.get(f"/api/email/analytics?{query}")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["success"] is True
    return dict(body["data"])


@pytest.fixture
def mixed(post_email: Any, ses: Any, sns: None) -> Message:
    """Five recipients, five fates: clicked, opened, bounced, complained (after delivery), only sent."""
    to = ["click@one.example", "open@one.example", "bounce@two.example", "complain@two.example", "sent@one.example"]
    message = send(post_email, to, clientId="acme")
    events(message, ("Delivery", to[:2] + to[3:4]))
    events(message, ("Open", to[:1]), ("Click", to[:1]), ("Open", to[1:2]))
    events(message, ("Bounce", to[2:3]))
    events(message, ("Complaint", to[3:4]))
    return message


def test_counts_and_rates_on_mixed_outcomes(mixed: Message, api: APIClient) -> None:
    data = analytics(api)

    assert data["rates"] == {
        "sent": 5, "delivered": 3, "bounced": 1, "complained": 1, "opened": 2, "clicked": 1, "suppressed": 0,
        "failed": 0, "deliveryRate": 0.6, "bounceRate": 0.2, "complaintRate": 0.2, "openRate": 0.4, "clickRate": 0.2,
    }  # fmt: skip
    assert data["stats"]["totalEmails"] == 1 and data["stats"]["totalRecipients"] == 5
    assert data["stats"]["byStatus"] == [{"status": "complaint", "count": 1}]
    assert data["stats"]["totalCost"] == 0.0005  # five recipients at $0.10 per 1,000, exactly
    day = timezone.localdate().isoformat()
    assert data["daily"] == [
        {"date": day, "emails": 1, "recipients": 5, "sent": 5, "delivered": 3, "bounced": 1, "complained": 1,
         "opened": 2, "clicked": 1, "cost": 0.0005}
    ]  # fmt: skip
    assert data["byClient"] == [
        {"clientId": "acme", "emails": 1, "recipients": 5, "sent": 5, "delivered": 3, "bounced": 1,
         "complained": 1, "cost": 0.0005}
    ]  # fmt: skip
    assert data["byRecipientDomain"] == [
        {"domain": "one.example", "sent": 3, "delivered": 2, "bounced": 0, "complained": 0, "bounceRate": 0.0,
         "complaintRate": 0.0},
        {"domain": "two.example", "sent": 2, "delivered": 1, "bounced": 1, "complained": 1, "bounceRate": 0.5,
         "complaintRate": 0.5},
    ]  # fmt: skip
    assert [e["messageId"] for e in data["recentEmails"]] == [str(mixed.pk)]


def test_the_log_summary_counts_the_same_way(mixed: Message, api: APIClient) -> None:
    stats = api.get("/api/email").json()["data"]["stats"]
    rates = analytics(api)["rates"]
    assert (stats["totalSent"], stats["totalDelivered"], stats["totalBounced"], stats["totalComplained"]) == (
        rates["sent"], rates["delivered"], rates["bounced"], rates["complained"]
    )  # fmt: skip
    assert stats["totalFailed"] == 0  # "0 failed" after two problems is honest now: they were not failures


def test_suppressed_and_failed_recipients_were_never_sent(post_email: Any, ses: Any, api: APIClient) -> None:
    suppression_add(address="gone@example.com", reason="bounce")
    send(post_email, ["gone@example.com", "fine@example.com"])
    rates = analytics(api)["rates"]
    assert (rates["sent"], rates["suppressed"], rates["failed"]) == (1, 1, 0)
    assert rates["deliveryRate"] == 0.0  # of what was sent, nothing delivered yet


def test_nothing_sent_gives_rates_of_zero(api: APIClient) -> None:
    data = analytics(api)
    assert data["rates"]["bounceRate"] == 0.0 and data["rates"]["sent"] == 0
    assert data["daily"] == [] and data["deliveryTime"] == {"avgSeconds": None, "p50Seconds": None, "p95Seconds": None}


def test_delivery_time_runs_from_ses_accepting_a_recipient_to_its_delivery(
    post_email: Any, ses: Any, sns: None, api: APIClient
) -> None:
    to = [f"r{i}@example.com" for i in range(4)]
    message = send(post_email, to)
    sent_at = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
    Recipient.objects.update(sent_at=sent_at)
    Message.objects.update(sent_at=sent_at)
    for seconds, address in zip((2, 4, 6, 100), to, strict=True):
        events(message, ("Delivery", [address]), at=sent_at + timedelta(seconds=seconds))

    timing = analytics(api, "startDate=2026-11-30&endDate=2026-11-30")["deliveryTime"]

    # As percentile_disc: the first value whose share of the deliveries reaches 50% (4 s), 95% (100 s).
    assert timing == {"avgSeconds": 28.0, "p50Seconds": 4.0, "p95Seconds": 100.0}


def test_a_message_belongs_to_the_day_it_was_sent_in_the_zone_asked_for(
    post_email: Any, ses: Any, api: APIClient
) -> None:
    late = send(post_email, ["late@example.com"])
    Message.objects.filter(pk=late.pk).update(sent_at=datetime(2026, 11, 30, 23, 30, tzinfo=UTC))

    utc = analytics(api, "startDate=2026-11-30&endDate=2026-12-01&tz=UTC")["daily"]
    berlin = analytics(api, "startDate=2026-11-30&endDate=2026-12-01&tz=Europe/Berlin")["daily"]
    auckland = analytics(api, "startDate=2026-11-29&endDate=2026-11-30&tz=Pacific/Auckland")["daily"]

    assert [d["date"] for d in utc] == ["2026-11-30"]
    assert [d["date"] for d in berlin] == ["2026-12-01"]  # 00:30 there
    assert auckland == []  # 12:30 on 1 December there: outside the range
    one_instant = analytics(api, "startDate=2026-11-30T23:00:00Z&endDate=2026-11-30T23:59:59Z")
    assert one_instant["rates"]["sent"] == 1


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("category=auth", {"Auth"}),
        ("priority=urgent", {"Urgent"}),
        ("clientId=c-7", {"Client"}),
        ("templateId=welcome", {"Welcome to CRM Mail"}),
        ("", {"Auth", "Urgent", "Client", "Welcome to CRM Mail"}),
    ],
)
def test_every_filter(query: str, expected: set[str], post_email: Any, ses: Any, api: APIClient) -> None:
    send(post_email, ["a@example.com"], subject="Auth", category="auth")
    send(post_email, ["a@example.com"], subject="Urgent", priority="urgent")
    send(post_email, ["a@example.com"], subject="Client", clientId="c-7")
    send(post_email, ["a@example.com"], subject="", templateId="welcome", templateData={"name": "Jo"})

    data = analytics(api, query)

    assert {e["subject"] for e in data["recentEmails"]} == expected
    assert data["stats"]["totalEmails"] == len(expected)


def test_the_template_breakdown_names_templates(post_email: Any, ses: Any, api: APIClient) -> None:
    send(post_email, ["a@example.com"], subject="", templateId="welcome", templateData={"name": "Jo"})
    send(post_email, ["b@example.com"])
    welcome = Template.objects.get(slug="welcome")
    rows = {row["name"]: row["sent"] for row in analytics(api)["byTemplate"]}
    assert rows == {welcome.name: 1, "": 1}


def test_a_user_counts_only_their_own_mail_and_staff_count_everyones(
    post_email: Any, ses: Any, user: Any, other_user: Any, staff_user: Any
) -> None:
    send(post_email, ["a@example.com"], client=client_for(user))
    send(post_email, ["b@example.com", "c@example.com"], client=client_for(other_user))

    mine = analytics(client_for(user))
    everyone = analytics(client_for(staff_user))
    only_other = analytics(client_for(staff_user), f"userId={other_user.pk}")

    assert mine["rates"]["sent"] == 1 and mine["byUser"] == []
    assert everyone["rates"]["sent"] == 3
    assert {(row["username"], row["sent"]) for row in everyone["byUser"]} == {
        (user.username, 1), (other_user.username, 2)
    }  # fmt: skip
    assert only_other["rates"]["sent"] == 2


@pytest.mark.parametrize(
    ("query", "path"),
    [
        ("startDate=yesterday", ["startDate"]),
        ("endDate=2026-13-01", ["endDate"]),
        ("startDate=2026-11-02&endDate=2026-11-01", ["endDate"]),
        ("startDate=2020-01-01&endDate=2026-01-01", ["startDate"]),
        ("tz=Mars/Olympus_Mons", ["tz"]),
        ("tz=../../etc/passwd", ["tz"]),
        ("category=spam", ["category"]),
        ("priority=asap", ["priority"]),
        ("templateId=no-such-template", ["templateId"]),
        ("userId=1", ["userId"]),  # not staff
        ("userId=9223372036854775808", ["userId"]),
        # Days at Python's edge: an inclusive end, the default 30 days back, a zone's offset would overflow.
        ("endDate=9999-12-31", ["endDate"]),
        ("endDate=0001-01-05", ["endDate"]),
        ("startDate=0001-01-01&endDate=0001-01-02&tz=Asia/Tokyo", ["startDate"]),
        ("endDate=0001-01-01T00:00:00-05:00", ["endDate"]),
    ],
)
def test_bad_parameters_are_refused_with_their_field(query: str, path: list[str], api: APIClient) -> None:
    response = api.get(f"/api/email/analytics?{query}")
    assert response.status_code == 400
    assert path in [d["path"] for d in response.json()["details"]]


def test_the_answer_takes_a_fixed_number_of_queries(
    post_email: Any, ses: Any, staff_user: Any, django_assert_max_num_queries: Any
) -> None:
    staff = client_for(staff_user)
    for i in range(12):
        send(post_email, [f"u{i}@d{i}.example", f"v{i}@d{i}.example"], client=staff, clientId=f"c-{i}")
    with django_assert_max_num_queries(14):
        data = analytics(staff)
    assert len(data["byClient"]) == 12 and len(data["recentEmails"]) == 10


def test_analytics_needs_a_signed_in_caller(db: Any) -> None:
    assert APIClient().get("/api/email/analytics").status_code == 401


def test_each_outcome_keeps_its_earliest_time_in_any_order(post_email: Any, ses: Any, sns: None) -> None:
    message = send(post_email, ["a@example.com"])
    t = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
    events(message, ("Open", ["a@example.com"]), at=t + timedelta(minutes=2))
    events(message, ("Open", ["a@example.com"]), at=t + timedelta(minutes=1))  # late, but earlier
    events(message, ("Open", ["a@example.com"]), at=t + timedelta(minutes=3))
    events(message, ("Complaint", ["a@example.com"]), at=t + timedelta(minutes=4))
    events(message, ("Delivery", ["a@example.com"]), at=t)  # reported last: the status stays, the time is kept

    recipient = Recipient.objects.get()
    assert recipient.opened_at == t + timedelta(minutes=1)
    assert recipient.complained_at == t + timedelta(minutes=4)
    assert recipient.delivered_at == t
    assert recipient.status == "complaint" and recipient.last_event_at == t + timedelta(minutes=4)
    assert recipient.bounced_at is None and recipient.clicked_at is None
