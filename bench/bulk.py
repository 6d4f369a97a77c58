#!/usr/bin/env python
"""Bulk sends (issue 12, P2): accepting 100,000 personalised recipients, and draining them.

    .venv/bin/python bench/bulk.py [--n 100000] [--po-n N] [--drain-n 20000] [--databases sqlite,postgres]

For each database two fresh ones are created (SQLite: files in a temporary
directory; PostgreSQL: `bench_bulk_<pid>` and `bench_bulk_po_<pid>` at
BENCH_PG_URL, dropped at the end), both migrated with bench.settings, and
every phase runs in a fresh subprocess:

1. **accept**: a stored template (3 variables: name, number, amount; about
   3 KB of HTML with a <style> block and a table) and N rows built in memory,
   then `emails.accepting.bulk_accept` timed: N stored, queued messages, one
   per row, with `email_drain_schedule` patched to a no-op so they stay
   queued. Peak memory growth is the process's RSS high-water mark
   (`getrusage(RUSAGE_SELF).ru_maxrss`, kB on Linux) after the call minus
   before it, the rows already built (their own size is reported apart).
2. **post-office**: in the second database, the same rows rendered before
   timing (subject, HTML and text: the same strings our bulk stores, by the
   same compiled Django templates), then `post_office.mail.send_many` timed
   over them in lists of 1,000 (what a caller with 100,000 emails would do,
   and our chunk size). PO_N may be smaller than N: rates are per second.
3. **drain**: one worker process runs `emails.delivery.email_drain(limit=DRAIN_N)`
   over the bulk's queued messages with bench.backend.SerializingBackend
   (timed); then every drained message is checked: sent, its recipient sent
   with one `send` event, seen by the backend exactly once.
4. **raw limit**: the same DRAIN_N messages, read first, built with
   `emails.delivery.mime.email_build` on unsaved instances and serialised by
   the same backend; a query wrapper fails the run if the database is touched.

    .venv/bin/python bench/bulk.py --profile [accept|drain] [--n 20000] [--databases postgres]

runs the accept phase (or, after an unprofiled accept, the drain) under
cProfile instead: the top functions by cumulative and by own time
(BENCH_PROFILE_FILTER narrows the first listing, BENCH_PROFILE_CALLERS
prints who calls the functions it matches).
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.send_throughput import (  # noqa: E402 (the path above first)
    PG_ADMIN_URL,
    Runner,
    _analyze,
    _build,
    _count_writer_cpu,
    _db_server_cpu,
    _emit,
    _fresh,
    _load,
    _log,
    _NoQueries,
    _sent_log,
    _setup,
    _verdict,
    _wait_for_go,
)

TARGET_PO_RATIO = 3.0
TARGET_MEMORY_MB = 150.0
TARGET_RAW_RATIO = 0.8
AIM_RAW_RATIO = 1.0
PO_CHUNK = 1_000
SLUG = "bench-statement"

SUBJECT = "Your statement #{{ number }} is ready, {{ name }}"
# send_throughput's statement, as a template: name, number and amount vary per person.
HTML = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Your statement is ready</title>
<style>
  body { margin: 0; padding: 0; background: #f4f5f7; font-family: Arial, Helvetica, sans-serif; color: #1f2933; }
  .wrap { max-width: 600px; margin: 0 auto; background: #ffffff; }
  .header { padding: 24px; background: #0b3d91; color: #ffffff; font-size: 20px; }
  .content { padding: 24px; font-size: 15px; line-height: 1.5; }
  .lines { width: 100%; border-collapse: collapse; margin: 16px 0; }
  .lines th { text-align: left; border-bottom: 2px solid #d9dee4; padding: 6px; font-size: 13px; }
  .lines td { border-bottom: 1px solid #eef1f4; padding: 6px; font-size: 14px; }
  .amount { text-align: right; }
  .button { display: inline-block; padding: 12px 20px; background: #0b6bcb; color: #ffffff;
            text-decoration: none; border-radius: 4px; }
  .footer { padding: 16px 24px; font-size: 12px; color: #6b7785; }
  @media (max-width: 480px) { .content { padding: 12px; } .header { font-size: 17px; } }
</style>
</head>
<body>
<div class="wrap">
  <div class="header">Acme Accounting &mdash; statement #{{ number }}</div>
  <div class="content">
    <p>Hello {{ name }},</p>
    <p>Your statement for March is ready. Here is a summary of the activity on account
       <strong>AC-{{ number }}</strong>:</p>
    <table class="lines">
      <tr><th>Date</th><th>Description</th><th class="amount">Amount</th></tr>
      <tr><td>03/02</td><td>Monthly subscription</td><td class="amount">&euro;49.00</td></tr>
      <tr><td>03/09</td><td>Additional seats (3)</td><td class="amount">&euro;27.00</td></tr>
      <tr><td>03/28</td><td>Credit note CN-{{ number }}</td><td class="amount">-&euro;10.00</td></tr>
      <tr><td colspan="2"><strong>Total due</strong></td>
          <td class="amount"><strong>&euro;{{ amount }}</strong></td></tr>
    </table>
    <p>The amount of &euro;{{ amount }} will be collected on April 5 from the card on file. Nothing to do on your
       side.</p>
    <p><a class="button" href="https://portal.example.com/statements/{{ number }}?utm_source=email">View your
       statement</a></p>
    <p>Questions? <a href="https://help.example.com/billing">Read our billing help</a> or reply to this email.</p>
  </div>
  <div class="footer">
    <p>Acme Accounting Ltd, 1 Example Street, Dublin.</p>
    <p><a href="https://portal.example.com/settings/notifications?u={{ number }}">Email preferences</a> &middot;
       <a href="https://example.com/privacy">Privacy</a></p>
  </div>
</div>
</body>
</html>
"""


