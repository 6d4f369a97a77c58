"""Sender identities: listing and adding them (API and page, staff only), and judging a send's `from` by them.

SES is moto, as a real server; moto answers every call used here
(ListIdentities, Get{IdentityVerification,IdentityDkim}Attributes,
Verify{DomainIdentity,DomainDkim,EmailIdentity}) and verifies at once.
"""

from __future__ import annotations

import socket
import time
from email.utils import parseaddr
from typing import Any

import pytest
from botocore.config import Config
from django.core.cache import cache
from django.test import Client
from rest_framework.test import APIClient

from emails.senders import IDENTITIES_CACHE_KEY, identities_known, identities_list, identity_verify, sender_check
from emails.senders.identities import SES_ATTRIBUTES_BATCH
from tests.factories import UserFactory

URL = "/api/email/identities"
MOTO_DKIM_TOKENS = [  # what moto's VerifyDomainDkim always answers
    "vvjuipp74whm76gqoni7qmwwn4w4qusjiainivf6sf",
    "3frqe7jn4obpuxjpwpolz6ipb3k5nvt2nhjpik2oy",
    "wrqplteh7oodxnad7hsl4mixg2uavzneazxv5sxi2",
]


@pytest.fixture
def plain_staff(db: Any) -> Any:
    """Staff without any model permission: identities ask for staff only."""
    return UserFactory(is_staff=True)


@pytest.fixture
def staff_api(plain_staff: Any) -> APIClient:
    client = APIClient()
    client.force_authenticate(plain_staff)
    return client


@pytest.fixture
def default_domain(settings: Any) -> str:
    return parseaddr(settings.DEFAULT_FROM_EMAIL)[1].rpartition("@")[2]


def _by_name(response: Any) -> dict[str, dict[str, Any]]:
    return {i["identity"]: i for i in response.json()["data"]["identities"]}


def _ses_unreachable(settings: Any) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        closed_port = sock.getsockname()[1]
    settings.AWS_SES_REGION_ENDPOINT_URL = f"http://127.0.0.1:{closed_port}"
    settings.AWS_SES_CONFIG = Config(retries={"max_attempts": 1, "mode": "standard"}, connect_timeout=1)


def test_staff_list_the_identities_with_the_default_from_domain_verified(
    ses: Any, staff_api: APIClient, default_domain: str
) -> None:
    response = staff_api.get(URL)

    assert response.status_code == 200
    assert response.json()["success"] is True
    assert _by_name(response) == {
        default_domain: {
            "identity": default_domain,
            "type": "domain",
            "verified": True,
            "status": "Success",
            "dkim": {"enabled": True, "status": "Success", "tokens": MOTO_DKIM_TOKENS},
        }
    }


def test_staff_add_a_domain_and_get_the_dns_records_to_publish(ses: Any, staff_api: APIClient) -> None:
    staff_api.get(URL)  # the list is cached now
    assert cache.get(IDENTITIES_CACHE_KEY) is not None

    response = staff_api.post(URL, {"identity": "Mail.Sales.Example"}, format="json")

    assert response.status_code == 201
    data = response.json()["data"]
    assert data["identity"] == "mail.sales.example" and data["type"] == "domain"
    assert data["records"][0] == {"type": "TXT", "name": "_amazonses.mail.sales.example",
                                  "value": "QTKknzFg2J4ygwa+XvHAxUl1hyHoY0gVfZdfjIedHZ0="}  # fmt: skip
    assert data["records"][1:] == [
        {"type": "CNAME", "name": f"{t}._domainkey.mail.sales.example", "value": f"{t}.dkim.amazonses.com"}
        for t in MOTO_DKIM_TOKENS
    ]
    assert "mail.sales.example" in data["note"]
    assert cache.get(IDENTITIES_CACHE_KEY) is None
    listed = _by_name(staff_api.get(URL))["mail.sales.example"]
    assert listed["type"] == "domain" and listed["verified"] is True  # moto verifies at once; SES says Pending


