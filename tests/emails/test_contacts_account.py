"""GET /api/email/contacts/<address> (one person across the mail) and GET /api/email/account (SES, for staff)."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import quote

import pytest
from django.core.cache import cache
from rest_framework.test import APIClient

from emails.models import ReputationHold
from emails.suppression import suppression_add, suppression_lift
from tests.emails.test_analytics import client_for, events, send


def contact(client: APIClient, address: str, query: str = "") -> dict[str, Any]:
    response = client.get(f"/api/email/contacts/{address}?{query}")
    assert response.status_code == 200, response.content
    return dict(response.json()["data"])


def test_a_contact_is_everything_the_caller_sent_one_address(
    post_email: Any, ses: Any, sns: None, api: APIClient
) -> None:
    first = send(post_email, ["jane@example.com", "bob@example.com"], subject="First")
    second = send(post_email, ["Jane <JANE@example.com>"], subject="Second", category="auth")
    events(first, ("Delivery", ["jane@example.com"]), ("Open", ["jane@example.com"]))

    data = contact(api, "Jane@Example.com")

    assert data["address"] == "jane@example.com"
    assert data["suppressed"] is False and data["suppressions"] == []
    assert data["stats"] == {
        "messages": 2, "sent": 2, "delivered": 1, "bounced": 0, "complained": 0, "opened": 1, "clicked": 0,
        "lastSentAt": data["stats"]["lastSentAt"],
    }  # fmt: skip
    assert data["stats"]["lastSentAt"] is not None
    assert [m["subject"] for m in data["messages"]] == ["Second", "First"]  # newest first
    latest, earlier = data["messages"]
    assert (latest["messageId"], latest["category"], latest["recipientStatus"]) == (str(second.pk), "auth", "sent")
    assert earlier["recipientStatus"] == "opened"
    assert [e["type"] for e in earlier["events"]] == ["send", "delivery", "open"]
    assert data["pagination"] == {"page": 1, "limit": 20, "total": 2, "pages": 1}


def test_a_contact_is_paged_as_lists_are(post_email: Any, ses: Any, api: APIClient) -> None:
    for i in range(3):
        send(post_email, ["jane@example.com"], subject=f"S{i}")
    data = contact(api, "jane@example.com", "limit=2&page=2")
    assert [m["subject"] for m in data["messages"]] == ["S0"]
    assert data["pagination"] == {"page": 2, "limit": 2, "total": 3, "pages": 2}
    assert data["stats"]["messages"] == 3
    assert APIClient().get("/api/email/contacts/jane@example.com").status_code == 401
    bad = api.get("/api/email/contacts/jane@example.com?limit=0")
    assert bad.status_code == 400 and ["limit"] in [d["path"] for d in bad.json()["details"]]


def test_a_contact_covers_the_callers_mail_only_and_staff_see_all(
    post_email: Any, ses: Any, user: Any, other_user: Any, staff_user: Any
) -> None:
    send(post_email, ["jane@example.com"], client=client_for(other_user), subject="Theirs")

    mine = contact(client_for(user), "jane@example.com")
    everyone = contact(client_for(staff_user), "jane@example.com")

    assert mine["messages"] == [] and mine["stats"]["messages"] == 0
    assert [m["subject"] for m in everyone["messages"]] == ["Theirs"]


def test_everyone_is_told_whether_we_would_mail_the_address(db: Any, api: APIClient, staff_user: Any) -> None:
    suppression_add(address="gone@example.com", reason="bounce")
    unsubscribed = suppression_add(address="tired@example.com", scope="marketing", reason="unsubscribe")

    assert contact(api, "gone@example.com")["suppressed"] is True
    tired = contact(api, "tired@example.com")
    assert tired["suppressed"] is False  # only marketing is stopped
    assert [(s["scope"], s["reason"]) for s in tired["suppressions"]] == [("marketing", "unsubscribe")]
    suppression_lift(suppression=unsubscribed, by=staff_user)
    assert contact(api, "tired@example.com")["suppressions"][0]["liftedAt"] is not None


def test_the_account_panel_reports_ses_and_our_reputation(
    post_email: Any, ses: Any, staff_user: Any, settings: Any
) -> None:
    cache.clear()
    settings.REPUTATION_MIN_SENT = 1
    send(post_email, ["a@example.com", "b@example.com"])
    ReputationHold.objects.create(reason="Marketing held: trailing 24 h bounce rate 6%")

    response = client_for(staff_user).get("/api/email/account")

    assert response.status_code == 200
    data = response.json()["data"]
    assert data["quota"]["maxSendRate"] == 1.0 and data["quota"]["maxSend24Hour"] == 200.0  # moto's sandbox
    assert data["quota"]["sentLast24Hours"] >= 1
    (day,) = data["statistics"]  # moto keeps one point, today's; SES keeps 15-minute ones for two weeks
    assert set(day) == {"date", "deliveryAttempts", "bounces", "complaints", "rejects"}
    assert day["deliveryAttempts"] >= 1
    trailing = data["reputation"]["last24Hours"]
    assert trailing["sent"] == 2
    assert trailing["bounceRate"] == {"value": 0.0, "level": "ok", "review": 0.05, "pause": 0.1}
    assert trailing["complaintRate"] == {"value": 0.0, "level": "ok", "review": 0.001, "pause": 0.005}
    assert data["reputation"]["last7Days"]["sent"] == 2
    assert [h["reason"] for h in data["holds"]] == ["Marketing held: trailing 24 h bounce rate 6%"]


@pytest.mark.parametrize("who", ["user", "plain staff"])
def test_the_account_panel_is_for_staff_who_see_all_mail(who: str, user: Any, db: Any) -> None:
    if who == "plain staff":
        user.is_staff = True
        user.save()
    assert client_for(user).get("/api/email/account").status_code == 403


ODD = ["a/b@example.com", "x#y?z@example.com", "p%41q@example.com"]  # each a valid address, and a URL's delimiter


def test_an_address_with_a_url_delimiter_has_its_contact(
    post_email: Any, ses: Any, api: APIClient, client: Any, user: Any
) -> None:
    message = send(post_email, ODD)
    client.force_login(user)

    for page in ("/emails", f"/emails/{message.pk}", f"/emails/{message.pk}/live", f"/emails/live?id={message.pk}"):
        assert client.get(page).status_code == 200, page  # every address links to its contact
    html = client.get(f"/emails/{message.pk}").content.decode()
    for address in ODD:
        link = re.search(rf'<a href="(/contacts/[^"]+)">{re.escape(address)}</a>', html)
        assert link, address
        assert client.get(link.group(1)).context["contact"].address == address
        assert contact(api, quote(address, safe="@"))["address"] == address
        assert contact(api, quote(address, safe="@") + "/")["address"] == address  # the optional slash
