#!/usr/bin/env python
"""Analytics and the log at volume: the endpoints against hand-written SQL over the same tables.

    .venv/bin/python bench/analytics.py [--messages 1000000] [--rounds 3] [--keep] [--database-name NAME]

A fresh PostgreSQL database (`bench_analytics_<pid>` at BENCH_PG_URL's
server, or --database-name) is created, migrated with crm_email.settings and
filled in bulk by SQL (INSERT ... SELECT over generate_series; no Python
object per row): N messages over the last 90 days from 50 users
(bench-user-1..50), 500 client ids, 20 templates (about half the messages
name one), 1.5 recipients per message on average at 2,000 recipient domains
(skewed: a few are big), and about two events per recipient. Recipients carry
statuses and first-outcome times as the event pipeline keeps them
(emails/tracking/apply.py); each message's counters and status are then
derived from its recipients by one UPDATE ... FROM (SELECT ... GROUP BY
message_id), as emails/outcomes.py derives them. While filling, the plain
indexes of the three tables are dropped and rebuilt afterwards from their
own definitions; the message table is rewritten in created_at order (CLUSTER)
after the counters' UPDATE, as mail written day by day lies; then VACUUM
ANALYZE. The database is dropped at the end unless --keep; a kept one is
reused by a later run given its --database-name (and the same --messages).

Each case then runs in a fresh subprocess (crm_email.settings, DEBUG off,
time zone UTC), through the real URL conf with rest_framework's APIClient and
force_authenticate (the user loaded afresh for each call, as a request's
authentication does), so the view, its serializers and the envelope all run:

  analytics, staff   GET /api/email/analytics?startDate=<today - 30 days>&endDate=<today>
                     as bench-staff (is_staff, emails.view_all_messages): all mail, byUser too;
  analytics, user    the same as bench-user-1 (their own mail only);
  log, staff / user  GET /api/email?limit=20 (the first page and its summary).

In the same process, hand-written SQL (plain text below, run with a cursor)
computes the same figures with one GROUP BY per figure over the same tables:
the analytics' totals and rates (with byStatus, byCategory and byPriority in
one GROUPING SETS), the daily series, byClient, byUser, byTemplate,
byRecipientDomain, the delivery times and the ten most recent messages; the
log's COUNT(*), its summary (GROUP BY status, category, priority) and the
page of 20 with its recipients. Both are timed with time.perf_counter, best of
--rounds (each round: the endpoint, then the SQL); every figure of the answer
is checked against the SQL's.

Memory: ru_maxrss of the process after Django is set up and one warm-up call
of the same endpoint over a single day (so every code path is loaded but the
warm-up's own peak stays small), and again after the timed calls; the growth
is what the full-size calls needed at their peak.

Targets: each analytics case within 1.5 x its hand SQL, the same numbers,
peak memory growth under 50 MB. The log's time and ratio are reported only.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from datetime import time as time_of_day
from decimal import Decimal
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

PG_ADMIN_URL = os.environ.get("BENCH_PG_URL", "postgresql://postgres@127.0.0.1:5432/postgres")

USERS, CLIENTS, TEMPLATES, DOMAINS, DAYS = 50, 500, 20, 2000, 90
STAFF, ONE_USER = "bench-staff", "bench-user-1"
TARGET_RATIO = 1.5
TARGET_MEMORY_MB = 50
MARKER = "bench/analytics.py messages={n}"

CASES = {
    "analytics-staff": ("analytics", STAFF),
    "analytics-user": ("analytics", ONE_USER),
    "log-staff": ("log", STAFF),
    "log-user": ("log", ONE_USER),
}

# --- The fill: plain SQL, one statement per table -------------------------

# Every status SES accepted, whatever happened next (emails.outcomes.ACCEPTED), as SQL.
ACCEPTED = "('sent', 'delivery_delay', 'delivered', 'opened', 'clicked', 'bounced', 'complaint')"
# Delivered: SES said so, or an open, a click or a complaint implies it (emails.outcomes.REACHED_FLAGS).
REACHED = (
    "(r.delivered_at IS NOT NULL OR r.opened_at IS NOT NULL OR r.clicked_at IS NOT NULL OR r.complained_at IS NOT NULL)"
)

FILL_USERS = f"""
INSERT INTO auth_user (password, last_login, is_superuser, username, first_name, last_name, email, is_staff,
                       is_active, date_joined)
SELECT '!', NULL::timestamptz, false, 'bench-user-' || k, 'Bench', 'User ' || k,
       'bench-user-' || k || '@crm.example.com', false, true, now() - interval '400 days'
FROM generate_series(1, {USERS}) AS k
UNION ALL
SELECT '!', NULL, false, '{STAFF}', 'Bench', 'Staff', '{STAFF}@crm.example.com', true, true, now() - interval '400 days'
"""

FILL_PERMISSION = f"""
INSERT INTO auth_user_user_permissions (user_id, permission_id)
SELECT u.id, p.id
FROM auth_user u, auth_permission p JOIN django_content_type ct ON ct.id = p.content_type_id
WHERE u.username = '{STAFF}' AND ct.app_label = 'emails' AND p.codename = 'view_all_messages'
"""

FILL_TEMPLATES = f"""
INSERT INTO emails_template (id, slug, name, subject, html, text, category, variables, is_system, created_at,
                             updated_at)
SELECT md5('bench-template-' || t)::uuid, 'bench-template-' || t, 'Bench template ' || t,
       'Bench template ' || t || ' for {{{{ name }}}}', '<p>Hello {{{{ name }}}}</p>', 'Hello {{{{ name }}}}',
       'notification', '["name"]', false, now() - interval '200 days', now() - interval '200 days'
