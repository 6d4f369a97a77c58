"""Migrations that move data: run for real, back and forth, on whichever database the suite runs on."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

pytestmark = pytest.mark.django_db(transaction=True)

BEFORE_OUTCOME_TIMES = [("emails", "0007_attachment_from_files")]


@pytest.fixture
def migrate() -> Iterator[Any]:
    """Migrate to the given nodes and return their apps; the database is migrated forward again afterwards."""

    def to(targets: list[tuple[str, str]]) -> Any:
        executor = MigrationExecutor(connection)
        executor.loader.build_graph()
        executor.migrate(targets)
        return executor.loader.project_state(targets).apps

    yield to
    to(latest())


def latest() -> list[tuple[str, str]]:
    """Every app's newest migration: where the database is left, whatever migrations are added later."""
    return MigrationExecutor(connection).loader.graph.leaf_nodes()


def _message(apps: Any, **fields: Any) -> Any:
    User = apps.get_model("auth", "User")
    owner, _ = User.objects.get_or_create(username="migrated")
    Message = apps.get_model("emails", "Message")
    return Message.objects.create(owner=owner, from_email="a@example.com", subject="s", category="system", **fields)


def _file(apps: Any, name: str) -> Any:
    File = apps.get_model("files", "File")
    owner = apps.get_model("auth", "User").objects.get(username="migrated")
    return File.objects.create(
        key=f"attachment/1/{name}", file_name=name, original_name=name, content_type="application/pdf",
        size=3, max_size=3, category="attachment", status="completed", owner=owner,
    )  # fmt: skip


def test_the_attachment_count_is_filled_in_for_messages_queued_before_it(migrate: Any) -> None:
    apps = migrate([("emails", "0004_claim_index"), ("files", "0001_initial")])
    with_files, without = _message(apps), _message(apps)
    Attachment = apps.get_model("files", "Attachment")
    for position, name in enumerate(["a.pdf", "b.pdf"]):
        Attachment.objects.create(
            message=with_files, file=_file(apps, name), filename=name, content_type="application/pdf", size=3,
            position=position,
        )  # fmt: skip

    apps = migrate([("emails", "0005_send_path_writes")])

    counts = dict(apps.get_model("emails", "Message").objects.values_list("pk", "attachment_count"))
    assert counts == {with_files.pk: 2, without.pk: 0}


def test_attachments_move_to_the_emails_app_with_every_row_and_back(migrate: Any) -> None:
    apps = migrate([("emails", "0006_partial_send_indexes"), ("files", "0001_initial")])
    message = _message(apps)
    rows = []
    for position, name in enumerate(["contract.pdf", "annex.pdf", "prices.pdf"]):
        attachment = apps.get_model("files", "Attachment").objects.create(
            message=message, file=_file(apps, name), filename=name, content_type="application/pdf", size=3,
            position=position,
        )  # fmt: skip
        rows.append(attachment)
    before = sorted((r.pk, r.message_id, r.file_id, r.filename, r.position) for r in rows)

    apps = migrate(latest())

    moved = apps.get_model("emails", "Attachment")
    assert moved._meta.db_table == "emails_attachment"
    after = sorted(moved.objects.values_list("pk", "message_id", "file_id", "filename", "position"))
    assert after == before
    # The same message still finds its attachments, in order.
    assert list(apps.get_model("emails", "Message").objects.get(pk=message.pk).attachments.values_list(
        "filename", flat=True
    ).order_by("position")) == ["contract.pdf", "annex.pdf", "prices.pdf"]  # fmt: skip

    apps = migrate([("emails", "0006_partial_send_indexes"), ("files", "0001_initial")])

    back = apps.get_model("files", "Attachment")
    assert sorted(back.objects.values_list("pk", "message_id", "file_id", "filename", "position")) == before


