"""The staff's web pages: composer, email log (and its CSV), message page."""

from __future__ import annotations

import csv
import html
import io
import re
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from emails.models import Message, Recipient, Template
from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

COMPOSE = "/"
LOG = "/emails"
EXPORT = "/emails/export.csv"


# --- Helpers --------------------------------------------------------------


def field_errors(page: str, name: str) -> list[str]:
    """The inline error messages rendered next to field `name` (or the "content" slot)."""
    ul_id = "content_errors" if name == "content" else f"id_{name}_errors"
    match = re.search(rf'<ul class="field-errors" id="{ul_id}"[^>]*>(.*?)</ul>', page, re.S)
    if not match:
        return []
    return [html.unescape(item) for item in re.findall(r"<li>(.*?)</li>", match.group(1), re.S)]


def make_message(
    owner: Any,
    *,
    subject: str = "Hello",
    status: str = "sent",
    category: str = "notification",
    priority: str = "normal",
    to: tuple[str, ...] = ("client@example.com",),
    cc: tuple[str, ...] = (),
    client_id: str = "",
    cost: str = "0.0001",
    created_at: datetime | None = None,
    recipient_status: str = "sent",
) -> Message:
    message = Message.objects.create(
        owner=owner,
        from_email="CRM <noreply@crm.example.com>",
        subject=subject,
        text_body="Hi",
        category=category,
        priority=priority,
        status=status,
        client_id=client_id,
        recipient_count=len(to) + len(cc),
        sent_count=len(to) + len(cc) if status == "sent" else 0,
        cost=Decimal(cost),
    )
    rows = [("to", a) for a in to] + [("cc", a) for a in cc]
    Recipient.objects.bulk_create(
        Recipient(message=message, kind=kind, address=address, position=i, status=recipient_status)
        for i, (kind, address) in enumerate(rows)
    )
    if created_at is not None:
        Message.objects.filter(pk=message.pk).update(created_at=created_at)
        message.refresh_from_db()
    return message


@pytest.fixture
def compose(signed_in: Client, django_capture_on_commit_callbacks: Any) -> Any:
    """POST the composer and run what the commit scheduled (the delivery)."""

    def post(**fields: str) -> Any:
        data = {"priority": "normal", **fields}
        with django_capture_on_commit_callbacks(execute=True):
            return signed_in.post(COMPOSE, data)

    return post


# --- Access ---------------------------------------------------------------