FROM generate_series(1, {TEMPLATES}) AS t
"""

# Messages in time order, as they were written; counters and status come from the recipients later.
# `sent_at` is provisional: the time of the SES call (cleared below when nothing was sent).
FILL_MESSAGES = """
WITH owners AS (
    SELECT array_agg(id ORDER BY substring(username FROM 12)::int) AS ids
    FROM auth_user WHERE username LIKE 'bench-user-%'
), g AS MATERIALIZED (
    SELECT i,
           now() - interval '{days} days'
               + (interval '{days} days' - interval '10 minutes') * ((i - 1 + random()) / {n}) AS created,
           1 + floor({users} * power(random(), 1.6))::int AS owner,
           1 + floor({clients} * power(random(), 2))::int AS client,
           CASE WHEN random() < 0.5 THEN 1 + floor({templates} * power(random(), 1.5))::int END AS template,
           random() AS rc, random() AS rp, random() AS rn, random() AS rs
    FROM generate_series(1, {n}) AS i
)
INSERT INTO emails_message (
    id, owner_id, from_email, reply_to, subject, html_body, text_body, template_id, template_data, category,
    priority, status, status_reason, client_id, tags, custom_data, recipient_count, attachment_count, sent_count,
    failed_count, delivered_count, bounced_count, complaint_count, opened_count, clicked_count, suppressed_count,
    cost, size, send_after, lease_until, attempts, created_at, updated_at, sent_at)
SELECT md5('bench-message-' || g.i)::uuid, owners.ids[g.owner], 'CRM <noreply@crm.example.com>', '',
       CASE WHEN g.template IS NULL THEN 'Your account update #' || g.i
            ELSE 'Bench template ' || g.template || ' for reader ' || g.i END,
       '<p>Hello, here is update #' || g.i || ' of your account.</p>',
       'Hello, here is update #' || g.i || ' of your account.',
       md5('bench-template-' || g.template)::uuid,
       CASE WHEN g.template IS NULL THEN '{{}}'::jsonb ELSE jsonb_build_object('name', 'Reader ' || g.i) END,
       CASE WHEN g.rc < 0.2 THEN 'auth' WHEN g.rc < 0.6 THEN 'notification' WHEN g.rc < 0.8 THEN 'marketing'
            WHEN g.rc < 0.9 THEN 'system' ELSE 'client-portal' END,
       CASE WHEN g.rp < 0.1 THEN 'low' WHEN g.rp < 0.8 THEN 'normal' WHEN g.rp < 0.95 THEN 'high' ELSE 'urgent' END,
       'queued', '', 'client-' || g.client, '{{}}', '{{}}',
       CASE WHEN g.rn < 0.6 THEN 1 WHEN g.rn < 0.9 THEN 2 ELSE 3 END, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
       NULL, NULL, 1, g.created, g.created, g.created + (0.3 + 1.4 * g.rs) * interval '1 second'
FROM g, owners
"""

# Each recipient one of {contacts} addresses (distinct within a message), its domain the contact's
# (skewed: d1 gets about 8% of recipients); a status, and the first time of each outcome consistent
# with it: delivered a few seconds (sometimes minutes) after SES accepted it; an open minutes to a
# day later, a click after the open; a complaint only of delivered mail; a bounce instead of delivery.
FILL_RECIPIENTS = """
WITH r AS MATERIALIZED (
    SELECT m.id AS message_id, m.sent_at AS send_time, p.pos,
           mod(abs(hashtext(m.id::text)::bigint) + p.pos * 7919, {contacts}) AS contact,
           random() AS rs, random() AS d1, random() AS d2, random() AS d3, random() AS d4
    FROM emails_message m CROSS JOIN LATERAL generate_series(1, m.recipient_count) AS p(pos)
), a AS (
    SELECT r.*,
           'contact' || r.contact || '@d'
               || (1 + floor({domains} * power(mod(r.contact * 2654435761, 4294967296) / 4294967296.0, 3)))::int
               || '.example' AS address,
           CASE WHEN r.rs < 0.010 THEN 'suppressed' WHEN r.rs < 0.015 THEN 'failed' WHEN r.rs < 0.035 THEN 'bounced'
                WHEN r.rs < 0.037 THEN 'complaint' WHEN r.rs < 0.137 THEN 'sent' WHEN r.rs < 0.800 THEN 'delivered'
                WHEN r.rs < 0.930 THEN 'opened' ELSE 'clicked' END AS status,
           1 + 4 * r.d1 + 600 * power(r.d2, 8) AS delivery_s,
           60 + 86400 * power(r.d3, 3) AS open_s,
           2 + 300 * r.d4 AS click_s,
           600 + 172800 * r.d3 AS complaint_s,
           1 + 30 * r.d1 AS bounce_s
    FROM r
), t AS (
    SELECT a.*,
           CASE WHEN a.status IN {accepted} THEN a.send_time END AS sent_at,
           CASE WHEN a.status IN ('delivered', 'opened', 'clicked', 'complaint')
                THEN a.send_time + a.delivery_s * interval '1 second' END AS delivered_at,
           CASE WHEN a.status IN ('opened', 'clicked')
                THEN a.send_time + (a.delivery_s + a.open_s) * interval '1 second' END AS opened_at,
           CASE WHEN a.status = 'clicked'
                THEN a.send_time + (a.delivery_s + a.open_s + a.click_s) * interval '1 second' END AS clicked_at,
           CASE WHEN a.status = 'complaint'
                THEN a.send_time + (a.delivery_s + a.complaint_s) * interval '1 second' END AS complained_at,
           CASE WHEN a.status = 'bounced' THEN a.send_time + a.bounce_s * interval '1 second' END AS bounced_at
    FROM a
)
INSERT INTO emails_recipient (
    message_id, kind, address, display_name, position, status, reason, ses_message_id, sent_at, last_event_at,
    domain, delivered_at, opened_at, clicked_at, complained_at, bounced_at)
SELECT t.message_id,
       CASE t.pos WHEN 1 THEN 'to' WHEN 2 THEN 'cc' ELSE 'bcc' END,
       t.address,
       CASE WHEN mod(t.contact, 3) = 0 THEN '' ELSE 'Contact ' || t.contact END,
       t.pos - 1,
       t.status,
       CASE t.status WHEN 'bounced' THEN 'smtp; 550 5.1.1 user unknown'
                     WHEN 'suppressed' THEN 'On the suppression list (bounce)'
                     WHEN 'failed' THEN 'MessageRejected: Email address is not verified.' ELSE '' END,
       CASE WHEN t.sent_at IS NULL THEN ''
            ELSE '0100' || substr(md5(t.message_id::text), 1, 12) || '-' || substr(md5(t.message_id::text), 13, 8)
                 || '-000000' END,
       t.sent_at,
       COALESCE(GREATEST(t.delivered_at, t.opened_at, t.clicked_at, t.complained_at, t.bounced_at), t.send_time),
       split_part(t.address, '@', 2),
       t.delivered_at, t.opened_at, t.clicked_at, t.complained_at, t.bounced_at
