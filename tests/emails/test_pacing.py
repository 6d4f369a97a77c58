"""Pacing: reservations on one timeline keep all workers under the send rate."""

from __future__ import annotations

from typing import Any

import pytest

from emails.delivery import pacing
from emails.delivery.pacing import send_rate, send_slot_reserve


@pytest.fixture
def fresh_local_timeline(monkeypatch: Any, settings: Any) -> None:
    settings.EMAIL_PACE_REDIS_URL = ""
    monkeypatch.setattr(pacing, "_local_free_at", 0.0)
    monkeypatch.setattr(pacing, "_local_started", pacing._Started())


def test_calls_are_spaced_by_their_recipients_over_the_rate(fresh_local_timeline: None) -> None:
    first = send_slot_reserve(recipients=50, rate=10)
    second = send_slot_reserve(recipients=5, rate=10)
    third = send_slot_reserve(recipients=1, rate=10)

    assert first == 0
    # The second waits for the first call's 50 recipients at 10/s (less the
    # moment that passed between the calls).
    assert second == pytest.approx(5.0, abs=0.3)
    assert third == pytest.approx(5.5, abs=0.3)
    assert third > second


def test_the_rate_is_ses_max_send_rate_or_a_lower_configured_one(ses: Any, settings: Any) -> None:
    from django.core.cache import cache

    cache.clear()
    settings.EMAIL_MAX_SEND_RATE = 0
    assert send_rate() == 1.0  # moto's sandbox MaxSendRate
    settings.EMAIL_MAX_SEND_RATE = 0.5
    assert send_rate() == 0.5
    settings.EMAIL_MAX_SEND_RATE = 14
    assert send_rate() == 1.0  # a configured rate only ever lowers SES's


def test_workers_share_one_timeline_in_redis(settings: Any, redis_url: str) -> None:
    import redis

    client = redis.Redis.from_url(redis_url)
    settings.EMAIL_PACE_REDIS_URL = redis_url

    waits = [send_slot_reserve(recipients=10, rate=10) for _ in range(3)]

    # One-second slots, one after another on Redis's clock.
    assert waits[0] == pytest.approx(0, abs=0.3)
    assert waits[1] == pytest.approx(1.0, abs=0.3)
    assert waits[2] == pytest.approx(2.0, abs=0.3)
    assert float(client.get(pacing.PACE_KEY) or 0) > 0
    client.delete(pacing.PACE_KEY)


def test_a_paced_send_still_delivers(post_email: Any, ses: Any, settings: Any, fresh_local_timeline: None) -> None:
    settings.EMAIL_PACE_SENDS = True
    settings.EMAIL_PACE_USE_SES_QUOTA = False
    settings.EMAIL_MAX_SEND_RATE = 1000
    response = post_email({"to": "a@example.com", "subject": "Hi", "textContent": "x", "category": "auth"})
    assert response.status_code == 201
    assert len(ses.sent_messages) == 1
    assert pacing._local_free_at > 0  # the call reserved its slot


def test_a_paced_send_killed_while_it_waits_for_its_slot_resends_nothing_already_sent(
    api: Any, ses: Any, settings: Any, monkeypatch: Any, fresh_local_timeline: None
) -> None:
    """H1: the first call's outcome was written only after the whole message, so a worker killed in the wait
    before the second call left those 50 unrecorded, and the next worker sent them again."""
    from datetime import timedelta

    from django.utils import timezone

    from emails.delivery import email_drain, email_sweep
    from emails.delivery.records import SendRecorder
    from emails.models import Event, Message

    settings.EMAIL_PACE_SENDS = True
    settings.EMAIL_PACE_USE_SES_QUOTA = False
    settings.EMAIL_MAX_SEND_RATE = 10  # the second call waits 5 s for the first one's 50
    to = [f"u{i}@example.com" for i in range(90)]
    api.post("/api/email", {"to": to[:50], "cc": to[50:], "subject": "Hi", "textContent": "x",
                            "category": "notification"}, format="json")  # fmt: skip
    seen_in_the_wait: list[tuple[int, int]] = []

    def killed(seconds: float) -> None:
        # What a SIGKILL now leaves: what is in the database, and no more
        # code of this worker (not even its finally blocks) runs.
        message = Message.objects.get()
        seen_in_the_wait.append((message.recipients.filter(status="sent").count(), message.sent_count))
        monkeypatch.setattr(SendRecorder, "flush", lambda self, wait=False: None)
        raise SystemExit("worker killed while it waited for its slot")

    monkeypatch.setattr(pacing, "pause", killed)
    with pytest.raises(SystemExit):
        email_drain()

    # In the wait the first call was on record, and the message's page said 50 sent.
    assert seen_in_the_wait == [(50, 50)]
    assert len(ses.sent_messages) == 1
    monkeypatch.undo()
    monkeypatch.setattr(pacing, "pause", lambda seconds: None)
    settings.EMAIL_PACE_SENDS = False
    Message.objects.update(lease_until=timezone.now() - timedelta(seconds=1))  # the dead worker's lease ran out
    email_sweep()
    email_drain()

    message = Message.objects.get()
    assert message.status == "sent" and message.sent_count == 90
    assert len(ses.sent_messages) == 2  # the first group was not sent again
    assert Event.objects.filter(message=message, type="send").count() == 90


