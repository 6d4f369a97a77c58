"""A message's page (outcomes, recipients filtered and paged) and how the page and the log follow mail in flight."""

from __future__ import annotations

import html
import re
import uuid
from datetime import timedelta
from typing import Any

from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from emails.models import Message
from tests.emails.test_analytics import events, send
from tests.emails.test_pages import make_message


def _page(client: Client, message: Message, query: str = "") -> str:
    response = client.get(reverse("emails:detail", args=[message.pk]) + query)
    assert response.status_code == 200
    return response.content.decode()


def _live(client: Client, message: Message, query: str = "") -> Any:
    return client.get(reverse("emails:message-live", args=[message.pk]) + query)


def _poll_url(page: str) -> str:
    return html.unescape(re.search(r'<div id="message-live" hx-get="([^"]+)"', page).group(1))


def _shown_addresses(page: str) -> list[str]:
    table = re.search(r'id="recipients-table">(.*?)</table>', page, re.S).group(1)
    return re.findall(r'<td class="addr nowrap"><a href="/contacts/[^"]+">([^<]+)</a>', table)


def _outcomes(page: str) -> dict[str, int]:
    found = re.search(r'id="message-outcomes"[^>]*>(.*?)</p>', page, re.S)
    assert found, "no outcomes breakdown"
    chip = r'recipientStatus=(\w+)#recipients".*?<span class="chip-count">(\d+)</span>'
    chips = re.findall(chip, found.group(1), re.S)
    return {status: int(n) for status, n in chips}


def test_the_page_breaks_recipients_down_by_outcome_problems_first(
    post_email: Any, ses: Any, sns: None, signed_in: Client
) -> None:
    to = ["a@example.com", "b@example.com", "c@example.com", "d@example.com"]
    message = send(post_email, to)
    events(message, ("Delivery", to[:2]), ("Bounce", to[2:3]))

    page = _page(signed_in, message)

    assert _outcomes(page) == {"bounced": 1, "delivered": 2, "sent": 1}
    assert list(_outcomes(page)) == ["bounced", "delivered", "sent"]  # the order shown
    assert _shown_addresses(page) == to
    assert '<a href="/contacts/a@example.com">a@example.com</a>' in page


def test_recipients_are_filtered_by_status(post_email: Any, ses: Any, sns: None, signed_in: Client) -> None:
    to = ["a@example.com", "b@example.com", "c@example.com"]
    message = send(post_email, to)
    events(message, ("Bounce", to[1:2]))

    page = _page(signed_in, message, "?recipientStatus=bounced")

    assert _shown_addresses(page) == ["b@example.com"]
    assert '<span class="count">1 of 3</span>' in page
    assert '<option value="bounced" selected>Bounced (1)</option>' in page
    # A status nobody has shows everyone rather than failing; none matching says so.
    assert _shown_addresses(_page(signed_in, message, "?recipientStatus=nonsense")) == to
    assert "No recipient is delivered." in _page(signed_in, message, "?recipientStatus=delivered")


def test_recipients_are_paged(signed_in: Client, user: Any) -> None:
    to = tuple(f"r{i:03}@example.com" for i in range(120))
    message = make_message(user, to=to)

    first, third = _page(signed_in, message), _page(signed_in, message, "?rpage=3")

    assert _shown_addresses(first) == list(to[:50])
    assert _shown_addresses(third) == list(to[100:])
    assert "101\u2013120 of 120" in third and "3 / 3" in third
    assert 'href="?rpage=2#recipients"' in third
    polled = _live(signed_in, message, "?rpage=3&said=Sent").content.decode()
    assert 'href="?rpage=2#recipients"' in polled  # the poll's own parameter stays out of the page's links
    assert _shown_addresses(_page(signed_in, message, "?rpage=x")) == list(to[:50])  # not a page: the first


def test_a_message_in_flight_is_polled_until_it_settles(
    post_email: Any, ses: Any, sns: None, signed_in: Client, settings: Any
) -> None:
    settings.PAGES_LIVE_POLL_SECONDS = 7
    to = ["a@example.com", "b@example.com"]
    message = send(post_email, to)  # sent: SES has not reported on either yet

    page = _page(signed_in, message, "?recipientStatus=sent")
    poll = _poll_url(page)
    assert poll.startswith(f"/emails/{message.pk}/live?recipientStatus=sent&said=Sent%3A+2+sent")
    assert 'hx-trigger="every 7s' in page and '<p id="live-status" class="visually-hidden" role="status">' in page
    assert "/static/vendor/htmx-2.0.11.min.js" in page
    unchanged = signed_in.get(poll).content.decode()
    assert "live-status" not in unchanged  # nothing new: nothing said

    events(message, ("Delivery", to[:1]))
    response = signed_in.get(poll)
    assert response.status_code == 200
    fragment = response.content.decode()
    assert fragment.lstrip().startswith('<div id="message-live" hx-get=')  # still one to hear of
    assert "<html" not in fragment and "<iframe" not in fragment  # only the changing part
    assert _shown_addresses(fragment) == ["b@example.com"]  # the poll keeps the page's filter
    # A screen reader is told, once, in the region outside what was redrawn.
    assert '<p id="live-status" hx-swap-oob="innerHTML">Sent: 1 delivered, 1 sent</p>' in fragment
    assert "live-status" not in signed_in.get(_poll_url(fragment)).content.decode()

    events(message, ("Bounce", to[1:]))
    fragment = signed_in.get(_poll_url(fragment)).content.decode()
    assert fragment.lstrip().startswith('<div id="message-live">')  # settled: no trigger, the poll stops
    assert _outcomes(fragment) == {"bounced": 1, "delivered": 1}
    assert ">Bounced: 1 bounced, 1 delivered</p>" in fragment
    assert "hx-get" not in _page(signed_in, message) and "htmx" not in _page(signed_in, message)


