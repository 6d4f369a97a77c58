"""Bulk sends: one message per person, personalised; skipped rows; progress; pause, resume, cancel, retry; report."""

from __future__ import annotations

import csv
import io
from datetime import timedelta
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from emails.choices import MessageStatus, RecipientStatus
from emails.delivery import email_claim_batch, email_drain, email_sweep
from emails.delivery.retry import scheduled_release
from emails.models import Bulk, Message, Recipient
from emails.suppression import suppression_add
from emails.templating import message_bodies

pytestmark = pytest.mark.django_db

HTML = "<p>Dear {{ name }},</p><p>Invoice {{ number }} is due on {{ due }}.</p>"


def people(count: int, **extra: Any) -> list[dict[str, Any]]:
    return [{"to": f"p{i}@example.com", "templateData": {"name": f"Person {i}", "number": str(i), "due": "1 Jan"},
             **extra} for i in range(count)]  # fmt: skip


def body(**overrides: Any) -> dict[str, Any]:
    return {"name": "January invoices", "subject": "Invoice {{ number }} for {{ name }}", "htmlContent": HTML,
            "category": "notification", "recipients": people(3), **overrides}  # fmt: skip


@pytest.fixture
def post_bulk(api: APIClient, django_capture_on_commit_callbacks: Any) -> Any:
    def post(payload: dict[str, Any], client: APIClient | None = None, run: bool = True) -> Any:
        with django_capture_on_commit_callbacks(execute=run):
            return (client or api).post("/api/email/bulk", payload, format="json")

    return post


def details(response: Any) -> dict[tuple[Any, ...], str]:
    return {tuple(d["path"]): d["message"] for d in response.json()["details"]}


def test_each_person_gets_their_own_message_with_their_own_name_escaped(post_bulk: Any, ses: Any) -> None:
    rows = people(2)
    rows[1]["templateData"]["name"] = "<b>Bo</b>"
    response = post_bulk(body(recipients=rows))
    assert response.status_code == 202, response.json()
    data = response.json()["data"]
    assert (data["total"], data["accepted"], data["skipped"]) == (2, 2, [])
    first, second = Message.objects.filter(bulk_id=data["bulkId"]).order_by("bulk_index")
    (first_html, _), (second_html, second_text) = message_bodies(first), message_bodies(second)
    assert first.subject == "Invoice 0 for Person 0" and "Dear Person 0," in first_html
    assert second.subject == "Invoice 1 for <b>Bo</b>"  # a subject is text
    assert "Dear &lt;b&gt;Bo&lt;/b&gt;," in second_html and "<b>Bo</b>" not in second_html
    assert "Dear <b>Bo</b>," in second_text  # derived from the HTML template, rendered as text
    assert [r.address for r in second.recipients.all()] == ["p1@example.com"]
    assert len(ses.sent_messages) == 2  # delivered by the usual drain


def test_a_bulk_is_accepted_under_a_debug_cursor(post_bulk: Any) -> None:
    # DEBUG, or a test counting queries, formats each statement with its parameters: the bulk's INSERTs too.
    with CaptureQueriesContext(connection) as queries:
        response = post_bulk(body(recipients=people(3)), run=False)
    assert response.status_code == 202, response.json()
    assert Message.objects.filter(bulk_id=response.json()["data"]["bulkId"]).count() == 3
    if connection.vendor == "sqlite":  # PostgreSQL takes the rows by COPY, which the debug cursor does not see
        assert any("p2@example.com" in query["sql"] for query in queries.captured_queries)


def test_a_bulks_message_ids_are_time_ordered(post_bulk: Any, monkeypatch: Any) -> None:
    monkeypatch.setattr("emails.accepting.bulk.CHUNK", 2)  # three chunks, each with its own ids
    response = post_bulk(body(recipients=people(5)), run=False)
    messages = list(Message.objects.filter(bulk_id=response.json()["data"]["bulkId"]).order_by("bulk_index"))
    assert len({m.pk for m in messages}) == 5 and {m.pk.version for m in messages} == {7}
    # Each id starts with the time it was made, in milliseconds: never earlier than the chunk before's, and about
    # its row's time.
    made = [m.pk.int >> 80 for m in messages]
    assert made == sorted(made)
    assert all(abs(ms - m.created_at.timestamp() * 1000) < 60_000 for ms, m in zip(made, messages, strict=True))