def _person(i: int) -> tuple[str, str, dict[str, Any]]:
    """Row i: its address, its name and its template data (an O'Brien & <Co> now and then, to be escaped)."""
    name = f"Reader {i}" if i % 10 else f"O'Brien & Co {i}"
    # Strings, as a CSV file gives them (an int would also pass through Django's number formatting).
    # The data's name may hold what HTML must escape (post-office refuses a display name with <>).
    data = {
        "name": name if i % 10 else f"O'Brien & <Co> {i}",
        "number": str(i),
        "amount": f"{40 + i % 997}.{i % 100:02d}",
    }
    return f"reader{i}@example.org", name, data


def _max_rss_kb() -> int:
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # kB on Linux


def _mb(kb: float) -> float:
    return kb * 1024 / 1e6


# --- Child phases (run in fresh subprocesses) ------------------------------


def _owner_and_template() -> Any:
    from django.contrib.auth import get_user_model

    from emails.models import Template
    from emails.templating.services import TemplateDraft, template_save

    owner, _ = get_user_model().objects.get_or_create(username="bench", defaults={"email": "bench@example.com"})
    if not Template.objects.filter(slug=SLUG).exists():
        template_save(
            draft=TemplateDraft(
                slug=SLUG, name="Statement", subject=SUBJECT, html=HTML, text="", category="notification"
            ),
            by=owner,
        )
    return owner


def _profiled(call: Any) -> tuple[Any, float, float]:
    """Run `call` under cProfile, print its listings to stderr; (its result, start, end)."""
    import cProfile
    import pstats

    profiler = cProfile.Profile()
    start = time.perf_counter()
    profiler.enable()
    result = call()
    profiler.disable()
    end = time.perf_counter()
    stats = pstats.Stats(profiler, stream=sys.stderr)
    stats.sort_stats("cumulative").print_stats(os.environ.get("BENCH_PROFILE_FILTER", ""), 30)
    stats.sort_stats("tottime").print_stats(20)
    if os.environ.get("BENCH_PROFILE_CALLERS"):
        stats.print_callers(os.environ["BENCH_PROFILE_CALLERS"])
    return result, start, end


