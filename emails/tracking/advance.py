"""Moving a batch's recipients up: one UPDATE ... FROM (VALUES ...) per chunk instead of one UPDATE per recipient.

Each row of the VALUES list is one recipient and what its events propose:
the status (and its rank, emails.outcomes' precedence) of the highest event
with the time and reason of that event, and the first time of each outcome.
The database compares the rank with the recipient's current status, so a
status only moves up, whatever another worker wrote in between, and keeps
the earliest time of each outcome, in whatever order the events come. On PostgreSQL the rows are
locked in id order first, so two workers applying overlapping batches wait
for each other rather than deadlock.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db import connection
from django.db.models import Field

from core.sql import CHUNK, column, sql_in, table
from emails.models import Recipient
from emails.outcomes import RECIPIENT_RANK

# The outcome times a recipient keeps, first of each kind (emails.outcomes.FLAG_COUNTS reads them).
FLAG_FIELDS = ("delivered_at", "opened_at", "clicked_at", "complained_at", "bounced_at")


@dataclass
class Advance:
    """What a batch's events propose for one recipient."""

    status: str | None = None
    occurred_at: datetime | None = None
    reason: str | None = None
    firsts: dict[str, datetime] = field(default_factory=dict)


def recipients_advance(advances: dict[int, Advance]) -> None:
    """Apply each recipient's proposal in as few statements as the batch's size allows."""
    pks = sorted(advances)
    if not pks:
        return
    if connection.vendor == "postgresql":
        ids, params = sql_in(column(Recipient, "id"), pks)
        lock = f"SELECT {column(Recipient, 'id')} FROM {table(Recipient)} WHERE {ids} ORDER BY 1 FOR UPDATE"  # noqa: S608
        with connection.cursor() as cursor:
            cursor.execute(lock, params)
    for start in range(0, len(pks), CHUNK):
        _update({pk: advances[pk] for pk in pks[start : start + CHUNK]})


def _placeholder(name: str) -> str:
    """A bound value of the VALUES list, typed on PostgreSQL (where a column of NULLs would otherwise be text)."""
    if connection.vendor != "postgresql":
        return "%s"
    if name == "rank":
        return "%s::integer"
    model_field = Recipient._meta.get_field(name)
    assert isinstance(model_field, Field)  # a column of the recipient table
    return f"%s::{model_field.db_type(connection)}"


def _update(advances: dict[int, Advance]) -> None:
    ops = connection.ops
    names = ("id", "status", "rank", "last_event_at", "reason", *FLAG_FIELDS)
    row = "(" + ", ".join(_placeholder(name) for name in names) + ")"
    params: list[Any] = []
    for pk, advance in advances.items():
        when = ops.adapt_datetimefield_value(advance.occurred_at) if advance.occurred_at else None
        rank = RECIPIENT_RANK[advance.status] if advance.status else None
        params += [pk, advance.status, rank, when, advance.reason]
        params += [ops.adapt_datetimefield_value(advance.firsts.get(name)) for name in FLAG_FIELDS]
    # VALUES names its columns column1, column2, ... on both databases.
    v = {name: f"v.column{i}" for i, name in enumerate(names, start=1)}
    status, reason, last = (column(Recipient, name) for name in ("status", "reason", "last_event_at"))
    current_rank = f"CASE {status} " + " ".join("WHEN %s THEN %s" for _ in RECIPIENT_RANK) + " ELSE 0 END"
    rank_params = [value for item in RECIPIENT_RANK.items() for value in item]
    moves = f"({v['rank']} > {current_rank})"
    sets = [
        f"{status} = CASE WHEN {moves} THEN {v['status']} ELSE {status} END",
        f"{last} = CASE WHEN {moves} THEN {v['last_event_at']} ELSE {last} END",
        f"{reason} = CASE WHEN {moves} AND {v['reason']} IS NOT NULL THEN {v['reason']} ELSE {reason} END",
    ]
    for name in FLAG_FIELDS:  # the earliest of the kept time and the proposed one (either may be NULL)
        kept, proposed = column(Recipient, name), v[name]
        sets.append(f"{kept} = CASE WHEN {kept} IS NULL OR {proposed} < {kept} THEN {proposed} ELSE {kept} END")
    recipient_id = f"{table(Recipient)}.{column(Recipient, 'id')}"
    sql = (
        f"UPDATE {table(Recipient)} SET {', '.join(sets)} "  # noqa: S608 (bound parameters only)
        f"FROM (VALUES {', '.join([row] * len(advances))}) AS v "
        f"WHERE {recipient_id} = {v['id']}"
    )
    with connection.cursor() as cursor:
        # The SET clause's three CASEs come first in the statement, then the VALUES.
        cursor.execute(sql, rank_params * 3 + params)