def test_bad_rows_are_skipped_by_index_and_never_fail_the_rest(post_bulk: Any, ses: Any) -> None:
    suppression_add(address="gone@example.com", reason="bounce")
    rows = [
        {"to": "ok@example.com", "templateData": {"name": "A", "number": "1", "due": "x"}},
        {"to": "not an address", "templateData": {}},
        {"to": "OK@example.com", "templateData": {"name": "dup", "number": "2", "due": "x"}},
        "not an object",
        {"to": "data@example.com", "templateData": "not an object"},
        {"to": "gone@example.com", "templateData": {"name": "G", "number": "3", "due": "x"}},
        {"to": "late@example.com", "templateData": {"name": "L", "number": "4"}},
    ]
    response = post_bulk(body(recipients=rows))
    data = response.json()["data"]
    assert (data["total"], data["accepted"]) == (7, 2)
    reasons = {s["index"]: s["reason"] for s in data["skipped"]}
    assert set(reasons) == {1, 2, 3, 4, 6}
    assert reasons[6] == "The template needs 'due'."  # inline templates' variables are required as well
    assert "valid email address" in reasons[1] and "duplicate" in reasons[2]
    assert "object" in reasons[3] and "templateData must be an object" in reasons[4]
    gone = Recipient.objects.get(address="gone@example.com")
    assert gone.status == RecipientStatus.SUPPRESSED  # accepted, and ended suppressed by the worker


def test_a_stored_template_names_its_missing_variables_per_row(post_bulk: Any, ses: Any) -> None:
    rows = [{"to": "a@example.com", "templateData": {"name": "A", "resetUrl": "https://x.example/r"}},
            {"to": "b@example.com", "templateData": {"name": "B"}}]  # fmt: skip
    response = post_bulk({"name": "Resets", "templateId": "password-reset", "category": "auth", "recipients": rows})
    data = response.json()["data"]
    assert data["accepted"] == 1
    assert data["skipped"] == [{"index": 1, "to": "b@example.com", "reason": "The template needs 'resetUrl'."}]
    message = Message.objects.get()
    assert message.template.slug == "password-reset" and message.template_version == 1


@pytest.mark.parametrize(
    ("overrides", "path"),
    [
        ({"recipients": []}, ("recipients",)),
        ({"recipients": None}, ("recipients",)),
        ({"category": "spam"}, ("category",)),
        ({"subject": "", "templateId": ""}, ("subject",)),
        ({"htmlContent": ""}, ("content",)),
        ({"name": ""}, ("name",)),
        ({"htmlContent": "{% if x %}"}, ("content",)),
        ({"sendAt": "2020-01-01T00:00:00Z"}, ("sendAt",)),
        ({"templateId": "no-such"}, ("templateId",)),
    ],
)
def test_a_request_bad_as_a_whole_is_a_400_and_stores_nothing(
    post_bulk: Any, overrides: dict[str, Any], path: tuple[str, ...]
) -> None:
    payload = {k: v for k, v in body(**overrides).items() if v is not None}
    response = post_bulk(payload)
    assert response.status_code == 400, response.json()
    assert path in details(response)
    assert not Bulk.objects.exists() and not Message.objects.exists()


def test_more_than_100000_recipients_is_refused(post_bulk: Any, settings: Any, monkeypatch: Any) -> None:
    monkeypatch.setattr("emails.accepting.bulk.MAX_BULK_RECIPIENTS", 5)  # the rule, not 100,001 rows
    response = post_bulk(body(recipients=people(6)))
    assert response.status_code == 400 and ("recipients",) in details(response)
    assert not Message.objects.exists()