def phase_accept(n: int, profile: bool) -> None:
    from unittest import mock

    from emails.accepting import BulkDraft, BulkRow, bulk_accept
    from emails.choices import MessageStatus
    from emails.models import Message, Recipient, Template
    from emails.templating import message_bodies

    owner = _owner_and_template()
    rss_start = _max_rss_kb()
    rows = []
    for i in range(n):
        address, name, data = _person(i)
        rows.append(BulkRow(to=address, name=name, template_data=data))
    draft = BulkDraft(name="March statements", template=SLUG, category="notification", rows=rows)
    rss_before = _max_rss_kb()
    # Accept without delivering: the messages stay `queued` for the drain.
    with mock.patch("emails.accepting.bulk.email_drain_schedule", lambda: None):
        if profile:
            bulk, start, end = _profiled(lambda: bulk_accept(owner=owner, draft=draft))
            cpu = db_cpu = 0.0
        else:
            db_cpu = _db_server_cpu()
            cpu = time.process_time()
            start = time.perf_counter()
            bulk = bulk_accept(owner=owner, draft=draft)
            end = time.perf_counter()
            cpu = time.process_time() - cpu
            db_cpu = _db_server_cpu() - db_cpu
    rss_after = _max_rss_kb()
    _analyze()
    # The bodies as they go out: stored, or rendered from the bulk when read (emails.templating.bodies).
    seventh = Message.objects.get(bulk=bulk, bulk_index=7)
    html, text = message_bodies(seventh)
    sample = {"subject": seventh.subject, "html_body": html, "text_body": text}
    escaped = message_bodies(Message.objects.get(bulk=bulk, bulk_index=10))[0]
    template = Template.objects.get(slug=SLUG)
    checks = {
        "every row accepted": bulk.accepted == n and not bulk.skipped,
        "one queued message per row": Message.objects.filter(bulk=bulk, status=MessageStatus.QUEUED).count() == n,
        "one recipient per message": Recipient.objects.filter(message__bulk=bulk).count() == n,
        "personalised": sample.get("subject") == "Your statement #7 is ready, Reader 7"
        and "Hello Reader 7," in sample.get("html_body", "")
        and "AC-7" in sample.get("text_body", ""),
        # (Inlined per message, css-inline writes the apostrophe back as a character; inlined once into the
        # source, Django's &#x27; stays. Either way & and < must stay escaped.)
        "variables escaped in HTML": any(f"Hello O{q}Brien &amp; &lt;Co&gt; 10," in escaped for q in ("'", "&#x27;"))
        and "<Co>" not in escaped,
    }
    _emit(
        {
            "n": n,
            "seconds": end - start,
            "cpu": cpu,
            "db_cpu": db_cpu,
            "rss_start_kb": rss_start,
            "rss_before_kb": rss_before,
            "rss_after_kb": rss_after,
            "template_html_bytes": len(template.html.encode()),
            "variables": [v["name"] for v in template.variables],
            "html_bytes": len(sample.get("html_body", "").encode()),
            "text_bytes": len(sample.get("text_body", "").encode()),
            "bodies_stored": bool(seventh.html_body or seventh.text_body),
            "checks": checks,
            "ok": all(checks.values()),
        }
    )


def phase_po_send(n: int) -> None:
    from email.utils import formataddr

    from django.conf import settings
    from post_office import mail
    from post_office.models import STATUS, Email

    from emails.templating import Compiled

    # What a caller of send_many must do first: render every email. Our
    # compiled template gives the very strings our bulk stores.
    compiled = Compiled(subject=SUBJECT, html=HTML, text="")
    kwargs_list = []
    for i in range(n):
        address, name, data = _person(i)
        rendered = compiled.render(data)
        kwargs_list.append(
            {
                "sender": settings.DEFAULT_FROM_EMAIL,
                "recipients": [formataddr((name, address))],
                "subject": rendered.subject,
                "message": rendered.text,
                "html_message": rendered.html,
                "priority": "medium",
            }
        )
    rss_before = _max_rss_kb()
    cpu = time.process_time()
    start = time.perf_counter()
    for at in range(0, n, PO_CHUNK):
        mail.send_many(kwargs_list[at : at + PO_CHUNK])
    end = time.perf_counter()
    cpu = time.process_time() - cpu
    rss_after = _max_rss_kb()
    stored = Email.objects.filter(status=STATUS.queued).count()
    _emit(
        {
            "n": n,
            "seconds": end - start,
            "cpu": cpu,
            "rss_before_kb": rss_before,
            "rss_after_kb": rss_after,
            "ok": stored == n,
        }
    )