def test_staff_add_an_address_which_needs_no_dns_record(ses: Any, staff_api: APIClient) -> None:
    response = staff_api.post(URL, {"identity": "Jane.Doe@Partner.Example"}, format="json")

    assert response.status_code == 201
    data = response.json()["data"]
    assert data == {**data, "identity": "Jane.Doe@partner.example", "type": "email", "records": []}
    assert "verification link" in data["note"]
    assert _by_name(staff_api.get(URL))["Jane.Doe@partner.example"]["type"] == "email"


@pytest.mark.parametrize(
    ("identity", "codes"),
    [
        ("", 1),
        ("localhost", 1),
        ("-bad-.example", 1),
        ("under_score.example", 1),
        ("crm.example.com\x00", 1),
        ("crm.example.com\r\nX: y", 1),
        ("10.0.0.1", 1),
        ("bücher.example", 1),
        ("a." * 126 + "example", 1),
        ("-nodot", 2),
        ("not an address@", 1),
        ("jane@localhost", 1),
    ],
)
def test_a_bad_identity_is_a_field_error_and_nothing_is_asked_of_ses(
    ses: Any, staff_api: APIClient, identity: str, codes: int
) -> None:
    response = staff_api.post(URL, {"identity": identity}, format="json")

    assert response.status_code == 400
    details = response.json()["details"]
    assert [tuple(d["path"]) for d in details] == [("identity",)] * codes
    assert set(ses.email_identities) == {"crm.example.com"}


def test_identities_are_for_staff_only(ses: Any, api: APIClient) -> None:
    assert api.get(URL).status_code == 403
    assert api.post(URL, {"identity": "evil.example"}, format="json").status_code == 403
    assert "evil.example" not in ses.email_identities


def test_anonymous_callers_are_asked_to_authenticate(ses: Any) -> None:
    assert APIClient().get(URL).status_code == 401
    assert APIClient().post(URL, {"identity": "evil.example"}, format="json").status_code == 401


def test_ses_down_is_a_503(ses: Any, settings: Any, staff_api: APIClient) -> None:
    _ses_unreachable(settings)

    listed = staff_api.get(URL)
    added = staff_api.post(URL, {"identity": "new.example"}, format="json")

    assert (listed.status_code, added.status_code) == (503, 503)
    assert listed.json() == {"success": False, "error": "SES is unavailable; try again shortly."}


def test_the_list_is_cached_and_asked_again_when_old(ses: Any, settings: Any) -> None:
    first = identities_list()
    ses.verify_domain("behind.the.cache.example")  # as if added elsewhere (the console)

    assert identities_list() == first
    settings.SES_IDENTITIES_CACHE_SECONDS = 0
    assert "behind.the.cache.example" in {i["identity"] for i in identities_list()}


def test_more_identities_than_one_ses_call_takes_are_asked_in_chunks(ses: Any) -> None:
    for n in range(SES_ATTRIBUTES_BATCH + 5):
        ses.verify_email_identity(f"sender{n}@bulk.example")

    identities = identities_list()

    assert len(identities) == SES_ATTRIBUTES_BATCH + 6
    assert all(i["verified"] for i in identities)
    assert identities[0]["type"] == "domain"


# --- sender_check: a send's `from` -------------------------------------------------------------------------


def test_an_empty_from_is_the_configured_default(ses: Any, settings: Any) -> None:
    settings.DEFAULT_FROM_EMAIL = "Unverified <noreply@unverified.example>"  # configuration: not checked
    assert sender_check("") == ("Unverified <noreply@unverified.example>", None)
    assert sender_check("  ") == ("Unverified <noreply@unverified.example>", None)


def test_an_address_at_a_verified_domain_is_accepted(ses: Any, default_domain: str) -> None:
    assert sender_check(f"sales@{default_domain}") == (f"sales@{default_domain}", None)
    assert sender_check(f"sales@{default_domain.upper()}") == (f"sales@{default_domain.upper()}", None)


def test_a_verified_address_is_accepted_but_not_its_neighbours(ses: Any) -> None:
    identity_verify("jane@partner.example")

    assert sender_check("jane@partner.example") == ("jane@partner.example", None)
    header, problem = sender_check("john@partner.example")
    assert header == "" and problem is not None and problem.startswith("john@partner.example is not a verified")


def test_an_unverified_sender_is_refused_naming_the_verified_ones(ses: Any, default_domain: str) -> None:
    assert sender_check("sales@other.example") == (
        "",
        f"sales@other.example is not a verified sender. Verified: {default_domain}.",
    )