FROM t
"""

# A message's counts and status from its recipients, as emails.outcomes.message_counts_apply derives them:
# problems first (complaint, bounced), delivered when every recipient sent was, else sent; nothing sent:
# suppressed when everyone was, else failed. Cost $0.10 per 1,000 recipients sent.
FILL_COUNTERS = f"""
UPDATE emails_message m SET
    recipient_count = s.total,
    sent_count = s.sent, failed_count = s.failed, delivered_count = s.delivered, bounced_count = s.bounced,
    complaint_count = s.complained, opened_count = s.opened, clicked_count = s.clicked,
    suppressed_count = s.suppressed,
    cost = s.sent * 0.0001,
    size = CASE WHEN s.sent > 0 THEN 2500 + mod(abs(hashtext(m.id::text)::bigint), 4000) ELSE 0 END,
    attempts = CASE WHEN s.sent + s.failed > 0 THEN 1 ELSE 0 END,
    sent_at = CASE WHEN s.sent > 0 THEN m.sent_at END,
    updated_at = GREATEST(m.created_at, s.last_event),
    status = CASE WHEN s.sent = 0 THEN CASE WHEN s.suppressed > 0 AND s.suppressed = s.total
                                            THEN 'suppressed' ELSE 'failed' END
                  WHEN s.complained > 0 THEN 'complaint'
                  WHEN s.bounced > 0 THEN 'bounced'
                  WHEN s.delivered = s.sent THEN 'delivered'
                  ELSE 'sent' END
FROM (
    SELECT r.message_id,
           count(*) AS total,
           count(*) FILTER (WHERE r.status IN {ACCEPTED}) AS sent,
           count(*) FILTER (WHERE r.status IN ('failed', 'rejected')) AS failed,
           count(*) FILTER (WHERE {REACHED}) AS delivered,
           count(*) FILTER (WHERE r.bounced_at IS NOT NULL) AS bounced,
           count(*) FILTER (WHERE r.complained_at IS NOT NULL) AS complained,
           count(*) FILTER (WHERE r.opened_at IS NOT NULL) AS opened,
           count(*) FILTER (WHERE r.clicked_at IS NOT NULL) AS clicked,
           count(*) FILTER (WHERE r.status = 'suppressed') AS suppressed,
           max(r.last_event_at) AS last_event
    FROM emails_recipient r
    GROUP BY r.message_id
) AS s
WHERE m.id = s.message_id
"""

# The events the recipients' times say: the send (as the worker writes it: no SNS id), one per outcome
# (from SNS: an SNS MessageId), and for refused recipients the worker's suppressed/failure event.
FILL_EVENTS = """
INSERT INTO emails_event (type, occurred_at, recorded_at, ses_message_id, sns_message_id, details, message_id,
                          recipient_id, address, inbound_id)
SELECT e.type, e.at, e.at + e.lag * interval '1 second', r.ses_message_id,
       CASE WHEN e.lag > 0 THEN md5(r.id || e.type)::uuid::text ELSE '' END,
       e.details, r.message_id, r.id, r.address, NULL
