"""emails.delivery.mime: what a batch shares when it is serialised changes no byte that leaves.

A batch's messages are folded by one HeaderFolds policy and get their
boundaries before the generator runs; each must serialise as Django's own
message does (the same headers, folded the same way, the same parts), and a
boundary that shows up in the text must still be left to the generator.
"""

from __future__ import annotations

import email
import email.policy
import re
from email.mime.application import MIMEApplication
from email.policy import compat32
from typing import Any

import pytest
from django.core.mail import EmailMultiAlternatives
from django_ses import get_message_bytes
from hypothesis import given, settings
from hypothesis import strategies as st

from emails.delivery import email_drain, mime
from emails.delivery.mime import HeaderFolds, email_build
from emails.models import Message, Recipient

pytestmark = pytest.mark.django_db

HEADERS = [
    ("From", "Billing <billing@crm.example.com>"),
    ("Subject", "Your statement #7 is ready, " + "very long words " * 8),  # longer than a line: folded
    ("Subject", "=?utf-8?q?Caf=C3=A9_au_lait?="),
    ("To", ", ".join(f"Person {i} <p{i}@example.com>" for i in range(6))),
    ("Content-Type", 'text/plain; charset="utf-8"'),
]
_SHARED = HeaderFolds()
SERIAL = re.compile(rb"^(Date|Message-ID): .*$|={15}\d{19}==(\.\d+)?", re.MULTILINE)


@pytest.mark.parametrize(("name", "value"), HEADERS)
@pytest.mark.parametrize("linesep", ["\n", "\r\n"])
def test_a_header_is_folded_as_compat32_folds_it_the_first_time_and_after(name: str, value: str, linesep: str) -> None:
    folds = HeaderFolds()
    expected = compat32.clone(linesep=linesep).fold_binary(name, value)
    assert folds.clone(linesep=linesep).fold_binary(name, value) == expected
    assert folds.clone(linesep=linesep).fold_binary(name, value) == expected  # from the clones' shared store
    other = "\r\n" if linesep == "\n" else "\n"  # the settings are part of the key
    assert folds.clone(linesep=other).fold_binary(name, value) == compat32.clone(linesep=other).fold_binary(name, value)


@settings(max_examples=500, deadline=None)
@given(
    name=st.sampled_from(["To", "Date", "Message-ID", "X-SES-MESSAGE-TAGS", "Subject", "From", "Reply-To"]),
    value=st.one_of(
        st.text(alphabet=st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=90),
        st.text(alphabet=' \t=?:;,<>"abc\u00e9\r\n', max_size=90),
        st.integers(50, 90).map(lambda size: ("word " * 20)[:size]),  # words about a line long: folded or not
    ),
)
def test_any_header_is_folded_as_compat32_folds_it(name: str, value: str) -> None:
    expected: Any
    try:
        expected = compat32.clone(linesep="\r\n").fold_binary(name, value)
    except Exception as exc:  # (an embedded header): HeaderFolds must refuse it too
        expected = type(exc)
    for _ in range(2):  # folded, then (for a header kept) read from the store every example shares
        try:
            got: Any = _SHARED.clone(linesep="\r\n").fold_binary(name, value)
        except Exception as exc:
            got = type(exc)
        assert got == expected


def _as_django_serialises(built: EmailMultiAlternatives) -> bytes:
    """What Django's own message() gives for the same email (compat32, boundaries from the generator)."""
    return EmailMultiAlternatives.message(built).as_bytes(linesep="\r\n")


def _comparable(raw: bytes) -> bytes:
    return SERIAL.sub(b"-", raw)


def _contents(parsed: Any) -> list[str]:
    return [part.get_content().replace("\r\n", "\n") for part in parsed.iter_parts()]


def _messages(count: int, **fields: Any) -> list[tuple[Message, Recipient]]:
    made = []
    for index in range(count):
        message = Message(
            subject=f"Caf\u00e9 statement {index}" + " for a long subject" * 4,
            from_email="Acme Billing \u00c9quipe <billing@crm.example.com>", reply_to="help@crm.example.com",
            category="notification", html_body=f"<p>Hello {index}</p>", text_body=f"Hello {index}\n", **fields,
        )  # fmt: skip
        made.append((message, Recipient(message=message, address=f"p{index}@example.com", display_name=f"P {index}")))
    return made


@pytest.mark.parametrize(
    "text",
    [
        "Hello {index}\n",
        "Caf\u00e9 cr\u00e8me for {index} \U0001f600\n",  # 8-bit UTF-8
        "A line longer than SMTP allows, {index}: " + "x" * 1200 + "\n",  # quoted-printable
    ],
)
def test_a_batchs_messages_serialise_as_djangos_do(text: str) -> None:
    folds = HeaderFolds()
    for index, (message, recipient) in enumerate(_messages(3)):
        message.text_body = text.format(index=index)
        built = email_build(message=message, group=[recipient], header_folds=folds)
        raw = get_message_bytes(built)
        assert _comparable(raw) == _comparable(_as_django_serialises(built))
        parsed = email.message_from_bytes(raw, policy=email.policy.default)
        assert _contents(parsed) == [message.text_body, message.html_body]
        assert str(parsed["Subject"]).strip() == message.subject  # (folded, it is read back after a space)


def _mail(subject: str, sender: str, category: str = "notification", **fields: str) -> Message:
    return Message(subject=subject, from_email=sender, category=category, **fields)