def phase_drain(limit: int, profile: bool) -> None:
    from emails.delivery import email_drain

    _wait_for_go()
    if profile:
        done, start, end = _profiled(lambda: email_drain(limit=limit))
        _emit({"start": start, "end": end, "done": done, "cpu": 0.0, "db_cpu": 0.0})
        return
    writers: list[float] = []
    _count_writer_cpu(writers)
    db_cpu = _db_server_cpu()
    cpu = time.process_time()
    start = time.perf_counter()
    done = email_drain(limit=limit)
    end = time.perf_counter()
    cpu = time.process_time() - cpu
    db_cpu = _db_server_cpu() - db_cpu + sum(writers)
    from bench.backend import flush_sent_log

    flush_sent_log()
    _emit({"start": start, "end": end, "done": done, "cpu": cpu, "db_cpu": db_cpu})


def phase_verify(n: int, sent_dir: str) -> None:
    from django.db.models import Count

    from emails.choices import EventType, MessageStatus, RecipientStatus
    from emails.models import Event, Message, Recipient

    log = _sent_log(sent_dir)
    sent = {str(pk) for pk in Message.objects.filter(status=MessageStatus.SENT).values_list("pk", flat=True)}
    sent_recipients = Recipient.objects.filter(message__status=MessageStatus.SENT)
    events = dict(
        Event.objects.filter(type=EventType.SEND)
        .values("recipient_id")
        .annotate(c=Count("id"))
        .values_list("recipient_id", "c")
    )
    checks = {
        "drained messages sent": len(sent) == n,
        "the rest still queued": Message.objects.filter(status=MessageStatus.QUEUED).count()
        == Message.objects.count() - n,
        "their recipients sent": not sent_recipients.exclude(status=RecipientStatus.SENT).exists(),
        "one send event per recipient": set(events) == set(sent_recipients.values_list("pk", flat=True))
        and all(c == 1 for c in events.values()),
        "backend saw each once": log["total"] == n and log["distinct"] == n and log["duplicates"] == 0,
        "backend saw exactly those": {m for m, _ in log["pairs"]} == sent,
    }
    _emit({"ok": all(checks.values()), "checks": checks, "duplicates": log["duplicates"]})


def _sent_content() -> list[dict[str, str]]:
    """The drained messages (now `sent`) with their recipient, as stored: what the raw limit builds again."""
    from emails.choices import MessageStatus
    from emails.models import Message, Recipient

    messages = {
        row["id"]: row
        for row in Message.objects.filter(status=MessageStatus.SENT).values(
            "id", "subject", "text_body", "html_body", "from_email", "category", "reply_to", "bulk_id", "template_data"
        )
    }
    rows = []
    recipients = Recipient.objects.filter(message__status=MessageStatus.SENT)
    for r in recipients.order_by("message__created_at").values("message_id", "kind", "address", "display_name"):
        m = messages[r["message_id"]]
        rows.append(
            {**m, "id": str(m["id"]), "kind": r["kind"], "address": r["address"], "display_name": r["display_name"]}
        )
    return rows


def phase_raw() -> None:
    from django.db import connection

    from bench.backend import SerializingBackend, flush_sent_log

    rows = _sent_content()
    backend = SerializingBackend()
    if rows:
        _build(rows[0])  # the bulk's compiled template, read once per process, as a worker does
    _wait_for_go()
    with connection.execute_wrapper(_NoQueries()):
        cpu = time.process_time()
        start = time.perf_counter()
        backend.open()
        for row in rows:
            email, _ = _build(row)
            backend.send_messages([email])
        backend.close()
        end = time.perf_counter()
        cpu = time.process_time() - cpu
    flush_sent_log()
    log = _sent_log(os.environ["BENCH_SENT_DIR"])
    ok = log["total"] == len(rows) and log["distinct"] == len(rows)
    _emit({"start": start, "end": end, "cpu": cpu, "n": len(rows), "ok": ok})