FROM emails_recipient r
CROSS JOIN LATERAL (VALUES
    ('send', r.sent_at, '{}'::jsonb, 0.0),
    ('delivery', r.delivered_at, '{}'::jsonb, 2.5),
    ('open', r.opened_at, '{}'::jsonb, 2.5),
    ('click', r.clicked_at, '{}'::jsonb, 2.5),
    ('bounce', r.bounced_at, '{"bounceType": "Permanent", "bounceSubType": "General"}'::jsonb, 2.5),
    ('complaint', r.complained_at, '{"complaintFeedbackType": "abuse"}'::jsonb, 2.5),
    ('suppressed', CASE WHEN r.status = 'suppressed' THEN r.last_event_at END, jsonb_build_object('reason', r.reason),
     0.0),
    ('failure', CASE WHEN r.status = 'failed' THEN r.last_event_at END, jsonb_build_object('reason', r.reason), 0.0)
) AS e(type, at, details, lag)
WHERE e.at IS NOT NULL
"""

FILLED_TABLES = ("emails_message", "emails_recipient", "emails_event")

# --- The hand-written SQL the endpoints are measured against -------------

RANGE = "COALESCE(m.sent_at, m.created_at) >= %(start)s AND COALESCE(m.sent_at, m.created_at) < %(end)s"
SUMS = (
    "count(*) AS emails, sum(m.recipient_count) AS recipients, sum(m.sent_count) AS sent, "
    "sum(m.delivered_count) AS delivered, sum(m.bounced_count) AS bounced, sum(m.complaint_count) AS complained, "
    "sum(m.cost) AS cost"
)


def _rate(count: str, sent: str) -> str:
    return f"round({count}::numeric / NULLIF({sent}, 0), 6)"


def analytics_sql(where: str) -> dict[str, str]:
    """One statement per figure of the analytics answer, over the messages `where` selects."""
    sent = "sum(m.sent_count)"
    return {
        "totals": f"""
            SELECT CASE WHEN GROUPING(m.status) = 0 THEN 'status' WHEN GROUPING(m.category) = 0 THEN 'category'
                        WHEN GROUPING(m.priority) = 0 THEN 'priority' ELSE 'total' END AS kind,
                   COALESCE(m.status, m.category, m.priority) AS value,
                   count(*), sum(m.recipient_count), sum(m.size), avg(m.size), {sent}, sum(m.delivered_count),
                   sum(m.bounced_count), sum(m.complaint_count), sum(m.opened_count), sum(m.clicked_count),
                   sum(m.suppressed_count), sum(m.failed_count), sum(m.cost),
                   {_rate("sum(m.delivered_count)", sent)}, {_rate("sum(m.bounced_count)", sent)},
                   {_rate("sum(m.complaint_count)", sent)}, {_rate("sum(m.opened_count)", sent)},
                   {_rate("sum(m.clicked_count)", sent)}
            FROM emails_message m WHERE {where}
            GROUP BY GROUPING SETS ((), (m.status), (m.category), (m.priority))""",
        "daily": f"""
            SELECT (COALESCE(m.sent_at, m.created_at) AT TIME ZONE 'UTC')::date AS day, count(*),
                   sum(m.recipient_count), sum(m.sent_count), sum(m.delivered_count), sum(m.bounced_count),
                   sum(m.complaint_count), sum(m.opened_count), sum(m.clicked_count), sum(m.cost)
            FROM emails_message m WHERE {where}
            GROUP BY day ORDER BY day""",
        "by_client": f"""
            SELECT m.client_id, {SUMS} FROM emails_message m WHERE {where}
            GROUP BY m.client_id ORDER BY sent DESC, emails DESC, m.client_id""",
        "by_user": f"""
            SELECT g.owner_id, u.username, g.emails, g.recipients, g.sent, g.delivered, g.bounced, g.complained, g.cost
            FROM (SELECT m.owner_id, {SUMS} FROM emails_message m WHERE {where} GROUP BY m.owner_id) AS g
            JOIN auth_user u ON u.id = g.owner_id
            ORDER BY g.sent DESC, g.emails DESC, g.owner_id""",
        "by_template": f"""
            SELECT g.template_id, t.name, g.emails, g.recipients, g.sent, g.delivered, g.bounced, g.complained,
                   g.cost
            FROM (SELECT m.template_id, {SUMS} FROM emails_message m WHERE {where} GROUP BY m.template_id) AS g
            LEFT JOIN emails_template t ON t.id = g.template_id
            ORDER BY g.sent DESC, g.emails DESC""",
        "by_domain": f"""
            SELECT d.domain, d.sent, d.delivered, d.bounced, d.complained,
                   {_rate("d.bounced", "d.sent")}, {_rate("d.complained", "d.sent")}
            FROM (
                SELECT r.domain,
                       count(*) FILTER (WHERE r.status IN {ACCEPTED}) AS sent,
                       count(*) FILTER (WHERE {REACHED}) AS delivered,
                       count(*) FILTER (WHERE r.bounced_at IS NOT NULL) AS bounced,
                       count(*) FILTER (WHERE r.complained_at IS NOT NULL) AS complained
                FROM emails_recipient r JOIN emails_message m ON m.id = r.message_id
                WHERE {where}
                GROUP BY r.domain ORDER BY sent DESC, r.domain LIMIT 20
            ) AS d
            ORDER BY d.sent DESC, d.domain""",
        "delivery": f"""
            SELECT avg(EXTRACT(EPOCH FROM r.delivered_at - r.sent_at)),
                   percentile_disc(ARRAY[0.5, 0.95])
                       WITHIN GROUP (ORDER BY EXTRACT(EPOCH FROM r.delivered_at - r.sent_at))
            FROM emails_recipient r JOIN emails_message m ON m.id = r.message_id
            WHERE {where} AND r.delivered_at IS NOT NULL AND r.sent_at IS NOT NULL""",
        "recent": f"""
            SELECT m.id FROM emails_message m WHERE {where} ORDER BY m.created_at DESC, m.id DESC LIMIT 10""",
    }


def log_sql(where: str) -> dict[str, str]:
    """The log's first page of 20 and its summary, over the messages `where` selects."""
    return {
        "count": f"SELECT count(*) FROM emails_message m WHERE {where}",
        "summary": f"""
            SELECT m.status, m.category, m.priority, count(*), sum(m.recipient_count), sum(m.size), sum(m.sent_count),
                   sum(m.delivered_count), sum(m.bounced_count), sum(m.complaint_count), sum(m.suppressed_count),
                   sum(m.failed_count), sum(m.cost)
            FROM emails_message m WHERE {where}
            GROUP BY m.status, m.category, m.priority""",
        "page": f"""
            SELECT m.id, m.status, m.recipient_count, m.sent_count, m.cost
            FROM emails_message m WHERE {where} ORDER BY m.created_at DESC, m.id DESC LIMIT 20""",
        "page_recipients": """
            SELECT r.message_id, r.kind, r.address, r.display_name FROM emails_recipient r
            WHERE r.message_id = ANY(%(ids)s) ORDER BY r.message_id, r.position""",
    }


# --- Child: one case in a fresh process ------------------------------------


def _emit(result: dict[str, Any]) -> None:
    sys.stdout.write("RESULT " + json.dumps(result) + "\n")
    sys.stdout.flush()


def _setup() -> None:
    import warnings

    warnings.filterwarnings("ignore", "No directory at", UserWarning)
    import django

    django.setup()


def _money(value: Decimal | None) -> float:
    return float(round(value or Decimal(0), 8))


def _fraction(value: Decimal | None) -> float:
    return float(value) if value is not None else 0.0


def _by(counts: dict[str, int], key: str) -> list[dict[str, Any]]:
    return [{key: value, "count": n} for value, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))]


def _run(statements: dict[str, str], params: dict[str, Any]) -> dict[str, list[tuple[Any, ...]]]:
    from django.db import connection

    rows: dict[str, list[tuple[Any, ...]]] = {}
    with connection.cursor() as cursor:
        for name, sql in statements.items():
            if name == "page_recipients":
                params = {**params, "ids": [row[0] for row in rows["page"]]}
            cursor.execute(sql, params)
            rows[name] = cursor.fetchall()
    return rows


def _counts(row: tuple[Any, ...]) -> dict[str, Any]:
    """emails, recipients, sent, delivered, bounced, complained, cost: as the answer's breakdown rows."""
    names = ("emails", "recipients", "sent", "delivered", "bounced", "complained")
    return {**{name: int(value or 0) for name, value in zip(names, row[:6], strict=True)}, "cost": _money(row[6])}


