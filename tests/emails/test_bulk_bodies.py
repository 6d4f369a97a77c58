"""A bulk of plain variables stores no bodies: each message's are rendered again from the bulk, byte for byte."""

from __future__ import annotations

import email
import email.policy
from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from rest_framework.test import APIClient

from emails.accepting import email_resend
from emails.models import Bulk, Message
from emails.privacy import contact_erase, message_bodies_remove
from emails.templating import Compiled, bodies_stored, message_bodies, template_save
from emails.templating.bodies import _bulk_compiled
from emails.templating.services import TemplateDraft

pytestmark = pytest.mark.django_db

STYLED = """<html><head><style>
  .box { color: #123456; padding: 4px; }
  @media (max-width: 480px) { .box { padding: 1px; } }
</style></head><body><div class="box"><p>Dear {{ name }},</p><p>Invoice {{ number }} for {{ name }}.</p>
<table><tr><td class="box">{{ product_name }}</td></tr></table></div></body></html>"""
DATA = [
    {"name": "Ann", "number": "7"},
    {"name": 'O\'Brien & <Co> "q"', "number": "{0} {name} }}"},
    {"name": "Zoë Ærø \U0001f600", "number": "  padded  "},
]


@pytest.fixture
def post_bulk(api: APIClient, django_capture_on_commit_callbacks: Any) -> Any:
    def post(run: bool = False, **payload: Any) -> list[Message]:
        body = {"name": "Bodies", "subject": "Invoice {{ number }} for {{ name }}", "htmlContent": STYLED,
                "category": "notification",
                "recipients": [{"to": f"p{i}@example.com", "templateData": d} for i, d in enumerate(DATA)],
                **payload}  # fmt: skip
        with django_capture_on_commit_callbacks(execute=run):
            response = api.post("/api/email/bulk", body, format="json")
        assert response.status_code == 202, response.json()
        return list(Message.objects.filter(bulk_id=response.json()["data"]["bulkId"]).order_by("bulk_index"))

    return post


def _size(subject: str, html: str, text: str) -> int:
    return len(subject.encode()) + len(html.encode()) + len(text.encode())


def test_plain_variables_store_no_bodies_and_render_what_accepting_each_would(post_bulk: Any) -> None:
    messages = post_bulk()
    compiled = Compiled(subject="Invoice {{ number }} for {{ name }}", html=STYLED, text="")
    assert compiled.bodies_repeatable  # the CSS inlined into the source once, the text derived from it once
    for message, data in zip(messages, DATA, strict=True):
        assert (message.html_body, message.text_body) == ("", "") and not bodies_stored(message)
        expected = compiled.render(data)
        assert message_bodies(message) == (expected.html, expected.text)
        assert message.subject == expected.subject
        assert message.size == _size(expected.subject, expected.html, expected.text)
    html, text = message_bodies(messages[1])
    assert "Dear O&#x27;Brien &amp; &lt;Co&gt; &quot;q&quot;," in html and "<Co>" not in html
    assert "Invoice {0} {name} }}" in html and "Dear O'Brien & <Co>" in text
    assert "color: #123456" in html  # inlined
    assert "Dear Zoë Ærø \U0001f600," in message_bodies(messages[2])[1]


def test_a_template_with_tags_or_filters_stores_its_bodies(post_bulk: Any) -> None:
    messages = post_bulk(htmlContent="<p>{% if name %}Dear {{ name|upper }}{% endif %}</p>")
    assert all(bodies_stored(m) for m in messages)
    assert messages[0].html_body == "<p>Dear ANN</p>"
    assert message_bodies(messages[0]) == (messages[0].html_body, messages[0].text_body)


def test_the_bodies_stay_as_accepted_when_the_template_and_the_product_name_change(
    user: Any, api: APIClient, settings: Any, django_capture_on_commit_callbacks: Any
) -> None:
    settings.PRODUCT_NAME = "Before"
    template = template_save(
        draft=TemplateDraft(slug="invoice", name="Invoice", subject="Invoice {{ number }}", html=STYLED, text="",
                            category="notification"),
        by=user,
    )  # fmt: skip
    with django_capture_on_commit_callbacks(execute=False):
        response = api.post("/api/email/bulk", {"name": "T", "templateId": "invoice", "category": "notification",
                                                "recipients": [{"to": "a@example.com", "templateData": DATA[0]}]},
                            format="json")  # fmt: skip
    message = Message.objects.get(bulk_id=response.json()["data"]["bulkId"])
    before = message_bodies(message)
    assert "Before" in before[0] and not bodies_stored(message)
    template_save(draft=TemplateDraft(slug="invoice", name="Invoice", subject="x", html="<p>Changed {{ name }}</p>",
                                      text="", category="notification"), by=user, template=template)  # fmt: skip
    settings.PRODUCT_NAME = "After"
    _bulk_compiled.cache_clear()  # read from the bulk again, not from this process's cache
    assert message_bodies(message) == before
    bulk = Bulk.objects.get(pk=message.bulk_id)
    assert (bulk.html_source, bulk.provided) == (STYLED, {"product_name": "Before"})