def test_the_timeline_keeps_a_headroom_so_no_second_holds_more_than_the_rate(
    settings: Any, fresh_local_timeline: None
) -> None:
    """P5 measured 101 sends in one second at a rate of 100: slots spaced at exactly the rate let the 101st call
    fall within a second of the first whenever the first woke up later after its slot than the 101st did."""
    settings.EMAIL_PACE_SENDS = True
    settings.EMAIL_PACE_USE_SES_QUOTA = False
    settings.EMAIL_MAX_SEND_RATE = 100
    settings.EMAIL_PACE_HEADROOM = 0.01

    pacing.send_pace_reserve(recipients=1)
    first_ends = pacing._local_free_at
    for _ in range(100):
        pacing.send_pace_reserve(recipients=1)

    # The 101st slot starts 100 slots of 1/99 s after the first one's start: more than a second later.
    assert pacing._local_free_at - first_ends == pytest.approx(100 / 99)
    assert pacing._local_free_at - first_ends > 1.0


def _late_second(settings: Any) -> float:
    """100 calls that left within the last moment, at a rate of 100, their slots long past (their workers woke
    up late): the wait of the 101st."""
    settings.EMAIL_PACE_SENDS = True
    settings.EMAIL_PACE_USE_SES_QUOTA = False
    settings.EMAIL_MAX_SEND_RATE = 100
    for _ in range(100):
        pacing.send_started(recipients=1)
    return pacing.send_pace_reserve(recipients=1)


def test_a_call_waits_until_the_second_before_it_has_room_however_late_the_calls_in_it_left(
    settings: Any, fresh_local_timeline: None
) -> None:
    """P5 still saw 101 in a second under load: the spacing holds only if every worker wakes on time."""
    wait = _late_second(settings)
    assert 0.9 < wait <= 1.0  # until the first of the 100 is a second old
    assert pacing.send_pace_reserve(recipients=1) >= wait  # and the timeline goes on from there


def test_the_log_of_started_calls_keeps_a_seconds_worth_and_their_recipients_total(
    settings: Any, fresh_local_timeline: None
) -> None:
    """The total lets a call that fits under the cap with every kept call skip walking them."""
    settings.EMAIL_PACE_SENDS = True
    settings.EMAIL_PACE_USE_SES_QUOTA = False
    settings.EMAIL_MAX_SEND_RATE = 100
    for _ in range(150):
        pacing.send_started(recipients=2)
    assert len(pacing._local_started.calls) == 100
    assert pacing._local_started.total == 200 == sum(count for _, count in pacing._local_started.calls)


def test_the_second_before_a_call_is_shared_in_redis(settings: Any, redis_url: str) -> None:
    import redis

    client = redis.Redis.from_url(redis_url)
    client.delete(pacing.PACE_KEY, pacing.STARTED_KEY)
    settings.EMAIL_PACE_REDIS_URL = redis_url
    try:
        assert 0.9 < _late_second(settings) <= 1.0
        assert client.llen(pacing.STARTED_KEY) == 100  # no more than a second at the rate holds
        pacing.send_started(recipients=1)
        assert client.llen(pacing.STARTED_KEY) == 100
    finally:
        client.delete(pacing.PACE_KEY, pacing.STARTED_KEY)


def test_a_paced_call_waits_until_its_slot_not_for_its_wait_after_writing(
    api: Any, ses: Any, settings: Any, monkeypatch: Any
) -> None:
    """P5: the write before a wait took 5 to 20 ms, then the whole wait followed, so calls that waited left late."""
    from emails.delivery import email_drain, send
    from emails.delivery.records import SendRecorder

    settings.EMAIL_PACE_SENDS = True
    api.post("/api/email", {"to": "a@example.com", "subject": "Hi", "textContent": "x", "category": "auth"},
             format="json")  # fmt: skip
    clock = [1000.0]
    monkeypatch.setattr(send, "time", type("Clock", (), {"monotonic": staticmethod(lambda: clock[0])}))
    monkeypatch.setattr(pacing, "send_pace_reserve", lambda *, recipients: 5.0)  # its slot: 5 s from now
    real_flush = SendRecorder.flush

    def slow_flush(self: SendRecorder, wait: bool = False) -> None:
        clock[0] += 2.0  # the write takes 2 of those seconds
        real_flush(self, wait=wait)

    monkeypatch.setattr(SendRecorder, "flush", slow_flush)
    paused: list[float] = []
    monkeypatch.setattr(pacing, "pause", paused.append)
    email_drain()

    assert paused == [3.0]
    assert len(ses.sent_messages) == 1