def analytics_expected(rows: dict[str, list[tuple[Any, ...]]], staff: bool) -> dict[str, Any]:
    """The analytics answer's figures, shaped from the hand SQL's rows."""
    total = next(row for row in rows["totals"] if row[0] == "total")
    (emails, recipients, _size, avg_size, sent, delivered, bounced, complained, opened, clicked, suppressed, failed,
     cost, *rates) = total[2:]  # fmt: skip
    breakdowns: dict[str, dict[str, int]] = {"status": {}, "category": {}, "priority": {}}
    for row in rows["totals"]:
        if row[0] != "total":
            breakdowns[row[0]][row[1]] = int(row[2])
    outcomes = ("sent", "delivered", "bounced", "complained", "opened", "clicked", "suppressed", "failed")
    found = (sent, delivered, bounced, complained, opened, clicked, suppressed, failed)
    counts = dict(zip(outcomes, found, strict=True))
    mean, percentiles = rows["delivery"][0]
    return {
        "stats": {
            "totalEmails": int(emails),
            "totalRecipients": int(recipients or 0),
            "totalCost": _money(cost),
            "avgSize": float(avg_size) if avg_size is not None else 0.0,
            "byStatus": _by(breakdowns["status"], "status"),
            "byCategory": _by(breakdowns["category"], "category"),
            "byPriority": _by(breakdowns["priority"], "priority"),
        },
        "rates": {
            **{name: int(value or 0) for name, value in counts.items()},
            **{
                name: _fraction(value)
                for name, value in zip(
                    ("deliveryRate", "bounceRate", "complaintRate", "openRate", "clickRate"), rates, strict=True
                )
            },
        },
        "daily": [
            {
                "date": day.isoformat(),
                **_counts((*values[:6], values[8])),
                "opened": int(values[6]),
                "clicked": int(values[7]),
            }
            for day, *values in rows["daily"]
        ],
        "byClient": [{"clientId": client, **_counts(values)} for client, *values in rows["by_client"]],
        "byUser": [
            {"userId": owner, "username": username, **_counts(values)} for owner, username, *values in rows["by_user"]
        ]
        if staff
        else [],
        "byTemplate": [
            {"templateId": str(template) if template else None, "name": name or "", **_counts(values)}
            for template, name, *values in rows["by_template"]
        ],
        "byRecipientDomain": [
            {
                "domain": domain,
                "sent": s,
                "delivered": d,
                "bounced": b,
                "complained": c,
                "bounceRate": _fraction(br),
                "complaintRate": _fraction(cr),
            }
            for domain, s, d, b, c, br, cr in rows["by_domain"]
        ],
        "deliveryTime": {
            "avgSeconds": float(mean) if mean is not None else None,
            "p50Seconds": float(percentiles[0]) if percentiles else None,
            "p95Seconds": float(percentiles[1]) if percentiles else None,
        },
        "recentEmails": [str(row[0]) for row in rows["recent"]],
    }


def log_expected(rows: dict[str, list[tuple[Any, ...]]]) -> dict[str, Any]:
    from email.utils import formataddr

    names = ("emails", "recipients", "size", "sent", "delivered", "bounced", "complained", "suppressed", "failed")
    totals = dict.fromkeys(names, 0)
    cost = Decimal(0)
    breakdowns: dict[str, dict[str, int]] = {"status": {}, "category": {}, "priority": {}}
    for status, category, priority, *values in rows["summary"]:
        for name, value in zip(names, values[:9], strict=True):
            totals[name] += int(value or 0)
        cost += values[9] or Decimal(0)
        for key, value in (("status", status), ("category", category), ("priority", priority)):
            breakdowns[key][value] = breakdowns[key].get(value, 0) + int(values[0])
    addresses: dict[str, dict[str, list[str]]] = {}
    for message_id, kind, address, name in rows["page_recipients"]:
        shown = formataddr((name, address)) if name else address
        addresses.setdefault(str(message_id), {"to": [], "cc": [], "bcc": []})[kind].append(shown)
    return {
        "total": int(rows["count"][0][0]),
        "stats": {
            "totalEmails": totals["emails"],
            "totalRecipients": totals["recipients"],
            "totalSent": totals["sent"],
            "totalDelivered": totals["delivered"],
            "totalBounced": totals["bounced"],
            "totalComplained": totals["complained"],
            "totalSuppressed": totals["suppressed"],
            "totalFailed": totals["failed"],
            "totalCost": _money(cost),
            "avgSize": totals["size"] / totals["emails"] if totals["emails"] else 0.0,
            "byStatus": _by(breakdowns["status"], "status"),
            "byCategory": _by(breakdowns["category"], "category"),
            "byPriority": _by(breakdowns["priority"], "priority"),
        },
        "page": [
            {
                "messageId": str(pk),
                "status": status,
                "recipientCount": n,
                "sentCount": sent,
                "cost": float(price),
                **addresses.get(str(pk), {"to": [], "cc": [], "bcc": []}),
            }
            for pk, status, n, sent, price in rows["page"]
        ],
    }


# Fractions of `sent` are compared to their 6 decimals; delivery times to 0.01 s; avgSize is the endpoint's
# rounding of the exact mean (within 0.5); everything else must be equal.
RATE_KEYS = {"deliveryRate", "bounceRate", "complaintRate", "openRate", "clickRate"}
SECONDS_KEYS = {"avgSeconds", "p50Seconds", "p95Seconds"}


def _difference(expected: Any, actual: Any, path: str = "") -> str | None:
    """The first place where the endpoint's `actual` differs from the hand SQL's `expected`, or None."""
    key = path.rsplit(".", 1)[-1]
    if isinstance(expected, dict):
        if not isinstance(actual, dict):
            return f"{path}: expected an object, got {actual!r}"
        for name, value in expected.items():
            if name not in actual:
                return f"{path}.{name}: missing"
            found = _difference(value, actual[name], f"{path}.{name}")
            if found:
                return found
        return None
    if isinstance(expected, list):
        if not isinstance(actual, list) or len(actual) != len(expected):
            return f"{path}: expected {len(expected)} rows, got {len(actual) if isinstance(actual, list) else actual!r}"
        for i, (e, a) in enumerate(zip(expected, actual, strict=True)):
            found = _difference(e, a, f"{path}[{i}]")
            if found:
                return found
        return None
    if key in RATE_KEYS or key in SECONDS_KEYS or key == "avgSize":
        tolerance = 1e-6 if key in RATE_KEYS else 0.01 if key in SECONDS_KEYS else 0.5 + 1e-9
        if expected is None or actual is None:
            return None if expected is actual else f"{path}: expected {expected!r}, got {actual!r}"
        if abs(float(actual) - float(expected)) <= tolerance:
            return None
        return f"{path}: expected {expected!r} (within {tolerance:g}), got {actual!r}"
    if expected != actual or type(expected) is not type(actual):
        return f"{path}: expected {expected!r}, got {actual!r}"
    return None