def test_a_message_sent_long_ago_is_not_polled(signed_in: Client, user: Any) -> None:
    message = make_message(user)  # sent, never reported on
    Message.objects.filter(pk=message.pk).update(sent_at=timezone.now() - timedelta(minutes=16))
    assert "hx-get" not in _page(signed_in, message)

    Message.objects.filter(pk=message.pk).update(sent_at=timezone.now() - timedelta(minutes=1))
    assert 'id="message-live" hx-get=' in _page(signed_in, message)

    queued = make_message(user, status="queued")
    assert 'id="message-live" hx-get=' in _page(signed_in, queued)


def test_nobody_else_polls_a_message(signed_in: Client, other_user: Any) -> None:
    theirs = make_message(other_user, status="queued")
    assert _live(signed_in, theirs).status_code == 404
    assert signed_in.get(f"/emails/{uuid.uuid4()}/live").status_code == 404
    signed_in.logout()
    assert _live(signed_in, theirs).status_code == 302


# --- The log's poll -------------------------------------------------------------------------------


def _poller(page: str) -> str:
    found = re.search(r'<div id="log-live" hidden[^>]*>', page)
    assert found, "no poller"
    return found.group(0)


def test_the_log_polls_only_its_rows_in_flight(signed_in: Client, user: Any, settings: Any) -> None:
    settings.PAGES_LIVE_POLL_SECONDS = 5
    queued = make_message(user, subject="Queued", status="queued")
    old = make_message(user, subject="Old", status="sent")
    Message.objects.filter(pk=old.pk).update(sent_at=timezone.now() - timedelta(hours=2))

    page = signed_in.get("/emails").content.decode()

    poller = _poller(page)
    assert f'hx-get="/emails/live?id={queued.pk}"' in poller and 'hx-trigger="every 5s' in poller
    assert str(old.pk) not in poller
    assert f'<tr id="row-{queued.pk}">' in page and f'<tr id="row-{old.pk}">' in page
    assert "/static/vendor/htmx-2.0.11.min.js" in page


def test_the_log_poll_redraws_those_rows_out_of_band_and_stops(signed_in: Client, user: Any) -> None:
    first = make_message(user, subject="First", status="queued")
    second = make_message(user, subject="Second", status="queued")
    url = f"/emails/live?id={first.pk}&id={second.pk}"

    fragment = signed_in.get(url).content.decode()
    assert f'<tr id="row-{first.pk}" hx-swap-oob="true">' in fragment
    assert f'<tr id="row-{second.pk}" hx-swap-oob="true">' in fragment
    assert fragment.count("<template>") == 1  # a lone <tr> survives HTML parsing only inside one
    assert f"id={first.pk}" in _poller(fragment) and f"id={second.pk}" in _poller(fragment)

    Message.objects.filter(pk=first.pk).update(status="failed")
    fragment = signed_in.get(url).content.decode()
    assert f'<tr id="row-{first.pk}" hx-swap-oob="true">' in fragment  # redrawn once more, as it ended ...
    assert "Failed" in fragment
    assert f"id={first.pk}" not in _poller(fragment)  # ... and asked for no more
    assert f'hx-get="/emails/live?id={second.pk}"' in _poller(fragment)

    Message.objects.filter(pk=second.pk).update(status="failed")
    assert "hx-get" not in _poller(signed_in.get(url).content.decode())


def test_the_log_poll_shows_only_the_users_messages_and_ignores_junk(
    signed_in: Client, user: Any, other_user: Any
) -> None:
    mine = make_message(user, status="queued")
    theirs = make_message(other_user, subject="Secret", status="queued")

    response = signed_in.get(f"/emails/live?id={mine.pk}&id={theirs.pk}&id=not-a-uuid&id=")

    assert response.status_code == 200
    fragment = response.content.decode()
    assert f"row-{mine.pk}" in fragment
    assert str(theirs.pk) not in fragment and "Secret" not in fragment
    assert "hx-get" not in _poller(signed_in.get("/emails/live").content.decode())  # nothing asked: nothing polled


def _queries(client: Client, url: str) -> int:
    """What a poll costs once warm: the first request also reads the user's permissions into the cache."""
    assert client.get(url).status_code == 200
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured)


def test_a_poll_costs_the_same_queries_whatever_it_redraws(signed_in: Client, user: Any) -> None:
    few = [make_message(user, status="queued", to=("a@example.com", "b@example.com")) for _ in range(2)]
    many = [
        *few,
        *(
            make_message(user, status="queued", to=("c@example.com", "d@example.com", "e@example.com"))
            for _ in range(18)
        ),
    ]
    assert _queries(signed_in, "/emails/live?" + "&".join(f"id={m.pk}" for m in few)) == _queries(
        signed_in, "/emails/live?" + "&".join(f"id={m.pk}" for m in many)
    )

    small = make_message(user, status="queued", to=("a@example.com",))
    large = make_message(user, status="queued", to=tuple(f"r{i}@example.com" for i in range(80)))
    url = "emails:message-live"
    assert _queries(signed_in, reverse(url, args=[small.pk])) == _queries(signed_in, reverse(url, args=[large.pk]))


def test_a_poll_after_the_session_ended_reloads_the_page(signed_in: Client, user: Any) -> None:
    message = make_message(user, status="queued")
    signed_in.logout()
    for url in (reverse("emails:message-live", args=[message.pk]), f"/emails/live?id={message.pk}"):
        response = signed_in.get(url, headers={"HX-Request": "true"})
        assert (response.status_code, response["HX-Refresh"]) == (204, "true")  # not the login form, drawn inside
        assert signed_in.get(url).status_code == 302  # a plain request is sent to sign in
