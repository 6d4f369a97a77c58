"""The analytics dashboard, its CSV exports, and the contact page, as the server renders them."""

from __future__ import annotations

import csv
import io
import re
from typing import Any

import pytest
from django.contrib.auth.models import Permission
from django.core.cache import cache
from django.test import Client

from emails.suppression import suppression_add
from tests.emails.test_analytics import client_for, events, send
from tests.emails.test_pages import field_errors


@pytest.fixture
def browser_of(client: Client) -> Any:
    def signed_in(user: Any) -> Client:
        client.force_login(user)
        return client

    return signed_in


@pytest.fixture
def some_mail(post_email: Any, ses: Any, sns: None, user: Any) -> None:
    to = ["a@one.example", "b@one.example", "c@two.example"]
    message = send(post_email, to, clientId="acme", client=client_for(user))
    events(message, ("Delivery", to[:2]), ("Open", to[:1]), ("Bounce", to[2:]))


def test_the_dashboard_shows_rates_series_and_breakdowns(some_mail: None, browser_of: Any, user: Any) -> None:
    page = browser_of(user).get("/analytics").content.decode()

    delivered = r'id="card-deliveryRate">\s*<span class="stat-label">Delivered</span>\s*<span class="stat-value">66.7%'
    assert re.search(delivered + r'</span>\s*<span class="stat-sub">2 of 3 sent</span>', page)
    assert 'class="rate-card level-red" id="card-bounceRate"' in page  # a third bounced: past SES's pause level
    assert "At SES's pause level (10.0%)" in page
    assert 'id="chart-daily" role="img" aria-label=' in page
    assert '<table class="table table-compact" id="daily-table">' in page
    assert '<a href="/emails?clientId=acme">acme</a>' in page
    assert '<a href="/emails?search=%40two.example">two.example</a>' in page
    assert 'id="users-table"' not in page and 'id="ses-account"' not in page  # not staff
    assert "/static/vendor/chart-4.6.1.umd.min.js" in page
    assert 'id="analytics-charts" type="application/json"' in page


def test_staff_see_users_and_the_ses_account(some_mail: None, browser_of: Any, staff_user: Any) -> None:
    cache.clear()
    page = browser_of(staff_user).get("/analytics").content.decode()
    assert 'id="users-table"' in page
    assert 'id="ses-account"' in page and 'id="quota-gauge"' in page
    assert "of 200 sent" in page  # moto's sandbox quota


def test_bad_filters_are_shown_on_their_fields(browser_of: Any, user: Any) -> None:
    page = browser_of(user).get("/analytics?tz=Mars/Olympus&startDate=yesterday").content.decode()
    assert "These filters are not valid" in page
    assert field_errors(page, "tz") == ["'Mars/Olympus' is not a time zone name, such as Europe/Berlin."]
    assert field_errors(page, "startDate") == ["Use YYYY-MM-DD or an ISO 8601 date-time."]
    assert 'id="daily-table"' not in page


@pytest.mark.parametrize(
    ("table", "header", "first"),
    [
        ("daily", ["date", "emails", "recipients", "sent", "delivered", "bounced", "complained", "opened", "clicked",
                   "cost"], None),
        ("clients", ["clientId", "emails", "recipients", "sent", "delivered", "bounced", "complained", "cost"],
         ["acme", "1", "3", "3", "2", "1", "0", "0.0003"]),
        ("domains", ["domain", "sent", "delivered", "bounced", "complained", "bounceRate", "complaintRate"],
         ["one.example", "2", "2", "0", "0", "0.0", "0.0"]),
    ],
)  # fmt: skip
def test_each_table_downloads_as_csv(
    some_mail: None, browser_of: Any, user: Any, table: str, header: list[str], first: list[str] | None
) -> None:
    response = browser_of(user).get(f"/analytics/export.csv?table={table}&tz=UTC")
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith(f'attachment; filename="analytics-{table}-')
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert rows[0] == header and len(rows) >= 2
    if first is not None:
        assert rows[1] == first


def test_an_unknown_table_is_a_400(browser_of: Any, user: Any) -> None:
    response = browser_of(user).get("/analytics/export.csv?table=passwords")
    assert response.status_code == 400 and b"Unknown table" in response.content


def test_the_dashboard_takes_a_bounded_number_of_queries(
    post_email: Any, ses: Any, browser_of: Any, staff_user: Any, django_assert_max_num_queries: Any, settings: Any
) -> None:
    cache.clear()
    for i in range(15):
        send(post_email, [f"u{i}@d{i}.example"], client=client_for(staff_user), clientId=f"c-{i}")
    browser = browser_of(staff_user)
    browser.get("/analytics")  # the SES account comes from the cache afterwards
    with django_assert_max_num_queries(24):
        assert browser.get("/analytics").status_code == 200


def test_the_contact_page_shows_one_persons_mail(
    post_email: Any, ses: Any, browser_of: Any, user: Any, other_user: Any
) -> None:
    send(post_email, ["jane@example.com"], subject="Welcome, Jane", client=client_for(user))
    send(post_email, ["jane@example.com"], subject="Not yours", client=client_for(other_user))
    suppression_add(address="jane@example.com", scope="marketing", reason="unsubscribe")

    page = browser_of(user).get("/contacts/Jane@Example.com").content.decode()

    assert '<h1 id="contact-address" class="addr">jane@example.com</h1>' in page
    assert 'id="contact-mailable"' in page  # an unsubscribe from marketing does not stop all mail
    assert "Marketing mail: unsubscribed on" in page
    assert "Welcome, Jane" in page and "Not yours" not in page
    assert '<span class="stat-value" id="contact-messages">1</span>' in page


def test_a_filter_the_user_may_not_set_is_named_in_words(browser_of: Any, user: Any) -> None:
    page = browser_of(user).get("/analytics?userId=1").content.decode()
    assert "User: Only staff who may see everyone&#x27;s mail can choose a user." in page
    assert "userId:" not in page  # the page never names an API field


def test_the_account_panel_is_for_whom_the_api_answers(some_mail: None, browser_of: Any, user: Any) -> None:
    user.user_permissions.add(Permission.objects.get(codename="view_all_messages"))  # all mail, but not staff
    user = type(user).objects.get(pk=user.pk)  # permissions are cached on the instance
    client = browser_of(user)
    page = client.get("/analytics").content.decode()
    assert 'id="users-table"' in page  # they see everyone's mail ...
    assert 'id="ses-account"' not in page  # ... but not the account, as the API refuses them
    assert client.get("/api/email/account").status_code == 403