def summary(api: APIClient, bulk_id: str) -> dict[str, Any]:
    response = api.get(f"/api/email/bulk/{bulk_id}")
    assert response.status_code == 200
    return response.json()["data"]


def test_progress_reaches_100_and_done(post_bulk: Any, api: APIClient, ses: Any) -> None:
    bulk_id = post_bulk(body(recipients=people(4)), run=False).json()["data"]["bulkId"]
    queued = summary(api, bulk_id)
    assert (queued["status"], queued["progress"], queued["counts"]["queued"]) == ("queued", 0, 4)
    email_drain(limit=2)
    half = summary(api, bulk_id)
    assert (half["status"], half["progress"], half["counts"]["sent"]) == ("sending", 50, 2)
    email_drain()
    done = summary(api, bulk_id)
    assert (done["status"], done["progress"], done["counts"]["sent"]) == ("done", 100, 4)
    assert done["startedAt"] and done["finishedAt"]
    listed = api.get("/api/email/bulk").json()["data"]["bulks"]
    assert [b["bulkId"] for b in listed] == [bulk_id]


def test_pause_resume_and_cancel(post_bulk: Any, api: APIClient, ses: Any) -> None:
    bulk_id = post_bulk(body(recipients=people(5)), run=False).json()["data"]["bulkId"]
    email_drain(limit=1)
    paused = api.post(f"/api/email/bulk/{bulk_id}/pause")
    assert paused.status_code == 200 and paused.json()["data"]["status"] == "paused"
    assert email_drain() == 0  # nothing is claimed while paused
    assert api.post(f"/api/email/bulk/{bulk_id}/pause").status_code == 409
    resumed = api.post(f"/api/email/bulk/{bulk_id}/resume")
    assert resumed.status_code == 200 and resumed.json()["data"]["status"] == "sending"  # one went before the pause
    email_drain(limit=1)
    cancelled = api.post(f"/api/email/bulk/{bulk_id}/cancel").json()["data"]
    assert cancelled["status"] == "cancelled"
    assert cancelled["counts"]["cancelled"] == 3
    assert cancelled["counts"]["sent"] == 2
    assert email_drain() == 0 and len(ses.sent_messages) == 2
    assert api.post(f"/api/email/bulk/{bulk_id}/cancel").status_code == 409
    assert api.post(f"/api/email/bulk/{bulk_id}/resume").status_code == 409


def test_a_scheduled_bulk_cancelled_before_its_time_sends_nothing(post_bulk: Any, api: APIClient, ses: Any) -> None:
    send_at = (timezone.now() + timedelta(hours=2)).isoformat()
    bulk_id = post_bulk(body(sendAt=send_at)).json()["data"]["bulkId"]
    assert summary(api, bulk_id)["status"] == "scheduled"
    assert api.post(f"/api/email/bulk/{bulk_id}/cancel").json()["data"]["status"] == "cancelled"
    Message.objects.update(send_after=timezone.now() - timedelta(seconds=1))

    assert scheduled_release() == 0
    assert email_drain() == 0 and ses.sent_messages == []


def test_retry_failed_sends_only_the_failed_messages_again(post_bulk: Any, api: APIClient, ses: Any) -> None:
    bulk_id = post_bulk(body(recipients=people(3))).json()["data"]["bulkId"]
    failed = Message.objects.filter(bulk_id=bulk_id).order_by("bulk_index")[1]
    Message.objects.filter(pk=failed.pk).update(status=MessageStatus.FAILED, sent_count=0, failed_count=1)
    Recipient.objects.filter(message=failed).update(status=RecipientStatus.FAILED, reason="MessageRejected")
    sent_before = len(ses.sent_messages)
    response = api.post(f"/api/email/bulk/{bulk_id}/retry-failed")
    assert response.status_code == 200 and response.json()["message"] == "1 message queued again"
    email_drain()
    assert len(ses.sent_messages) == sent_before + 1
    assert Message.objects.get(pk=failed.pk).status == MessageStatus.SENT
    assert api.post(f"/api/email/bulk/{bulk_id}/retry-failed").status_code == 409