def child(argv: list[str]) -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--phase", required=True)
    parser.add_argument("--n", type=int, default=0)
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--path", default="")
    args = parser.parse_args(argv)
    _setup()
    if args.phase == "accept":
        phase_accept(args.n, args.profile)
    elif args.phase == "po-send":
        phase_po_send(args.n)
    elif args.phase == "drain":
        phase_drain(args.n, args.profile)
    elif args.phase == "verify":
        phase_verify(args.n, args.path)
    elif args.phase == "raw":
        phase_raw()
    else:
        raise SystemExit(f"unknown phase {args.phase}")


# --- Parent: databases, subprocesses, the report --------------------------


class BulkRunner(Runner):
    def _command(self, phase: str, *args: str) -> list[str]:
        return [sys.executable, str(Path(__file__).resolve()), "--child", "--phase", phase, *args]


def _create_database(kind: str, workdir: Path, tag: str) -> tuple[str, str]:
    if kind == "sqlite":
        return f"sqlite:///{workdir / f'{tag}.sqlite3'}", ""
    import psycopg

    name = f"{tag}_{os.getpid()}"
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')
    base = PG_ADMIN_URL.rsplit("/", 1)[0]
    return f"{base}/{name}", name


def _drop_database(name: str) -> None:
    if not name:
        return
    import psycopg

    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _env(url: str) -> dict[str, str]:
    env = dict(
        os.environ,
        DJANGO_SETTINGS_MODULE="bench.settings",
        DATABASE_URL=url,
        DJANGO_SECRET_KEY="bench-only-secret-key-not-for-production",
        SES_EMULATED="0",
        EMAIL_BACKEND="bench.backend.SerializingBackend",
        LOG_LEVEL="WARNING",
        PYTHONPATH=os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]).rstrip(os.pathsep),
    )
    env.pop("CELERY_BROKER_URL", None)
    return env


def _migrate(env: dict[str, str]) -> None:
    subprocess.run([sys.executable, str(ROOT / "manage.py"), "migrate", "-v", "0"], env=env, check=True)


def run_database(kind: str, n: int, po_n: int, drain_n: int, profile: str) -> dict[str, Any]:
    workdir = Path(tempfile.mkdtemp(prefix=f"bench_bulk_{kind}_"))
    names: list[str] = []
    out: dict[str, Any] = {"database": kind, "n": n, "po_n": po_n, "drain_n": drain_n}
    try:
        url, name = _create_database(kind, workdir, "bench_bulk")
        names.append(name)
        ours = BulkRunner(_env(url), workdir)
        _log(f"[{kind}] migrating a fresh database")
        _migrate(ours.env)
        _log(f"[{kind}] bulk_accept of {n} rows" + (" under cProfile" if profile == "accept" else ""))
        accept = ours.run("accept", "--n", str(n), *(["--profile"] if profile == "accept" else []))
        out["accept"] = accept
        if profile == "accept":
            return out
        if profile == "drain":
            _log(f"[{kind}] draining {drain_n} of the bulk with one worker under cProfile")
            out["drain"] = ours.released(
                "drain", 1, "--n", str(drain_n), "--profile", sent_dir=_fresh(workdir, "drain")
            )
            return out

        po_url, po_name = _create_database(kind, workdir, "bench_bulk_po")
        names.append(po_name)
        po = BulkRunner(_env(po_url), workdir)
        _log(f"[{kind}] migrating a fresh database for django-post-office")
        _migrate(po.env)
        _log(f"[{kind}] django-post-office: send_many of {po_n} rendered emails")
        out["po"] = po.run("po-send", "--n", str(po_n))
        _drop_database(po_name)

        _log(f"[{kind}] draining {drain_n} of the bulk with one worker")
        out["drain"] = ours.released("drain", 1, "--n", str(drain_n), sent_dir=_fresh(workdir, "drain"))
        out["verify"] = ours.run("verify", "--n", str(drain_n), "--path", str(workdir / "drain"))
        _log(f"[{kind}] raw limit: build and serialise the same {drain_n}, no database")
        out["raw"] = ours.released("raw", 1, sent_dir=_fresh(workdir, "raw"))
        return out
    finally:
        for name in names:
            _drop_database(name)
        shutil.rmtree(workdir, ignore_errors=True)