@pytest.mark.parametrize("path", [COMPOSE, "/compose", LOG, EXPORT, "/emails/00000000-0000-0000-0000-000000000000"])
def test_pages_require_sign_in(client: Client, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_sign_in_page_signs_in_and_lands_on_the_log(client: Client, user: Any) -> None:
    page = client.get("/accounts/login/")
    assert page.status_code == 200
    assert b'name="username"' in page.content and b"csrfmiddlewaretoken" in page.content
    response = client.post("/accounts/login/", {"username": user.username, "password": PASSWORD})
    assert response.status_code == 302
    assert response["Location"] == reverse("emails:log")


def test_sign_in_with_a_wrong_password_shows_an_error(client: Client, user: Any) -> None:
    response = client.post("/accounts/login/", {"username": user.username, "password": "nope"})
    assert response.status_code == 200
    assert b"alert-error" in response.content


def test_layout_has_navigation_and_a_logout_form(signed_in: Client, user: Any) -> None:
    page = signed_in.get(LOG).content.decode()
    assert 'href="/"' in page and 'href="/emails"' in page and 'href="/api/docs/"' in page
    assert "/admin/" not in page  # not staff
    assert re.search(
        r'<form method="post" action="/accounts/logout/"[^>]*>\s*<input type="hidden" '
        r'name="csrfmiddlewaretoken"',
        page,
    )
    assert user.username in page
    assert "/static/css/app.css" in page


def test_staff_see_the_admin_link(client: Client, staff_user: Any) -> None:
    client.force_login(staff_user)
    assert b'href="/admin/"' in client.get(LOG).content


def test_csrf_is_enforced_on_the_composer(user: Any) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    response = client.post(
        COMPOSE, {"to": "a@example.com", "subject": "Hi", "htmlContent": "<p>x</p>", "category": "notification"}
    )
    assert response.status_code == 403
    assert Message.objects.count() == 0


# --- Composer -------------------------------------------------------------


def test_composer_renders_its_fields(signed_in: Client) -> None:
    Template.objects.create(slug="quarterly", name="Quarterly report", subject="Q", html="<p>Q</p>")
    for path in (COMPOSE, "/compose"):
        page = signed_in.get(path).content.decode()
        for name in (
            "to",
            "cc",
            "bcc",
            "subject",
            "htmlContent",
            "textContent",
            "templateId",
            "templateData",
            "category",
            "priority",
            "replyTo",
            "clientId",
        ):
            assert f'name="{name}"' in page, name
        assert '<option value="normal" selected>' in page
        assert "Quarterly report</option>" in page
        assert "/static/js/compose.js" in page


def test_composer_sends_through_ses_and_redirects_to_the_message(
    compose: Any, ses: Any, signed_in: Client, user: Any
) -> None:
    response = compose(
        to="Jane Client <Jane@Example.com>, bob@example.com",
        cc="carol@example.com",
        subject="Your invoice",
        htmlContent="<p>Please find your <b>invoice</b>.</p>",
        category="notification",
        priority="high",
        replyTo="billing@crm.example.com",
        clientId="client-42",
    )
    message = Message.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("emails:detail", args=[message.pk])
    assert message.owner == user
    assert message.status == "sent"
    assert message.priority == "high" and message.client_id == "client-42"
    assert message.reply_to == "billing@crm.example.com"
    assert [(r.kind, r.address, r.display_name) for r in message.recipients.all()] == [
        ("to", "jane@example.com", "Jane Client"),
        ("to", "bob@example.com", ""),
        ("cc", "carol@example.com", ""),
    ]
    assert len(ses.sent_messages) == 1

    page = signed_in.get(response["Location"]).content.decode()
    assert "Email queued for 3 recipients." in page  # the flash
    assert "Your invoice" in page
    assert "badge-sent" in page
    assert "client-42" in page


def test_composer_sends_a_template(compose: Any, ses: Any) -> None:
    template = Template.objects.create(
        slug="update", name="Update", subject="{{ title }}", html="<h2>{{ title }}</h2><p>{{ message }}</p>"
    )
    response = compose(
        to="a@example.com",
        templateId=str(template.pk),
        templateData='{"title": "Account update", "message": "All good"}',
        category="notification",
    )
    assert response.status_code == 302, response.content
    message = Message.objects.get()
    assert message.subject == "Account update"
    assert message.status == "sent"
    assert len(ses.sent_messages) == 1


def test_a_large_send_goes_out_in_groups_of_fifty(compose: Any, ses: Any, signed_in: Client) -> None:
    to = ", ".join(f"to{i}@example.com" for i in range(50))
    cc = ", ".join(f"cc{i}@example.com" for i in range(20))
    response = compose(
        to=to, cc=cc, bcc="hidden@example.com", subject="Newsletter", textContent="News", category="notification"
    )
    assert response.status_code == 302
    message = Message.objects.get()
    assert message.recipient_count == 71
    assert len(ses.sent_messages) == 2
    page = signed_in.get(response["Location"]).content.decode()
    assert "this email is sent as 2 SES messages of at most 50 addresses each." in page
    assert "Sent as <strong>2 SES messages</strong>" in page


def _too_many() -> dict[str, str]:
    def addresses(prefix: str, n: int) -> str:
        return ", ".join(f"{prefix}{i}@example.com" for i in range(n))

    return {"to": addresses("to", 50), "cc": addresses("cc", 50), "bcc": addresses("bcc", 1)}


@pytest.mark.parametrize(
    ("fields", "field", "expected"),
    [
        ({"to": "not-an-address"}, "to", "Enter a valid email address"),
        ({"to": "ok@example.com, broken@"}, "to", "Enter a valid email address"),
        ({"to": ""}, "to", "This field is required."),
        ({"cc": "nope"}, "cc", "Enter a valid email address"),
        (_too_many(), "to", "Total recipients cannot exceed 100."),
        ({"to": ", ".join(f"a{i}@example.com" for i in range(51))}, "to", "At most 50 addresses."),
        ({"subject": ""}, "subject", "This field is required."),
        ({"subject": "   "}, "subject", "This field is required."),
        ({"subject": "Hello\r\nBcc: victim@example.com"}, "subject", "Must be a single line"),
        # The page words it for people: no API field names (issue 9).
        ({"htmlContent": "", "textContent": ""}, "content", "Write an HTML body or a text body, or choose a template."),
        ({"category": ""}, "category", "This field is required."),
        ({"category": "spam"}, "category", "is not a valid choice"),
        ({"replyTo": "not an address"}, "replyTo", "Enter a valid email address."),
        ({"templateData": "{not json"}, "templateData", "Enter valid JSON"),
        ({"templateId": "no-such-template"}, "templateId", "No template 'no-such-template'."),
    ],
)
def test_composer_errors_are_shown_inline_and_nothing_is_stored(
    compose: Any, ses: Any, fields: dict[str, str], field: str, expected: str
) -> None:
    data = {
        "to": "client@example.com",
        "subject": "Hello",
        "htmlContent": "<p>Hi</p>",
        "category": "notification",
        **fields,
    }
    response = compose(**data)
    assert response.status_code == 200
    page = response.content.decode()
    errors = field_errors(page, field)
    assert any(expected in error for error in errors), (field, errors)
    assert "The email was not sent" in page
    assert Message.objects.count() == 0
    assert Recipient.objects.count() == 0
    assert ses.sent_messages == []


def test_a_template_that_cannot_render_is_a_content_error(compose: Any, ses: Any) -> None:
    template = Template.objects.create(slug="broken", name="Broken", subject="Hi", html="{% if %}oops{% endif %}")
    response = compose(to="a@example.com", templateId=str(template.pk), category="notification")
    assert response.status_code == 200
    errors = field_errors(response.content.decode(), "content")
    assert errors and errors[0].startswith("The template could not be rendered")
    assert Message.objects.count() == 0
    assert ses.sent_messages == []


def test_composer_keeps_what_was_typed_after_an_error(compose: Any) -> None:
    response = compose(
        to="Jane <jane@example.com>, nope",
        cc="c@example.com",
        subject="Quarterly <report>",
        htmlContent="<p>Body & more</p>",
        textContent="Plain",
        category="marketing",
        priority="urgent",
        replyTo="r@example.com",
        clientId="c-7",
        templateData='{"a": 1}',
    )
    page = response.content.decode()
    assert 'value="Jane &lt;jane@example.com&gt;, nope"' in page
    assert 'value="c@example.com"' in page
    assert 'value="Quarterly &lt;report&gt;"' in page
    assert "&lt;p&gt;Body &amp; more&lt;/p&gt;</textarea>" in page
    assert ">\nPlain</textarea>" in page
    assert '<option value="marketing" selected>' in page
    assert '<option value="urgent" selected>' in page
    assert 'value="r@example.com"' in page and 'value="c-7"' in page
    assert "{&quot;a&quot;: 1}</textarea>" in page
    assert re.search(r'<input type="text" name="to"[^>]*aria-invalid="true"', page)


def test_the_composer_notes_a_split_send_when_it_shows_errors(compose: Any) -> None:
    to = ", ".join(f"to{i}@example.com" for i in range(50))
    cc = ", ".join(f"cc{i}@example.com" for i in range(10))
    page = compose(to=to, cc=cc, subject="", htmlContent="x", category="notification").content.decode()
    note = re.search(r'<div class="note note-info" id="split-note"[^>]*>(.*?)</div>', page, re.S)
    assert note and "hidden" not in note.group(0).split(">")[0]
    assert "sent as 2 SES messages of at most 50 addresses each" in note.group(1)
    assert "Bcc is never shown" in note.group(1)

    # The true reason for marketing: one recipient per call, whatever the count.
    page = compose(to="a@example.com, b@example.com", subject="", htmlContent="x", category="marketing")
    note = re.search(r'id="split-note"[^>]*>(.*?)</div>', page.content.decode(), re.S)
    assert note and "Marketing goes one recipient per call: this email is sent as 2 separate messages" in note.group(1)

    page = compose(to="a@example.com", subject="", htmlContent="x", category="marketing").content.decode()
    assert re.search(r'id="split-note"[^>]*hidden', page)


# --- Message page ---------------------------------------------------------


def test_another_users_message_is_404(signed_in: Client, other_user: Any) -> None:
    message = make_message(other_user)
    assert signed_in.get(reverse("emails:detail", args=[message.pk])).status_code == 404
    assert signed_in.get("/emails/00000000-0000-0000-0000-000000000000").status_code == 404


def test_staff_with_the_permission_see_any_message(client: Client, staff_user: Any, user: Any) -> None:
    message = make_message(user, subject="Theirs")
    client.force_login(staff_user)
    response = client.get(reverse("emails:detail", args=[message.pk]))
    assert response.status_code == 200
    assert b"Theirs" in response.content


def test_message_page_shows_header_recipients_events_and_bodies(compose: Any, ses: Any, signed_in: Client) -> None:
    compose(
        to="Jane <jane@example.com>",
        bcc="secret@example.com",
        subject="Contract",
        category="client-portal",
        htmlContent="<h1>Contract</h1><p>Sign here</p>",
        textContent="Sign here, please",
        clientId="acme",
    )
    message = Message.objects.get()
    page = signed_in.get(reverse("emails:detail", args=[message.pk])).content.decode()
    recipient = message.recipients.get(address="jane@example.com")
    for expected in (
        "Contract",
        "Client portal",
        "Normal priority",
        "noreply@crm.example.com",
        "acme",
        "jane@example.com",
        "secret@example.com",
        "Jane",
        recipient.ses_message_id,
        "Send",
    ):
        assert expected in page, expected
    assert page.count("badge-sent") >= 3  # message and both recipients
    assert '<pre class="text-body">Sign here, please</pre>' in page
    assert re.search(r'<iframe [^>]*sandbox="[^"]*" srcdoc="[^"]*&lt;h1&gt;Contract&lt;/h1&gt;', page)


def test_html_body_is_sanitised_and_sandboxed(compose: Any, ses: Any, signed_in: Client) -> None:
    compose(
        to="a@example.com",
        subject="XSS",
        category="notification",
        htmlContent='<p>Hi</p><script>alert("pwned")</script><img src="x" onerror="alert(1)">'
        '<a href="javascript:alert(2)">link</a>',
    )
    message = Message.objects.get()
    assert "<script>" in message.html_body  # stored as given to SES ...
    page = signed_in.get(reverse("emails:detail", args=[message.pk])).content.decode()
    # ... but never shown as is, not even escaped.
    assert "&lt;script" not in page
    # Only our own static scripts (the vendored libraries, the top bar's menu), never inline ones.
    scripts = re.findall(r"<script[^>]*>", page)
    assert all(tag.startswith(('<script src="/static/vendor/', '<script src="/static/js/')) for tag in scripts)
    assert "pwned" not in page
    assert "onerror" not in page and "javascript:" not in page
    iframe = re.search(r"<iframe [^>]*>", page).group(0)
    # Sandboxed: no script, an opaque origin; only links may open, in a tab of their own.
    assert ' sandbox="allow-popups allow-popups-to-escape-sandbox" ' in iframe
    assert "allow-scripts" not in iframe and "allow-same-origin" not in iframe
    assert 'srcdoc="&lt;p&gt;Hi&lt;/p&gt;&lt;img src=&quot;x&quot;&gt;' in iframe


def test_a_link_in_a_preview_opens_in_a_tab_of_its_own(compose: Any, ses: Any, signed_in: Client) -> None:
    """A link in the sandboxed preview opened nothing: the frame may load no page, and the sandbox let out none."""
    compose(to="a@example.com", subject="Link", category="notification",
            htmlContent='<p><a href="https://example.com/pay" target="_self">Pay</a></p>')  # fmt: skip
    page = signed_in.get(reverse("emails:detail", args=[Message.objects.get().pk])).content.decode()
    assert "&lt;a href=&quot;https://example.com/pay&quot; target=&quot;_blank&quot; rel=&quot;noopener" in page


# --- The log --------------------------------------------------------------


def _rows(page: str) -> list[str]:
    body = re.search(r'<table class="table" id="log-table">.*?<tbody[^>]*>(.*?)</tbody>', page, re.S).group(1)
    return [html.unescape(s) for s in re.findall(r'<td class="subject-cell"><a href="[^"]+">(.*?)</a>', body)]


def test_log_lists_own_messages_with_stats(signed_in: Client, user: Any, other_user: Any) -> None:
    make_message(user, subject="First", to=("a@example.com", "b@example.com", "c@example.com"), cost="0.0003")
    make_message(user, subject="Second", status="failed", category="marketing", cost="0")
    make_message(other_user, subject="Not mine")
    response = signed_in.get(LOG)
    page = response.content.decode()
    assert sorted(_rows(page)) == ["First", "Second"]
    assert 'a@example.com</a> <span class="more"' in page and "+2" in page
    assert '<span class="stat-value" id="stat-total">2</span>' in page
    assert "$0.0003" in page
    assert "badge-failed" in page and "badge-sent" in page
    assert "Marketing" in page
    assert response.context["stats"]["byCategory"] == [
        {"category": "marketing", "count": 1},
        {"category": "notification", "count": 1},
    ]
    assert 'href="/emails/export.csv' in page


def test_log_filters(signed_in: Client, user: Any) -> None:
    old = timezone.now() - timedelta(days=10)
    make_message(user, subject="Old marketing", category="marketing", created_at=old)
    make_message(user, subject="Urgent auth", category="auth", priority="urgent", client_id="c-1")
    make_message(user, subject="Bounced one", status="sent", recipient_status="bounced", to=("bad@example.com",))
    make_message(user, subject="Failed one", status="failed", recipient_status="failed")

    def subjects(query: str) -> list[str]:
        return sorted(_rows(signed_in.get(f"{LOG}?{query}").content.decode()))

    assert subjects("category=marketing") == ["Old marketing"]
    assert subjects("priority=urgent") == ["Urgent auth"]
    assert subjects("status=failed") == ["Failed one"]
    assert subjects("recipientStatus=bounced") == ["Bounced one"]
    assert subjects("clientId=c-1") == ["Urgent auth"]
    assert subjects("search=bad@") == ["Bounced one"]
    assert subjects("search=urgent") == ["Urgent auth"]
    day = (timezone.localdate() - timedelta(days=10)).isoformat()
    assert subjects(f"startDate={day}&endDate={day}") == ["Old marketing"]
    assert "Old marketing" not in subjects(f"startDate={timezone.localdate().isoformat()}")
    # Empty fields, as a GET form submits them, mean "any".
    assert len(subjects("status=&category=&priority=&recipientStatus=&clientId=&startDate=&endDate=&search=")) == 4
    # The chosen filters stay selected in the form.
    page = signed_in.get(f"{LOG}?category=marketing").content.decode()
    assert '<option value="marketing" selected>' in page


@pytest.mark.parametrize(
    ("query", "field", "expected"),
    [
        ("status=bogus", "status", "is not a valid choice"),
        ("startDate=yesterday", "startDate", "Date has wrong format"),
        ("startDate=2024-05-02&endDate=2024-05-01", "endDate", "Must not be before the \u201cFrom\u201d date."),
        ("limit=1000", "limit", "less than or equal to 100"),
    ],
)
def test_an_invalid_filter_is_shown_not_a_500(
    signed_in: Client, user: Any, query: str, field: str, expected: str
) -> None:
    make_message(user)
    response = signed_in.get(f"{LOG}?{query}")
    assert response.status_code == 200
    page = response.content.decode()
    assert any(expected in error for error in field_errors(page, field)), field_errors(page, field)
    assert "These filters are not valid" in page
    assert _rows(page) == []


def test_an_invalid_page_or_sort_is_shown_as_a_form_error(signed_in: Client) -> None:
    page = signed_in.get(f"{LOG}?page=zero&sortBy=password").content.decode()
    assert "page: A valid integer is required." in page
    assert "sortBy: " in page and "is not a valid choice" in page


def test_log_pagination_keeps_filters(signed_in: Client, user: Any) -> None:
    for i in range(25):
        make_message(user, subject=f"Marketing {i:02d}", category="marketing")
    make_message(user, subject="Other", category="auth")
    page1 = signed_in.get(f"{LOG}?category=marketing&limit=10&sortBy=subject&sortOrder=asc").content.decode()
    assert _rows(page1) == [f"Marketing {i:02d}" for i in range(10)]
    assert "1\u201310 of 25" in page1
    next_link = html.unescape(re.search(r'<a class="page-link" rel="next" href="([^"]+)"', page1).group(1))
    assert "category=marketing" in next_link and "limit=10" in next_link and "page=2" in next_link
    assert "sortBy=subject" in next_link
    page3 = signed_in.get(f"{LOG}{next_link}".replace("page=2", "page=3")).content.decode()
    assert _rows(page3) == [f"Marketing {i:02d}" for i in range(20, 25)]
    # Out of range pages show the last page.
    assert _rows(
        signed_in.get(f"{LOG}?category=marketing&limit=10&page=99&sortBy=subject&sortOrder=asc").content.decode()
    ) == _rows(page3)


def test_log_sorting_links(signed_in: Client, user: Any) -> None:
    make_message(user, subject="Bravo", cost="0.2")
    make_message(user, subject="Alpha", cost="0.3")
    make_message(user, subject="Charlie", cost="0.1")
    page = signed_in.get(f"{LOG}?category=notification").content.decode()
    assert _rows(page) == ["Charlie", "Alpha", "Bravo"]  # newest first
    link = html.unescape(re.search(r'<a href="([^"]*sortBy=subject[^"]*)"', page).group(1))
    assert "category=notification" in link and "sortOrder=asc" in link
    page = signed_in.get(f"{LOG}{link}").content.decode()
    assert _rows(page) == ["Alpha", "Bravo", "Charlie"]
    # The active column's link flips the order.
    link = html.unescape(re.search(r'<a href="([^"]*sortBy=subject[^"]*)"', page).group(1))
    assert "sortOrder=desc" in link
    assert _rows(signed_in.get(f"{LOG}?sortBy=cost&sortOrder=desc").content.decode()) == ["Alpha", "Bravo", "Charlie"]


def test_staff_with_the_permission_see_everyones_log_and_can_filter_by_user(
    client: Client, staff_user: Any, user: Any, other_user: Any
) -> None:
    make_message(user, subject="From user")
    make_message(other_user, subject="From other")
    client.force_login(staff_user)
    page = client.get(LOG).content.decode()
    assert sorted(_rows(page)) == ["From other", "From user"]
    assert 'name="userId"' in page
    assert sorted(_rows(client.get(f"{LOG}?userId={user.pk}").content.decode())) == ["From user"]


def test_the_user_filter_is_only_for_staff_with_the_permission(signed_in: Client, user: Any, other_user: Any) -> None:
    make_message(other_user, subject="From other")
    page = signed_in.get(f"{LOG}?userId={other_user.pk}").content.decode()
    assert 'name="userId"' not in page
    assert _rows(page) == []


@pytest.mark.parametrize("staff", [False, True])
def test_log_query_count_does_not_grow_with_rows(
    client: Client, user: Any, staff_user: Any, django_assert_max_num_queries: Any, staff: bool
) -> None:
    for i in range(30):
        make_message(user, subject=f"Message {i}", to=("a@example.com", "b@example.com"), cc=("c@example.com",))
    client.force_login(staff_user if staff else user)
    with django_assert_max_num_queries(12):
        response = client.get(f"{LOG}?limit=50")
    assert len(_rows(response.content.decode())) == 30


# --- CSV export -----------------------------------------------------------


def _csv(response: Any) -> list[list[str]]:
    assert response.streaming
    return list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))