def _shapes() -> list[tuple[str, Message, list[Recipient]]]:
    """Messages of every shape the drain sends, each with the group one SES call takes."""
    many = _mail("Minutes", "Board <board@crm.example.com>", html_body="<p>Minutes</p>", text_body="Minutes\n",
                 reply_to="Sekret\u00e4r <sec@crm.example.com>")  # fmt: skip
    group = [Recipient(message=many, kind="to", address=f"member{i}@example.com", display_name=f"M\u00fcller {i}")
             for i in range(45)]  # fmt: skip
    group += [Recipient(message=many, kind="cc", address=f"cc{i}@example.com") for i in range(4)]
    group.append(Recipient(message=many, kind="bcc", address="audit@example.com"))
    news = _mail("Our spring news", "news@crm.example.com", "marketing", html_body="<p>News</p>", text_body="News\n")
    html_only = _mail("Receipt", "shop@crm.example.com", html_body="<p>Receipt</p>")
    text_only = _mail("Code 123456", "login@crm.example.com", text_body="Your code is 123456\n")
    return [
        ("50 addresses in To, Cc and Bcc", many, group),
        ("marketing, with its unsubscribe headers", news, [Recipient(message=news, address="reader@example.com")]),
        ("HTML only", html_only, [Recipient(message=html_only, address="buyer@example.com")]),
        ("text only", text_only, [Recipient(message=text_only, address="user@example.com")]),
    ]


@pytest.mark.parametrize("shape", range(4))
def test_every_shape_serialises_as_djangos_does_twice_in_a_batch(shape: int) -> None:
    folds = HeaderFolds()
    _, message, group = _shapes()[shape]
    for _ in range(2):  # the second from what the first folded
        built = email_build(message=message, group=group, header_folds=folds)
        raw = get_message_bytes(built)
        assert _comparable(raw) == _comparable(_as_django_serialises(built))
    assert (b"List-Unsubscribe-Post" in raw) == (message.category == "marketing")


def test_a_boundary_found_in_the_text_is_left_to_the_generator(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(mime, "_token", lambda: 42)  # (the generator still draws its own)
    planted = "=" * 15 + f"{42:019d}=="
    ((message, recipient),) = _messages(1)
    message.text_body = f"Try this:\n--{planted}\nand the rest\n"
    built = email_build(message=message, group=[recipient], header_folds=HeaderFolds())
    msg = built.message()
    assert msg.get_boundary() is None  # not chosen here: the generator will check it line by line
    parsed = email.message_from_bytes(msg.as_bytes(linesep="\r\n"), policy=email.policy.default)
    assert _contents(parsed) == [message.text_body, message.html_body]


def test_a_boundary_not_in_the_text_is_chosen_before_the_generator() -> None:
    ((message, recipient),) = _messages(1)
    msg = email_build(message=message, group=[recipient]).message()
    assert re.fullmatch(r"={15}\d{19}==", msg.get_boundary() or "")


def test_mail_with_attachments_has_its_boundaries_from_the_generator() -> None:
    ((message, recipient),) = _messages(1)
    part = MIMEApplication(b"\x00\x01 any bytes", Name="r\u00e9sum\u00e9.bin")
    built = email_build(message=message, group=[recipient], attachments=[part], header_folds=HeaderFolds())
    assert built.message().get_boundary() is None
    raw = get_message_bytes(built)
    parsed = email.message_from_bytes(raw, policy=email.policy.default)
    assert [p.get_content_type() for p in parsed.walk()][1:] == [
        "multipart/alternative", "text/plain", "text/html", "application/octet-stream",
    ]  # fmt: skip
    assert _comparable(raw) == _comparable(_as_django_serialises(built))


def test_the_drain_folds_a_batchs_shared_headers_once(api: Any, ses: Any, monkeypatch: Any) -> None:
    folded: list[str] = []
    fold = email.policy.Compat32.fold_binary

    def counting(self: Any, name: str, value: Any) -> bytes:
        folded.append(name)
        return fold(self, name, value)

    monkeypatch.setattr(email.policy.Compat32, "fold_binary", counting)
    # A subject too long for one line, the same for all three: folded by compat32 once. Each message's tags header
    # (its own id) is too long as well: folded for each. Short ASCII headers need no folding at all.
    subject = "A subject long enough to be folded onto a second line of the header, the same for all"
    payload = {"subject": subject, "textContent": "Hello", "htmlContent": "<p>Hello</p>", "category": "notification"}
    for index in range(3):
        # Queued, not yet sent (what the commit schedules does not run): one drain takes all three in one batch.
        assert api.post("/api/email", {**payload, "to": f"p{index}@example.com"}, format="json").status_code == 201
    assert email_drain(limit=10) == 3

    assert len(ses.sent_messages) == 3
    assert folded.count("Subject") == 1 and folded.count("X-SES-MESSAGE-TAGS") == 3
    assert "To" not in folded and "Date" not in folded


def test_a_batch_keeps_only_the_headers_its_messages_share() -> None:
    """Each message's own headers (its recipients, id, tags) are never kept: they are not reused, and would hold the
    batch's addresses until it ends. Neither does the policy's repr show what it holds."""
    folds = HeaderFolds()
    for message, _ in _messages(3):
        group = [
            Recipient(message=message, address=f"member{i}@example.com", display_name="A Member") for i in range(6)
        ]
        get_message_bytes(email_build(message=message, group=group, header_folds=folds))
    kept = {name for name, *_ in folds._folded}  # type: ignore[attr-defined]
    assert kept and not kept & {"To", "Cc", "Date", "Message-ID", "X-SES-MESSAGE-TAGS"}
    assert "member0@example.com" not in repr(folds)