def _template_order(row: dict[str, Any]) -> tuple[int, int, str]:
    return (-row["sent"], -row["emails"], row["templateId"] or "")


def analytics_checks(expected: dict[str, Any], data: dict[str, Any]) -> dict[str, tuple[bool, str]]:
    checks: dict[str, str | None] = {}
    checks["rates"] = _difference(expected["rates"], data["rates"], "rates")
    checks["stats"] = _difference(expected["stats"], data["stats"], "stats")
    for name in ("daily", "byClient", "byUser", "byRecipientDomain", "deliveryTime"):
        checks[name] = _difference(expected[name], data[name], name)
    # Templates with equal sent and emails come in either order: compared in one, and the order checked.
    rows = data["byTemplate"]
    checks["byTemplate"] = _difference(
        sorted(expected["byTemplate"], key=_template_order), sorted(rows, key=_template_order), "byTemplate"
    )
    order = [_template_order(row)[:2] for row in rows]
    if checks["byTemplate"] is None and order != sorted(order):
        checks["byTemplate"] = "byTemplate: not ordered by sent, then emails, descending"
    checks["recentEmails"] = _difference(
        expected["recentEmails"], [e["messageId"] for e in data["recentEmails"]], "recentEmails"
    )
    sizes = {
        "daily": len(expected["daily"]),
        "byClient": len(expected["byClient"]),
        "byUser": len(expected["byUser"]),
        "byTemplate": len(expected["byTemplate"]),
        "byRecipientDomain": len(expected["byRecipientDomain"]),
        "recentEmails": len(expected["recentEmails"]),
    }
    return {
        name: (found is None, found or (f"{sizes[name]} rows" if name in sizes else ""))
        for name, found in checks.items()
    }


def log_checks(expected: dict[str, Any], data: dict[str, Any]) -> dict[str, tuple[bool, str]]:
    page_fields = ("messageId", "status", "recipientCount", "sentCount", "cost", "to", "cc", "bcc")
    checks = {
        "pagination.total": _difference(expected["total"], data["pagination"]["total"], "pagination.total"),
        "stats": _difference(expected["stats"], data["stats"], "stats"),
        "page of 20": _difference(expected["page"], [{k: e[k] for k in page_fields} for e in data["emails"]], "emails"),
    }
    return {name: (found is None, found or "") for name, found in checks.items()}


def phase_case(case: str, rounds: int) -> None:
    _setup()
    from django.contrib.auth.models import User
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone
    from rest_framework.test import APIClient

    kind, username = CASES[case]
    user = User.objects.get(username=username)
    staff = user.has_perm("emails.view_all_messages")
    today = timezone.now().astimezone(UTC).date()
    first = today - timedelta(days=30)
    params: dict[str, Any] = {
        "start": datetime.combine(first, time_of_day.min, tzinfo=UTC),
        "end": datetime.combine(today + timedelta(days=1), time_of_day.min, tzinfo=UTC),
        "owner": user.pk,
    }
    if kind == "analytics":
        url = f"/api/email/analytics?startDate={first}&endDate={today}"
        warm_url = f"/api/email/analytics?startDate={today}&endDate={today}"
        where = RANGE if staff else f"{RANGE} AND m.owner_id = %(owner)s"
        statements = analytics_sql(where)
    else:
        url = "/api/email?limit=20"
        warm_url = f"/api/email?limit=20&startDate={today}"
        statements = log_sql("true" if staff else "m.owner_id = %(owner)s")

    queries: list[int] = []

    def call(target: str, *, count_queries: bool = False) -> tuple[float, dict[str, Any]]:
        # As a request's authentication would: the user loaded afresh, its permissions not yet cached.
        client = APIClient(HTTP_HOST="localhost")
        client.force_authenticate(User.objects.get(pk=user.pk))
        if count_queries:
            with CaptureQueriesContext(connection) as captured:
                client.get(target)
            queries.append(len(captured.captured_queries))
        start = time.perf_counter()
        response = client.get(target)
        seconds = time.perf_counter() - start
        if response.status_code != 200:
            raise SystemExit(f"{target}: HTTP {response.status_code}: {response.content[:500]!r}")
        return seconds, json.loads(response.content)

    def hand() -> tuple[float, dict[str, list[tuple[Any, ...]]]]:
        start = time.perf_counter()
        rows = _run(statements, params)
        return time.perf_counter() - start, rows

    # Warm-up: every code path loaded (a one-day call), the database's caches filled (the SQL, full size).
    call(warm_url, count_queries=True)
    hand()
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    endpoint_times, sql_times = [], []
    data: dict[str, Any] = {}
    rows: dict[str, list[tuple[Any, ...]]] = {}
    for _ in range(rounds):
        seconds, body = call(url)
        endpoint_times.append(seconds)
        data = body["data"]
        seconds, rows = hand()
        sql_times.append(seconds)
    after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss

    if kind == "analytics":
        expected = analytics_expected(rows, staff)
        checks = analytics_checks(expected, data)
        scope = {"messages": expected["stats"]["totalEmails"], "recipients": expected["stats"]["totalRecipients"]}
    else:
        expected = log_expected(rows)
        checks = log_checks(expected, data)
        scope = {"messages": expected["total"], "recipients": expected["stats"]["totalRecipients"]}
    _emit(
        {
            "case": case,
            "url": url,
            "user": username,
            "period": f"{first} to {today} (UTC)",
            "endpoint": endpoint_times,
            "sql": sql_times,
            "statements": len(statements),
            "queries": queries[0],
            "maxrss_before_kb": before,
            "maxrss_after_kb": after,
            "scope": scope,
            "checks": checks,
        }
    )


