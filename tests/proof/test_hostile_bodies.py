"""Hypothesis throws hostile input at the webhook and the pages: random bytes, JSON nested deep, bodies near and
past the size limit, bad Unicode (lone surrogates, overlong UTF-8, NULs), in raw bodies, query strings and form
fields. Asserted: never a 500, and nothing stored. (tests/test_hostile_bodies.py has the API's fixed cases;
tests/proof/test_fuzz_api.py fuzzes the API by its schema.)"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import quote_from_bytes

import pytest
from django.contrib.auth.models import Permission
from django.test import Client
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from emails.models import Bulk, Event, InboundNotification, Message, SenderSettings, Suppression, Template
from files.models import File
from tests.factories import UserFactory
from tests.proof.world import STAFF_PERMISSIONS

LIMIT = 64 * 1024  # DATA_UPLOAD_MAX_MEMORY_SIZE in these tests: "huge" is past it, and stays quick

HOSTILE = hypothesis_settings(
    max_examples=25, derandomize=True, deadline=None, database=None, suppress_health_check=list(HealthCheck)
)

# Bytes that are no UTF-8: overlong encodings ("/" and NUL in two and three bytes), a lone surrogate as UTF-8
# would write it, a truncated sequence, bytes that never occur.
BAD_UTF8 = [
    b"\xc0\xaf",
    b"\xe0\x80\xaf",
    b"\xc0\x80",
    b"\xed\xa0\x80",
    b"\xe2\x82",
    b"\xff\xfe",
    b"\xf8\x88\x80\x80\x80",
]
POISON = st.sampled_from([b"\x00", *BAD_UTF8, "\ud800".encode("utf-8", "surrogatepass")])


def _nested(depth: int) -> bytes:
    return b'{"a": ' * depth + b"1" + b"}" * depth


# A value: any bytes, text of any code point (as UTF-8), some poison inside, JSON nested deep, or very long.
VALUE = st.one_of(
    st.binary(max_size=512),
    st.text(max_size=200).map(lambda t: t.encode("utf-8", "surrogatepass")),
    st.tuples(st.text(max_size=50), POISON, st.text(max_size=50)).map(
        lambda p: p[0].encode("utf-8", "surrogatepass") + p[1] + p[2].encode("utf-8", "surrogatepass")
    ),
    st.integers(min_value=100, max_value=5000).map(_nested),
    st.integers(min_value=LIMIT - 512, max_value=LIMIT + 4096).map(lambda n: b"x" * n),
)
# A value that is never valid where an address or a name belongs: it always holds poison.
POISONED = st.tuples(VALUE, POISON).map(lambda p: p[0][:256] + p[1])


def _form(fields: dict[str, bytes]) -> bytes:
    return b"&".join(
        quote_from_bytes(k.encode()).encode() + b"=" + quote_from_bytes(v).encode() for k, v in fields.items()
    )


BOUNDARY = b"hostile-boundary"


def _multipart(fields: dict[str, bytes]) -> tuple[bytes, str]:
    """The fields as a multipart/form-data body, their bytes as they are."""
    parts = [b'--%s\r\nContent-Disposition: form-data; name="%s"\r\n\r\n%s\r\n' % (BOUNDARY, k.encode(), v)
             for k, v in fields.items()]  # fmt: skip
    return b"".join(parts) + b"--%s--\r\n" % BOUNDARY, f"multipart/form-data; boundary={BOUNDARY.decode()}"


def _stored() -> tuple[int, ...]:
    models = (Message, Bulk, Template, File, Suppression, Event, InboundNotification, SenderSettings)
    return tuple(model.objects.count() for model in models)


@pytest.fixture
def hostile(db: Any, settings: Any, ses: Any) -> Any:
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = LIMIT
    settings.STORAGES = {**settings.STORAGES, "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"}}
    owner = UserFactory()
    staff = UserFactory(is_staff=True)
    staff.user_permissions.add(*Permission.objects.filter(codename__in=STAFF_PERMISSIONS))
    return {"owner": owner, "staff": staff}


def _client(user: Any | None) -> Client:
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


def _refused(send: Callable[[], Any]) -> Any:
    before = _stored()
    response = send()
    assert response.status_code < 500, response.content[:500]
    assert _stored() == before, f"something was stored (answer {response.status_code})"
    return response


# --- The webhook ------------------------------------------------------------------------------------------


@HOSTILE
@given(body=VALUE, content_type=st.sampled_from(["text/plain; charset=UTF-8", "application/json", "text/plain"]))
def test_the_webhook_stores_nothing_of_a_hostile_body(hostile: Any, sns: None, body: bytes, content_type: str) -> None:
    client = Client()
    response = _refused(lambda: client.generic("POST", "/api/email/webhook", body, content_type=content_type))
    assert response.status_code in (400, 403, 413)


@HOSTILE
@given(query=VALUE, body=VALUE)
def test_the_webhook_stores_nothing_of_a_hostile_query(hostile: Any, sns: None, query: bytes, body: bytes) -> None:
    client = Client()
    url = "/api/email/webhook?" + quote_from_bytes(query[:2048])
    _refused(lambda: client.generic("POST", url, body, content_type="text/plain"))


# --- The pages' forms: every field hostile, the one that must be valid always poisoned --------------------

FORMS = {
    # page: (who posts, the fields, the one never valid)
    "/compose": ("owner", ["to", "cc", "bcc", "subject", "htmlContent", "textContent", "templateData", "category",
                           "priority", "replyTo", "clientId", "sendAt", "tz", "idempotencyKey", "from"], "to"),
    "/bulk": ("owner", ["name", "recipientsFileId", "pasted", "emailColumn", "nameColumn", "clientIdColumn",
                        "templateId", "subject", "htmlContent", "textContent", "category", "priority", "sendAt"],
              "pasted"),
    "/templates/new": ("staff", ["slug", "name", "category", "subject", "html", "text", "sampleData"], "slug"),
    "/accounts/login/": (None, ["username", "password", "next"], "username"),
    "/settings": ("owner", ["replyTo", "signature", "category", "priority"], "replyTo"),
}  # fmt: skip


@pytest.mark.parametrize("path", list(FORMS))
def test_a_page_stores_nothing_of_a_hostile_form(path: str, hostile: Any) -> None:
    who, names, key = FORMS[path]

    @HOSTILE
    @given(values=st.fixed_dictionaries({n: VALUE for n in names}), poisoned=POISONED, multipart=st.booleans())
    def post(values: dict[str, bytes], poisoned: bytes, multipart: bool) -> None:
        values[key] = poisoned
        client = _client(hostile[who] if who else None)
        body, content_type = _multipart(values) if multipart else (_form(values), "application/x-www-form-urlencoded")
        _refused(lambda: client.generic("POST", path, body, content_type=content_type))

    post()


QUERIED = ["/emails", "/emails/export.csv", "/analytics", "/analytics/export.csv", "/files", "/bulk",
           "/compose/recipients", "/contacts/a@example.com", "/templates"]  # fmt: skip


@pytest.mark.parametrize("path", QUERIED)
def test_a_page_answers_a_hostile_query_without_a_500(path: str, hostile: Any) -> None:
    names = ["search", "status", "category", "startDate", "endDate", "userId", "templateId", "limit", "page", "tz",
             "sortBy", "bulkId", "to", "q"]  # fmt: skip

    @HOSTILE
    @given(values=st.dictionaries(st.sampled_from(names), VALUE.map(lambda v: v[:4096]), max_size=6))
    def get(values: dict[str, bytes]) -> None:
        client = _client(hostile["staff"])
        _refused(lambda: client.get(path + "?" + _form(values).decode()))

    get()