def test_recipients_sent_before_get_their_domain_and_outcome_times_from_their_events(migrate: Any) -> None:
    from datetime import UTC, datetime, timedelta

    apps = migrate(BEFORE_OUTCOME_TIMES)
    message = _message(apps, status="complaint", sent_count=3, recipient_count=3, delivered_count=1)
    Recipient = apps.get_model("emails", "Recipient")
    Event = apps.get_model("emails", "Event")
    at = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
    a, b, c = (
        Recipient.objects.create(message=message, kind="to", address=address, status=status, position=i)
        for i, (address, status) in enumerate(
            [("a@one.example", "complaint"), ("b@two.example", "clicked"), ("c@two.example", "sent")]
        )
    )
    Recipient.objects.create(message=message, kind="to", address='"x@y"@three.example', status="sent", position=3)

    def event(recipient: Any, type_: str, minutes: int, **details: Any) -> None:
        Event.objects.create(message=message, recipient=recipient, address=recipient.address, type=type_,
                             occurred_at=at + timedelta(minutes=minutes), details=details)  # fmt: skip

    event(a, "delivery", 1)
    event(a, "open", 5)
    event(a, "complaint", 9, complaintFeedbackType="abuse")
    event(b, "click", 3)
    event(b, "open", 2)
    event(b, "open", 7)  # the first one counts
    event(c, "bounce", 4, bounceType="Transient")  # not a bounce that ends anything

    apps = migrate(latest())

    rows = {r.address: r for r in apps.get_model("emails", "Recipient").objects.all()}
    assert {r.domain for r in rows.values()} == {"one.example", "two.example", "three.example"}  # after the last @
    assert rows["a@one.example"].delivered_at == at + timedelta(minutes=1)
    assert rows["a@one.example"].complained_at == at + timedelta(minutes=9)
    assert rows["b@two.example"].opened_at == at + timedelta(minutes=2)
    assert rows["b@two.example"].clicked_at == at + timedelta(minutes=3)
    assert rows["b@two.example"].delivered_at is None  # its delivery was implied, never reported
    assert rows["c@two.example"].bounced_at is None
    migrated = apps.get_model("emails", "Message").objects.get(pk=message.pk)
    # Delivered: a (reported) and b (it opened); opened: both; clicked b; a complaint; no permanent bounce.
    assert (migrated.delivered_count, migrated.opened_count, migrated.clicked_count) == (2, 2, 1)
    assert (migrated.complaint_count, migrated.bounced_count) == (1, 0)


def test_templates_get_their_first_version_their_variables_and_the_products_name(migrate: Any) -> None:
    apps = migrate([("emails", "0009_templates_versions_scheduling")])
    Template = apps.get_model("emails", "Template")
    Template.objects.create(
        slug="old-system", name="Old", category="auth", is_system=True, variables=["name"],
        subject="Welcome to {{ productName|default:'Digi Era Pro CRM' }}",
        html="<p>Hello {{ name }}, the {{ teamName|default:'Digi Era Pro' }} team</p>", text="",
    )  # fmt: skip
    Template.objects.create(slug="own", name="Own", category="notification", variables=["x"],
                            subject="{{ x }}", text="Digi Era Pro {% if y %}{{ y }}{% endif %}")  # fmt: skip

    apps = migrate(latest())

    Template = apps.get_model("emails", "Template")
    seeded = Template.objects.get(slug="old-system")
    assert seeded.subject == "Welcome to {{ productName|default:product_name }}"
    assert "Digi Era Pro" not in seeded.html
    assert seeded.variables == [
        {"name": "productName", "required": False}, {"name": "name", "required": True},
        {"name": "teamName", "required": False},
    ]  # fmt: skip
    own = Template.objects.get(slug="own")
    assert own.text == "Digi Era Pro {% if y %}{{ y }}{% endif %}"  # only system templates are rebranded
    assert own.variables == [{"name": "x", "required": True}, {"name": "y", "required": False}]
    versions = apps.get_model("emails", "TemplateVersion").objects.filter(template__slug__in=["old-system", "own"])
    assert sorted((v.template.slug, v.number, v.note) for v in versions) == [("old-system", 1, "Created"),
                                                                            ("own", 1, "Created")]  # fmt: skip