def test_csv_export_streams_the_filtered_log(signed_in: Client, user: Any, other_user: Any) -> None:
    first = make_message(
        user,
        subject="Invoice",
        to=("a@example.com", "b@example.com"),
        cc=("c@example.com",),
        client_id="acme",
        cost="0.0003",
        category="notification",
    )
    make_message(user, subject="Promo", category="marketing")
    make_message(other_user, subject="Not mine", category="notification")
    response = signed_in.get(f"{EXPORT}?category=notification")
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith('attachment; filename="emails-')
    rows = _csv(response)
    assert rows[0] == [
        "message id",
        "created",
        "subject",
        "from",
        "to",
        "cc",
        "category",
        "priority",
        "status",
        "recipients",
        "sent",
        "failed",
        "cost",
        "client id",
    ]
    assert len(rows) == 2
    row = dict(zip(rows[0], rows[1], strict=True))
    assert row["message id"] == str(first.pk)
    assert row["subject"] == "Invoice"
    assert row["from"] == "CRM <noreply@crm.example.com>"
    assert row["to"] == "a@example.com, b@example.com"
    assert row["cc"] == "c@example.com"
    assert (row["category"], row["priority"], row["status"]) == ("notification", "normal", "sent")
    assert (row["recipients"], row["sent"], row["failed"]) == ("3", "3", "0")
    assert row["cost"] == "0.000300"
    assert row["client id"] == "acme"
    assert datetime.fromisoformat(row["created"])