def test_the_report_has_every_row_in_order(post_bulk: Any, api: APIClient, ses: Any) -> None:
    rows = people(3)
    rows.insert(1, {"to": "=HYPERLINK(1)@x", "templateData": {}})
    bulk_id = post_bulk(body(recipients=rows)).json()["data"]["bulkId"]
    response = api.get(f"/api/email/bulk/{bulk_id}/report.csv")
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    lines = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert lines[0][:6] == ["index", "address", "name", "status", "reason", "sesMessageId"]
    assert [(line[0], line[1], line[3]) for line in lines[1:]] == [
        ("0", "p0@example.com", "sent"), ("1", "'=HYPERLINK(1)@x", "skipped"), ("2", "p1@example.com", "sent"),
        ("3", "p2@example.com", "sent"),
    ]  # fmt: skip
    assert all(line[5] for line in lines[1:] if line[3] == "sent")  # SES's id
    assert [line[6] for line in lines[1:]] == ["send", "", "send", "send"]  # each one's last event
    assert "valid email address" in lines[2][4]  # the skipped row says why


def test_another_users_bulk_is_a_404(post_bulk: Any, other_user: Any) -> None:
    bulk_id = post_bulk(body()).json()["data"]["bulkId"]
    other = APIClient()
    other.force_authenticate(other_user)
    base = f"/api/email/bulk/{bulk_id}"
    assert other.get(base).status_code == 404
    assert other.get(f"{base}/report.csv").status_code == 404
    for change in ("pause", "resume", "cancel", "retry-failed"):
        assert other.post(f"{base}/{change}").status_code == 404
    assert other.get("/api/email/bulk").json()["data"]["bulks"] == []


def test_urgent_mail_is_claimed_before_a_bulk_queued_earlier(post_bulk: Any, api: APIClient) -> None:
    post_bulk(body(recipients=people(30), priority="low"), run=False)
    urgent = api.post("/api/email", {"to": "ceo@example.com", "subject": "Now", "textContent": "!",
                                     "category": "auth", "priority": "urgent"}, format="json")  # fmt: skip
    claimed = email_claim_batch(limit=5)
    assert str(claimed[0].pk) == urgent.json()["data"]["messageId"]
    assert len(claimed) == 5


def test_urgent_mail_queued_mid_batch_leaves_before_the_rest_of_the_batch(
    post_bulk: Any, api: APIClient, ses: Any, settings: Any, monkeypatch: Any
) -> None:
    """P5: a draining worker looked for urgent mail only when it claimed its next batch, so with every worker
    draining, a password reset waited for a whole batch (11.7 s behind 4 workers at 100/s)."""
    from emails.delivery import send

    settings.EMAIL_DRAIN_BATCH_SIZE = 5
    settings.EMAIL_DRAIN_URGENT_CHECK_SECONDS = 0  # look between every two messages
    post_bulk(body(recipients=people(5), priority="low"), run=False)
    order: list[str] = []
    real_send = send.ses_send

    def ses_send(*, connection: Any, email: Any) -> str:
        order.append(email.to[0])
        if len(order) == 2:  # queued while the worker holds the bulk's batch of 5
            api.post("/api/email", {"to": "ceo@example.com", "subject": "Reset", "textContent": "!",
                                    "category": "auth", "priority": "urgent"}, format="json")  # fmt: skip
        return real_send(connection=connection, email=email)

    monkeypatch.setattr(send, "ses_send", ses_send)
    email_drain()

    assert order == ["p0@example.com", "p1@example.com", "ceo@example.com",
                     "p2@example.com", "p3@example.com", "p4@example.com"]  # fmt: skip
    assert Message.objects.filter(status=MessageStatus.SENT).count() == 6