def report(results: list[dict[str, Any]], load_before: str) -> bool:
    from importlib.metadata import version

    first = results[0]
    a = first["accept"]
    print()
    print(
        f"Bulk sends (issue 12, P2): N = {first['n']} personalised recipients, template {SLUG!r} with variables "
        f"{', '.join(a['variables'])}, {a['template_html_bytes'] / 1000:.1f} KB of HTML source; a message "
        f"has {a['html_bytes'] / 1000:.1f} KB of HTML (CSS inlined) and {a['text_bytes'] / 1000:.1f} KB of text, "
        + ("stored with it." if a["bodies_stored"] else "rendered from the bulk when read, not stored.")
    )
    print(
        f"Machine: {os.cpu_count()} cores; load average before {load_before}, after {_load()}. "
        f"Python {sys.version.split()[0]}, Django {version('django')}, "
        f"django-post-office {version('django-post-office')}."
    )
    if any(r["po_n"] != r["n"] for r in results):
        print(
            f"NOTE: django-post-office ran at {first['po_n']} emails, not {first['n']} (to bound the run's time); "
            "rates are per second, so they compare."
        )
    if any(r["drain_n"] != r["n"] for r in results):
        print(
            f"NOTE: the drain takes the first {first['drain_n']} of the bulk's {first['n']} messages (to bound time)."
        )
    print()
    print("Accepting (recipients/s; peak RSS growth = ru_maxrss after bulk_accept minus before, rows already built)")
    header = (
        f"{'database':<10} {'ours':>8} {'CPU ms':>12} {'post-off':>9} {'ours/PO':>8} "
        f"{'ours RSS +':>11} {'rows RSS':>9} {'PO RSS +':>9}"
    )
    print(header)
    print("-" * len(header))
    for r in results:
        a, p = r["accept"], r["po"]
        ours = r["n"] / a["seconds"]
        theirs = p["n"] / p["seconds"]
        server = f"+{1000 * a['db_cpu'] / r['n']:.2f}" if a["db_cpu"] else ""
        cpu = f"{1000 * a['cpu'] / r['n']:.2f}{server}"
        r["rates"] = {"ours": ours, "po": theirs, "growth_mb": _mb(a["rss_after_kb"] - a["rss_before_kb"])}
        print(
            f"{r['database']:<10} {ours:>8.0f} {cpu:>12} {theirs:>9.0f} {ours / theirs:>8.2f} "
            f"{r['rates']['growth_mb']:>8.1f} MB {_mb(a['rss_before_kb'] - a['rss_start_kb']):>6.1f} MB "
            f"{_mb(p['rss_after_kb'] - p['rss_before_kb']):>6.1f} MB"
        )
    print(
        "CPU ms = CPU per recipient of the accepting process [+ of its PostgreSQL backend]; rows RSS = the growth "
        "from building the N BulkRows (the caller's input), not counted in ours."
    )
    print(
        "post-office: "
        + ", ".join(f"{r['database']} {r['po']['seconds']:.1f} s for {r['po_n']}" for r in results)
        + f" (send_many in lists of {PO_CHUNK}); ours: "
        + ", ".join(f"{r['database']} {r['accept']['seconds']:.1f} s for {r['n']}" for r in results)
        + "."
    )
    print()
    print("Draining (messages/s, one worker; raw = email_build + serialisation of the same messages, no database)")
    header = f"{'database':<10} {'drain':>8} {'CPU ms':>12} {'raw':>8} {'CPU ms':>7} {'drain/raw':>10}"
    print(header)
    print("-" * len(header))
    for r in results:
        d, w = r["drain"], r["raw"]
        dn = r["drain_n"]
        drain = dn / d["seconds"]
        raw = w["workers"][0]["n"] / w["seconds"]
        r["rates"].update(drain=drain, raw=raw)
        worker = d["workers"][0]
        server = f"+{1000 * worker['db_cpu'] / dn:.2f}" if worker["db_cpu"] else ""
        print(
            f"{r['database']:<10} {drain:>8.0f} {1000 * worker['cpu'] / dn:>6.2f}{server:<6} {raw:>8.0f} "
            f"{1000 * w['workers'][0]['cpu'] / dn:>7.2f} {drain / raw:>10.2f}"
        )
    print()
    print("Targets:")
    for r in results:
        db, rates = f"[{r['database']}]", r["rates"]
        ratio = rates["ours"] / rates["po"]
        label = f"accepting >= {TARGET_PO_RATIO:g} x post-office:"
        print(f"  {db:<10} {label:<36} {ratio:6.2f}  {_verdict(ratio >= TARGET_PO_RATIO)}")
        growth = rates["growth_mb"]
        label = f"peak memory growth < {TARGET_MEMORY_MB:g} MB:"
        print(f"  {db:<10} {label:<36} {growth:6.1f}  {_verdict(growth < TARGET_MEMORY_MB)}")
        ratio = rates["drain"] / rates["raw"]
        aim = "aim of 1 met" if ratio >= AIM_RAW_RATIO else "aim of 1 not met"
        label = f"drain >= {TARGET_RAW_RATIO} x raw limit:"
        print(f"  {db:<10} {label:<36} {ratio:6.2f}  {_verdict(ratio >= TARGET_RAW_RATIO)} ({aim})")
    print()
    print("Correctness:")
    correct = True
    for r in results:
        db = r["database"]
        for label, result in (
            ("accept", r["accept"]),
            ("drain", r["verify"]),
        ):
            failed = [name for name, good in result["checks"].items() if not good]
            correct &= result["ok"]
            detail = ", ".join(result["checks"]) if result["ok"] else "FAILED: " + ", ".join(failed)
            print(f"  [{db}] {label:<7} {_verdict(result['ok'])}  {detail}")
        po_ok, raw_ok = r["po"]["ok"], r["raw"]["workers"][0]["ok"]
        correct &= po_ok and raw_ok
        print(
            f"  [{db}] post-office stored {r['po_n']} queued emails: {_verdict(po_ok)}; "
            f"raw limit serialised each once: {_verdict(raw_ok)}"
        )
    return correct