def test_csv_export_guards_against_formula_injection(signed_in: Client, user: Any) -> None:
    for subject in ('=HYPERLINK("http://evil")', "+1+1", "-2+3", "@SUM(A1)", "Plain = fine"):
        make_message(user, subject=subject, client_id="=cmd|' /C calc'!A0")
    rows = _csv(signed_in.get(f"{EXPORT}?sortBy=subject&sortOrder=asc"))
    subjects = sorted(row[2] for row in rows[1:])
    assert subjects == sorted(['\'=HYPERLINK("http://evil")', "'+1+1", "'-2+3", "'@SUM(A1)", "Plain = fine"])
    assert {row[13] for row in rows[1:]} == {"'=cmd|' /C calc'!A0"}


def test_csv_export_rejects_invalid_filters(signed_in: Client) -> None:
    response = signed_in.get(f"{EXPORT}?status=bogus")
    assert response.status_code == 400
    assert b"status" in response.content


def test_csv_export_runs_few_queries(signed_in: Client, user: Any, django_assert_max_num_queries: Any) -> None:
    for i in range(30):
        make_message(user, subject=f"Message {i}")
    with django_assert_max_num_queries(8):
        rows = _csv(signed_in.get(EXPORT))
    assert len(rows) == 31


def test_the_users_full_name_shows_in_the_header(client: Client) -> None:
    person = UserFactory(first_name="Ada", last_name="Lovelace")
    assert client.login(username=person.username, password=PASSWORD)
    assert b'<a class="username" href="/settings"' in client.get(LOG).content  # the name opens one's settings
    assert b"Ada Lovelace" in client.get(LOG).content