def test_the_log_lists_a_bulks_messages(post_bulk: Any, api: APIClient) -> None:
    bulk_id = post_bulk(body(recipients=people(2)), run=False).json()["data"]["bulkId"]
    api.post("/api/email", {"to": "x@example.com", "subject": "Other", "textContent": "!", "category": "auth"},
             format="json")  # fmt: skip
    listed = api.get(f"/api/email?bulkId={bulk_id}").json()["data"]["emails"]
    assert sorted(m["subject"] for m in listed) == ["Invoice 0 for Person 0", "Invoice 1 for Person 1"]
    assert api.get("/api/email?bulkId=nope").status_code == 400


def test_seeing_everyones_bulks_is_not_changing_them(post_bulk: Any, staff_user: Any) -> None:
    bulk_id = post_bulk(body(), run=False).json()["data"]["bulkId"]
    auditor = APIClient()
    auditor.force_authenticate(staff_user)
    assert auditor.get(f"/api/email/bulk/{bulk_id}").status_code == 200
    assert auditor.post(f"/api/email/bulk/{bulk_id}/pause").status_code == 403


@pytest.mark.django_db(transaction=True)
def test_the_command_sends_a_bulk_from_a_csv_file_with_a_progress_bar(tmp_path: Any, user: Any, ses: Any) -> None:
    path = tmp_path / "people.csv"
    path.write_text("email,name,number\nann@example.com,Ann,1\nbad,Bad,2\nbob@example.com,Bob,3\n", encoding="utf-8")
    html = tmp_path / "body.html"
    html.write_text("<p>Hi {{ name }}, number {{ number }}</p>", encoding="utf-8")
    out = io.StringIO()
    # Outside a test's transaction, as a command runs: the drains it schedules run when its chunks commit.
    call_command("email_bulk", str(path), "--subject", "For {{ name }}", "--html-file", str(html),
                 "--category", "notification", "--user", user.username, "--follow", stdout=out)  # fmt: skip
    text = out.getvalue()
    assert "stored [" + "#" * 40 + "] 3/3 (100%)" in text
    assert "2 of 3 rows accepted" in text and "row 1 (bad) skipped" in text
    assert "sent [" + "#" * 40 + "] 100/100 (100%)" in text and "Bulk done" in text
    assert sorted(m.subject for m in Message.objects.all()) == ["For Ann", "For Bob"]
    with pytest.raises(CommandError, match="content"):
        call_command("email_bulk", str(path), "--subject", "x", "--category", "notification", "--user",
                     user.username, stdout=io.StringIO())  # fmt: skip


def test_the_sweep_drains_a_bulk_whose_worker_died(post_bulk: Any, ses: Any, settings: Any,
                                                    django_capture_on_commit_callbacks: Any) -> None:  # fmt: skip
    settings.EMAIL_DRAIN_BATCH_SIZE = 20
    bulk_id = post_bulk(body(recipients=people(60)), run=False).json()["data"]["bulkId"]  # its drains were lost
    Message.objects.update(created_at=timezone.now() - timedelta(minutes=5))
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        assert email_sweep() == 60
    assert len(callbacks) == 3  # three drains, not sixty sends
    assert Message.objects.filter(bulk_id=bulk_id, status=MessageStatus.SENT).count() == 60


def test_analytics_of_one_bulk(post_bulk: Any, api: APIClient, ses: Any) -> None:
    bulk_id = post_bulk(body(recipients=people(3))).json()["data"]["bulkId"]
    api.post("/api/email", {"to": "x@example.com", "subject": "Other", "textContent": "!", "category": "auth"},
             format="json")  # fmt: skip
    rates = api.get(f"/api/email/analytics?bulkId={bulk_id}").json()["data"]["rates"]
    assert rates["sent"] == 3
    assert api.get("/api/email/analytics?bulkId=nope").status_code == 400


def test_a_draining_worker_looks_for_urgent_mail_once_per_interval() -> None:
    from emails.delivery.send import UrgentWatch

    now = [100.0]
    watch = UrgentWatch(every=1.0, clock=lambda: now[0])
    looks = []
    for step in range(25):  # 2.5 s of messages, 0.1 s each
        now[0] = 100.0 + step * 0.1
        looks.append(watch.due())
    assert [i for i, looked in enumerate(looks) if looked] == [10, 20]