def main() -> None:
    if "--child" in sys.argv[1:]:
        child([a for a in sys.argv[1:] if a != "--child"])
        return
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=100_000, help="recipients of the bulk (default 100000)")
    parser.add_argument("--po-n", type=int, default=0, help="emails given to post-office's send_many (default N)")
    parser.add_argument("--drain-n", type=int, default=20_000, help="messages of the bulk drained (default 20000)")
    parser.add_argument("--databases", default="sqlite,postgres", help="comma-separated: sqlite,postgres")
    parser.add_argument(
        "--profile", nargs="?", const="accept", choices=["accept", "drain"], help="profile one phase instead"
    )
    args = parser.parse_args()
    kinds = [k.strip() for k in args.databases.split(",") if k.strip()]
    for kind in kinds:
        if kind not in {"sqlite", "postgres"}:
            parser.error(f"unknown database {kind!r}")
    po_n, drain_n = min(args.po_n or args.n, args.n), min(args.drain_n, args.n)
    started = time.perf_counter()
    load_before = _load()
    print(f"Started {time.strftime('%Y-%m-%d %H:%M:%S %Z')}", flush=True)
    results = [run_database(kind, args.n, po_n, drain_n, args.profile) for kind in kinds]
    if args.profile:
        for r in results:
            a = r["accept"]
            print(f"[{r['database']}] bulk_accept of {r['n']}: {a['seconds']:.1f} s ({a['checks']})")
            if "drain" in r:
                print(f"[{r['database']}] profiled drain of {drain_n}: {r['drain']['seconds']:.1f} s")
        return
    ok = report(results, load_before)
    print(f"\nTotal run time {time.perf_counter() - started:.0f} s.")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