def test_a_display_name_is_kept_and_quoted_as_a_header_needs(ses: Any, default_domain: str) -> None:
    assert sender_check(f"Sales Team <sales@{default_domain}>") == (f"Sales Team <sales@{default_domain}>", None)
    assert sender_check(f'"Doe, Jane" <jane@{default_domain}>') == (f'"Doe, Jane" <jane@{default_domain}>', None)
    assert sender_check(f"Jürgen <j@{default_domain}>") == (f"Jürgen <j@{default_domain}>", None)


@pytest.mark.parametrize(
    "value",
    [
        "sales@crm.example.com\r\nBcc: b@y.com",
        "sales@crm.example.com\nBcc: b@y.com",
        "Sales <sales@crm.example.com>\x00",
        "sales@crm.example.com, other@crm.example.com",
        "Sales <sales@crm.example.com>, other@crm.example.com",
        "sales@crm.example.com other@crm.example.com",
        "junk sales@crm.example.com",
        "(comment) sales@crm.example.com",
        "Sales <sales@crm.example.com> trailing",
        "not an address",
        "Sales <>",
    ],
)
def test_anything_but_one_mailbox_on_one_line_is_refused(ses: Any, value: str) -> None:
    header, problem = sender_check(value)
    assert header == "" and problem


def test_checking_a_sender_reads_the_cache_not_ses(ses: Any, settings: Any, default_domain: str) -> None:
    identities_list()
    _ses_unreachable(settings)

    assert sender_check(f"sales@{default_domain}") == (f"sales@{default_domain}", None)


def test_while_ses_is_down_the_last_list_judges_and_without_one_the_sender_is_refused(
    ses: Any, settings: Any, default_domain: str
) -> None:
    identities_list()
    settings.SES_IDENTITIES_CACHE_SECONDS = 0
    _ses_unreachable(settings)

    assert sender_check(f"sales@{default_domain}") == (f"sales@{default_domain}", None)
    assert cache.get(IDENTITIES_CACHE_KEY)["retry_after"] > time.time()  # the next sends do not wait on SES
    assert identities_known()[0]["identity"] == default_domain
    cache.clear()
    header, problem = sender_check(f"sales@{default_domain}")
    assert (
        header == ""
        and problem == f"sales@{default_domain} could not be checked: SES is unavailable; try again shortly."
    )


# --- the page ----------------------------------------------------------------------------------------------


def test_staff_see_the_identities_page_and_add_a_domain(ses: Any, client: Client, plain_staff: Any) -> None:
    client.force_login(plain_staff)

    page = client.get("/identities")
    added = client.post("/identities", {"identity": "news.example"})

    assert page.status_code == 200
    html = page.content.decode().replace("<wbr>", "")  # the page lets long names break after their dots
    assert 'id="identities-table"' in html and "crm.example.com" in html and "Verified" in html
    assert 'aria-describedby="id_identity_helptext"' in html and 'id="id_identity_helptext"' in html
    assert added.status_code == 200
    body = added.content.decode().replace("<wbr>", "")
    assert "_amazonses.news.example" in body and f"{MOTO_DKIM_TOKENS[0]}.dkim.amazonses.com" in body
    assert "news.example" in ses.email_identities


def test_a_bad_identity_on_the_page_is_shown_on_its_field_which_takes_the_focus(
    ses: Any, client: Client, plain_staff: Any
) -> None:
    client.force_login(plain_staff)

    response = client.post("/identities", {"identity": "localhost"})

    assert response.status_code == 400
    html = response.content.decode()
    assert 'id="id_identity_errors"' in html and "at least one dot" in html
    assert 'aria-describedby="id_identity_errors id_identity_helptext"' in html and "autofocus" in html


def test_the_identities_page_is_for_staff_only(ses: Any, client: Client, user: Any) -> None:
    anonymous = client.get("/identities")
    client.force_login(user)

    assert anonymous.status_code == 302 and "/login" in anonymous["Location"]
    assert client.get("/identities").status_code == 403
    assert client.post("/identities", {"identity": "evil.example"}).status_code == 403
    assert "evil.example" not in ses.email_identities
