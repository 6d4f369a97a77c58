"""core.sql.RowsWriter: rows written without the ORM's INSERT hold what the ORM would have stored."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import pytest
from django.forms.models import model_to_dict
from django.utils import timezone

from core import sql
from core.sql import RowsWriter
from emails.choices import MessageStatus, Priority
from emails.models import Message
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

VARYING = ("id", "subject", "template_data", "tags", "size", "created_at", "updated_at")


SEND_AFTER = timezone.now() + timedelta(hours=1)


def _base(owner: Any) -> Message:
    return Message(
        owner=owner, from_email="Billing <billing@crm.example.com>", reply_to="help@crm.example.com",
        category="notification", priority=Priority.HIGH, status=MessageStatus.QUEUED, recipient_count=1,
        custom_data={"source": "test", "n": 3}, send_after=SEND_AFTER,
    )  # fmt: skip


def _stored(message: Message) -> dict[str, Any]:
    """Every field as read back (model_to_dict leaves out the id and the times, which are the rows' own)."""
    return model_to_dict(Message.objects.get(pk=message.pk))


def _varying(index: int, now: Any, tags: dict[str, str]) -> tuple[Any, ...]:
    return (uuid.uuid4(), f"Subject {index} \u00e9", {"name": f"P{index}", "n": index}, tags, 100 + index, now, now)


def test_rows_hold_what_the_orm_stores() -> None:
    owner = UserFactory()
    writer = RowsWriter(Message, _base(owner), varying=VARYING)
    now, tags = timezone.now(), {"campaign": "spring"}
    given = [_varying(index, now + timedelta(microseconds=index), tags) for index in range(3)]
    writer.write([writer.row(values) for values in given])

    for values in given:
        written = Message.objects.get(pk=values[0])
        assert (written.subject, written.template_data, written.tags, written.size) == values[1:5]
        assert written.created_at == written.updated_at == values[5]
        # Everything else as the same message saved by the ORM has it.
        saved = _base(owner)
        for name, value in zip(VARYING[1:5], values[1:5], strict=True):
            setattr(saved, name, value)
        saved.save()
        assert _stored(written) == _stored(saved)


def test_rows_past_the_variable_limit_take_several_statements(monkeypatch: pytest.MonkeyPatch) -> None:
    owner = UserFactory()
    writer = RowsWriter(Message, _base(owner), varying=VARYING)
    # Room for two rows a statement on SQLite (three statements); PostgreSQL's COPY has no such limit.
    monkeypatch.setattr(sql, "_SQLITE_VARIABLES", len(writer.columns) - len(VARYING) + 2 * len(VARYING))
    now = timezone.now()
    given = [_varying(index, now + timedelta(microseconds=index), {}) for index in range(5)]
    writer.write([writer.row(values) for values in given])

    written = list(Message.objects.order_by("created_at").values_list("id", "subject", "size", "from_email",
                                                                        "custom_data", "send_after"))  # fmt: skip
    # Each statement binds the shared values again: every row has them, not only the first statement's.
    shared = ("Billing <billing@crm.example.com>", {"source": "test", "n": 3}, SEND_AFTER)
    assert written == [(values[0], values[1], values[4], *shared) for values in given]


def test_a_row_gives_each_varying_value() -> None:
    writer = RowsWriter(Message, _base(UserFactory()), varying=VARYING)
    with pytest.raises(ValueError, match="6 values for 7"):
        writer.row(_varying(0, timezone.now(), {})[:-1])
    with pytest.raises(ValueError, match="nope"):
        RowsWriter(Message, _base(UserFactory()), varying=("id", "nope"))
    with pytest.raises(ValueError, match="none"):
        RowsWriter(Message, _base(UserFactory()), varying=())