def test_the_api_the_message_page_and_what_is_sent_show_the_rendered_bodies(
    post_bulk: Any, api: APIClient, user: Any, ses: Any
) -> None:
    messages = post_bulk(run=True)
    html, text = message_bodies(messages[1])
    detail = api.get(f"/api/email/{messages[1].pk}").json()["data"]
    assert (detail["htmlContent"], detail["textContent"]) == (html, text)
    page = Client()
    page.force_login(user)
    shown = page.get(f"/emails/{messages[1].pk}").content.decode()
    assert "Dear O&#x27;Brien &amp; &lt;Co&gt; &quot;q&quot;," in shown  # the text part, escaped once by the page
    assert "Dear O&#x27;Brien &amp;amp; &amp;lt;Co&amp;gt;" in shown  # the sanitised HTML, escaped again (srcdoc)
    sent = [email.message_from_string(str(m.raw_data), policy=email.policy.default) for m in ses.sent_messages]
    [mine] = [m for m in sent if "p1@example.com" in str(m["To"])]
    assert mine.get_body(preferencelist=("plain",)).get_content().replace("\r\n", "\n") == text
    assert "Dear O&#x27;Brien &amp; &lt;Co&gt;" in mine.get_body(preferencelist=("html",)).get_content()


def test_the_admin_shows_the_rendered_bodies(post_bulk: Any, admin_client: Client) -> None:
    message = post_bulk()[1]
    page = admin_client.get(f"/admin/emails/message/{message.pk}/change/").content.decode()
    assert "Dear O&#x27;Brien &amp; &lt;Co&gt; &quot;q&quot;," in page  # the text body, escaped by the admin


def test_a_resend_stores_the_bodies_it_was_sent_with(post_bulk: Any, user: Any, ses: Any) -> None:
    message = post_bulk(run=True)[0]
    message.refresh_from_db()
    result = email_resend(message=message, by=user, which="all")
    copy = Message.objects.get(pk=result.message.pk)
    assert (copy.html_body, copy.text_body) == message_bodies(message) and copy.bulk_id is None


def test_erasure_and_retention_leave_nothing_to_render(post_bulk: Any) -> None:
    rows = [{"to": "jane@example.com", "templateData": {"name": "jane@example.com", "number": "1"}},
            {"to": "bob@example.com", "templateData": DATA[0]}]  # fmt: skip
    erased, sent = post_bulk(recipients=rows)  # queued: not sent yet
    assert "jane@example.com" in message_bodies(erased)[0] and not bodies_stored(erased)
    contact_erase(address="jane@example.com")  # her one recipient: not sent, so the message is done
    erased.refresh_from_db()
    assert erased.body_removed_at and erased.template_data == {} and message_bodies(erased) == ("", "")
    Message.objects.filter(pk=sent.pk).update(status="sent")
    assert message_bodies_remove(days=1, now=sent.created_at + timedelta(days=2)) == 1
    sent.refresh_from_db()
    assert sent.body_removed_at and sent.template_data == {} and message_bodies(sent) == ("", "")


def test_one_instance_is_rendered_once_for_both_bodies_until_its_data_changes(post_bulk: Any, monkeypatch: Any) -> None:
    message = post_bulk()[0]
    renders: list[dict[str, Any]] = []
    render = Compiled.render

    def counted(self: Compiled, data: dict[str, Any]) -> Any:
        renders.append(data)
        return render(self, data)

    monkeypatch.setattr(Compiled, "render", counted)
    html, text = message_bodies(message)
    assert message_bodies(message) == (html, text) and len(renders) == 1
    message.template_data = {"name": "Bea", "number": "8"}
    assert "Dear Bea," in message_bodies(message)[0] and len(renders) == 2