def child(argv: list[str]) -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--case", choices=sorted(CASES), required=True)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args(argv)
    phase_case(args.case, args.rounds)


# --- Parent: the database, the fill, the subprocesses, the report ----------


def _log(message: str) -> None:
    print(f"  {time.strftime('%H:%M:%S')} {message}", file=sys.stderr, flush=True)


def _load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def _database_url(name: str) -> str:
    return f"{PG_ADMIN_URL.rsplit('/', 1)[0]}/{name}"


def _database_state(name: str) -> str | None:
    """None when there is no such database; else its comment ('' when it has none)."""
    import psycopg

    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        row = conn.execute(
            "SELECT COALESCE(shobj_description(oid, 'pg_database'), '') FROM pg_database WHERE datname = %s", [name]
        ).fetchone()
    return None if row is None else str(row[0])


def _admin(statement: str) -> None:
    import psycopg

    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(statement)


def fill(url: str, n: int) -> dict[str, Any]:
    """Fill the migrated database by SQL; the seconds of each step and what was written."""
    import psycopg

    contacts = max(n // 5, 20_000)  # > 2 x 7919: a message's (up to three) recipients are distinct contacts
    steps: dict[str, float] = {}

    with psycopg.connect(url, autocommit=True) as conn:

        def step(name: str, *statements: str) -> None:
            _log(f"fill: {name}")
            start = time.perf_counter()
            for statement in statements:
                conn.execute(statement)
            steps[name] = steps.get(name, 0.0) + time.perf_counter() - start

        started = time.perf_counter()
        conn.execute("SELECT setseed(0.20261202)")
        # Plain indexes are rebuilt after the load (constraints' own indexes stay, and check as rows come).
        indexes = conn.execute(
            """
            SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid) FROM pg_index i
            WHERE i.indrelid = ANY(%s::regclass[])
              AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid AND c.conrelid = i.indrelid)
            """,
            [list(FILLED_TABLES)],
        ).fetchall()
        step("drop plain indexes", *(f"DROP INDEX {name}" for name, _ in indexes))
        step("users, permission, templates", FILL_USERS, FILL_PERMISSION, FILL_TEMPLATES)
        values = {"n": n, "days": DAYS, "users": USERS, "clients": CLIENTS, "templates": TEMPLATES}
        step("messages", FILL_MESSAGES.format(**values))
        step("recipients", FILL_RECIPIENTS.format(contacts=contacts, domains=DOMAINS, accepted=ACCEPTED))
        step("message counters (UPDATE ... FROM)", FILL_COUNTERS)
        step("events", FILL_EVENTS)
        step(
            "messages rewritten in created_at order (CLUSTER)",
            "CREATE INDEX bench_fill_created ON emails_message (created_at)",
            "CLUSTER emails_message USING bench_fill_created",
            "DROP INDEX bench_fill_created",
        )
        step("indexes rebuilt", *(definition for _, definition in indexes))
        step("VACUUM ANALYZE", "VACUUM ANALYZE")
        total = time.perf_counter() - started

        statuses = dict(conn.execute("SELECT status, count(*) FROM emails_recipient GROUP BY 1 ORDER BY 2 DESC"))
        size = conn.execute("SELECT pg_size_pretty(pg_database_size(current_database()))").fetchone()
        granted = conn.execute(
            "SELECT count(*) FROM auth_user u JOIN auth_user_user_permissions up ON up.user_id = u.id "
            "WHERE u.username = %s",
            [STAFF],
        ).fetchone()
    if not granted or granted[0] != 1:
        raise RuntimeError(f"{STAFF} did not get emails.view_all_messages (is auth_permission filled?)")
    return {
        "seconds": total,
        "steps": steps,
        "recipient_statuses": statuses,
        "size": size[0] if size else "",
    }


def run_case(env: dict[str, str], case: str, rounds: int) -> dict[str, Any]:
    command = [sys.executable, str(Path(__file__).resolve()), "--child", "--case", case, "--rounds", str(rounds)]
    proc = subprocess.run(command, env=env, stdout=subprocess.PIPE, text=True, check=False)
    if proc.returncode:
        raise RuntimeError(f"case {case} failed with exit code {proc.returncode}:\n{proc.stdout}")
    for line in proc.stdout.splitlines():
        if line.startswith("RESULT "):
            return dict(json.loads(line[len("RESULT ") :]))
    raise RuntimeError(f"case {case}: no result in its output:\n{proc.stdout}")


def _verdict(ok: bool) -> str:
    return "PASS" if ok else "FAIL"


def report(info: dict[str, Any], results: list[dict[str, Any]], rounds: int, load_before: str) -> bool:
    """Print the table, the targets and the checks; False when a number differed."""
    from importlib.metadata import version

    import psycopg

    with psycopg.connect(info["url"]) as conn:
        server = conn.execute("SHOW server_version").fetchone()
    counts = info["counts"]
    print()
    print(
        f"Analytics and the log: N = {info['n']:,} messages, {counts['emails_recipient']:,} recipients, "
        f"{counts['emails_event']:,} events over {DAYS} days; {USERS} users, {CLIENTS} client ids, "
        f"{TEMPLATES} templates, {info['domains']:,} recipient domains (largest {info['largest_domain']:,} recipients)."
    )
    print(
        f"Machine: {os.cpu_count()} cores; load average before {load_before}, after {_load()}. "
        f"Python {sys.version.split()[0]}, Django {version('django')}, PostgreSQL {server[0] if server else '?'}."
    )
    if info.get("fill"):
        fill_info = info["fill"]
        print(f"Fill ({info['database']}, {fill_info['size']}): {fill_info['seconds']:.1f} s")
        for name, seconds in fill_info["steps"].items():
            print(f"  {name:<50} {seconds:>8.1f} s")
        shares = fill_info["recipient_statuses"].items()
        statuses = ", ".join(f"{k} {v / counts['emails_recipient']:.1%}" for k, v in shares)
        print(f"  recipients: {statuses}")
    else:
        print(f"Fill: none, database {info['database']} reused (filled by an earlier run).")
    first = results[0]
    print(f"Period (analytics): {first.get('period', '')}; best of {rounds} round(s); seconds of wall clock.")
    print()
    header = (
        f"{'case':<24} {'messages':>9} {'endpoint':>9} {'hand SQL':>9} {'ratio':>6} {'memory':>9} "
        f"{'queries':>7} {'SQL stmts':>9}"
    )
    print(header)
    print("-" * len(header))
    for r in results:
        print(
            f"{r['label']:<24} {r['scope']['messages']:>9,} {r['best_endpoint']:>8.3f}s {r['best_sql']:>8.3f}s "
            f"{r['ratio']:>6.2f} {r['memory_mb']:>6.1f} MB {r['queries']:>7} {r['statements']:>9}"
        )
    print()
    print("messages = in scope (analytics: in the period; the log: all the user may see); memory = growth of")
    print("peak RSS over the timed calls; queries = SQL statements of one endpoint call; SQL stmts = the hand SQL's.")
    print()
    print("Every round (endpoint / hand SQL, s):")
    for r in results:
        pairs = ", ".join(f"{e:.3f} / {s:.3f}" for e, s in zip(r["endpoint"], r["sql"], strict=True))
        print(f"  {r['label']:<24} {pairs}")
    print()
    print("Targets:")
    width = max(len(r["label"]) for r in results) + 2
    for r in results:
        tag = f"[{r['label']}]".ljust(width)
        if r["kind"] == "analytics":
            ratio_ok, memory_ok = r["ratio"] <= TARGET_RATIO, r["memory_mb"] < TARGET_MEMORY_MB
            lines = [
                (f"endpoint within {TARGET_RATIO} x hand SQL", f"{r['ratio']:.2f}", _verdict(ratio_ok)),
                (f"peak memory growth < {TARGET_MEMORY_MB} MB", f"{r['memory_mb']:.1f} MB", _verdict(memory_ok)),
            ]
        else:
            lines = [
                ("endpoint / hand SQL", f"{r['ratio']:.2f}", "(no target)"),
                ("peak memory growth", f"{r['memory_mb']:.1f} MB", "(no target)"),
            ]
        for what, value, verdict in lines:
            print(f"  {tag} {what + ':':<34} {value:>9}  {verdict}")
    correct = True
    print()
    print("Same numbers as the hand SQL:")
    for r in results:
        ok = all(good for good, _ in r["checks"].values())
        correct &= ok
        print(f"  [{r['label']}] {_verdict(ok)}")
        for name, (good, detail) in r["checks"].items():
            print(f"      {name:<20} {_verdict(good)}  {detail}".rstrip())
    return correct


def main() -> None:
    if "--child" in sys.argv[1:]:
        child([a for a in sys.argv[1:] if a != "--child"])
        return
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--messages", type=int, default=1_000_000, help="messages to fill (default 1,000,000)")
    parser.add_argument("--rounds", type=int, default=3, help="timed calls per case; the best is reported (default 3)")
    parser.add_argument("--keep", action="store_true", help="keep the database (reuse it with --database-name)")
    parser.add_argument("--database-name", help="the database to create, or a kept one to reuse")
    args = parser.parse_args()
    if args.messages < 100:
        parser.error("--messages must be at least 100")
    rounds = max(args.rounds, 1)
    started = time.perf_counter()
    load_before = _load()
    name = args.database_name or f"bench_analytics_{os.getpid()}"
    if not name.replace("_", "").isalnum():
        parser.error("--database-name: letters, digits and underscores only")
    url = _database_url(name)
    env = dict(
        os.environ,
        DJANGO_SETTINGS_MODULE="crm_email.settings",
        DATABASE_URL=url,
        DJANGO_SECRET_KEY="bench-only-secret-key-not-for-production",
        DJANGO_DEBUG="false",
        TIME_ZONE="UTC",
        LOG_LEVEL="WARNING",
        PYTHONPATH=os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]).rstrip(os.pathsep),
    )
    for variable in ("SES_EMULATED", "SES_EMULATED_WITH_DATABASE", "CELERY_BROKER_URL", "CACHE_URL"):
        env.pop(variable, None)

    marker = MARKER.format(n=args.messages)
    state = _database_state(name)
    created = state is None
    if not created and state != marker:
        raise SystemExit(
            f"Database {name} exists and is not a kept fill of {args.messages:,} messages "
            f"({state or 'no comment'!r}): choose another --database-name, or drop it yourself."
        )
    info: dict[str, Any] = {"n": args.messages, "database": name, "url": url}
    ready = not created
    try:
        if created:
            _admin(f'CREATE DATABASE "{name}"')
            _log(f"migrating a fresh database {name}")
            subprocess.run([sys.executable, str(ROOT / "manage.py"), "migrate", "-v", "0"], env=env, check=True)
            _log(f"filling {args.messages:,} messages")
            info["fill"] = fill(url, args.messages)
            _admin(f"COMMENT ON DATABASE \"{name}\" IS '{marker}'")
            ready = True
        else:
            _log(f"reusing the kept database {name}")
        import psycopg

        with psycopg.connect(url) as conn:
            info["counts"] = {
                table: conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]  # type: ignore[index]
                for table in FILLED_TABLES
            }
            domains = conn.execute(
                "SELECT count(*), max(c) FROM (SELECT count(*) AS c FROM emails_recipient GROUP BY domain) AS d"
            ).fetchone()
        info["domains"], info["largest_domain"] = domains if domains else (0, 0)
        results = []
        for case, (kind, username) in CASES.items():
            _log(f"{case}: {rounds} round(s) in a fresh process")
            r = run_case(env, case, rounds)
            r.update(
                kind=kind,
                label=f"{kind}, {username}",
                best_endpoint=min(r["endpoint"]),
                best_sql=min(r["sql"]),
                memory_mb=(r["maxrss_after_kb"] - r["maxrss_before_kb"]) / 1024,
            )
            r["ratio"] = r["best_endpoint"] / r["best_sql"] if r["best_sql"] else float("inf")
            results.append(r)
        ok = report(info, results, rounds, load_before)
    finally:
        if created and not (args.keep and ready):  # a fill that failed is never kept
            _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        elif created:
            _log(f"kept {name}: rerun with --database-name {name} --messages {args.messages}")
    print(f"\nTotal run time {time.perf_counter() - started:.0f} s.")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
