#!/usr/bin/env python
"""Send throughput: our drain against django-post-office and against the raw limit.

    .venv/bin/python bench/send_throughput.py [--n 5000] [--databases sqlite,postgres]

For each database a fresh one is created (SQLite: a file in a temporary
directory; PostgreSQL: `bench_send_<pid>`, dropped at the end) and migrated
with bench.settings. Every phase then runs in a fresh subprocess, so imports
and caches are equal and two workers are two real processes:

1. queue N one-recipient messages through emails.accepting.email_queue, with
   email_send_schedule patched to a no-op so they stay `queued` (msgs/s reported);
2. drain them with one worker process (emails.delivery.email_drain), timing
   only the drain; check every message is sent exactly once (on PostgreSQL
   the drain writes outcomes on a second connection: the CPU figure of the
   database counts the backends of both);
3. empty the tables, queue N again and drain with two worker processes
   released together (time from the first start to the last finish); check
   every message is `sent`, every recipient has exactly one `send` Event and
   the backend saw every message exactly once;
4. django-post-office: queue the same N (the subject, text and HTML our
   email_queue stored, the same headers, so both serialise the same MIME) and
   time `post_office.mail.send_queued_mail_until_done(processes=1)` (what its
   `send_queued_mail` command runs: send_queued() in batches of 500 until
   none is left);
5. the raw limit: build the same N messages with emails.delivery.mime.email_build on
   unsaved Message/Recipient instances and serialise each with the same
   backend; no database at all.

All sends go through bench.backend.SerializingBackend, which serialises each
message to raw MIME bytes like django-ses does for SendRawEmail, sends
nothing, and notes (crm_message_id, recipient) per process so duplicates
across processes are detectable.

    .venv/bin/python bench/send_throughput.py --profile [--databases postgres]

queues N and drains them with one worker under cProfile instead, printing
the top 25 functions by cumulative time.

Timing uses time.perf_counter; on Linux it reads CLOCK_MONOTONIC, one clock
for the whole machine, so start and end times of different workers compare.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

PG_ADMIN_URL = os.environ.get("BENCH_PG_URL", "postgresql://postgres@127.0.0.1:5432/postgres")

TARGET_RAW_RATIO = 0.8
TARGET_TWO_WORKERS = 1.7

# A realistic notification: a <style> block (with an @media rule that stays
# a <style> block after inlining), sections, a table, links and a button.
# {i} and {name} make every message a little different, as a mail merge does.
HTML = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Your statement is ready</title>
<style>
  body {{ margin: 0; padding: 0; background: #f4f5f7; font-family: Arial, Helvetica, sans-serif; color: #1f2933; }}
  .wrap {{ max-width: 600px; margin: 0 auto; background: #ffffff; }}
  .header {{ padding: 24px; background: #0b3d91; color: #ffffff; font-size: 20px; }}
  .content {{ padding: 24px; font-size: 15px; line-height: 1.5; }}
  .lines {{ width: 100%; border-collapse: collapse; margin: 16px 0; }}
  .lines th {{ text-align: left; border-bottom: 2px solid #d9dee4; padding: 6px; font-size: 13px; }}
  .lines td {{ border-bottom: 1px solid #eef1f4; padding: 6px; font-size: 14px; }}
  .amount {{ text-align: right; }}
  .button {{ display: inline-block; padding: 12px 20px; background: #0b6bcb; color: #ffffff;
            text-decoration: none; border-radius: 4px; }}
  .footer {{ padding: 16px 24px; font-size: 12px; color: #6b7785; }}
  @media (max-width: 480px) {{ .content {{ padding: 12px; }} .header {{ font-size: 17px; }} }}
</style>
</head>
<body>
<div class="wrap">
  <div class="header">Acme Accounting &mdash; statement #{i}</div>
  <div class="content">
    <p>Hello {name},</p>
    <p>Your statement for March is ready. Here is a summary of the activity on account <strong>AC-{i:06d}</strong>:</p>
    <table class="lines">
      <tr><th>Date</th><th>Description</th><th class="amount">Amount</th></tr>
      <tr><td>03/02</td><td>Monthly subscription</td><td class="amount">&euro;49.00</td></tr>
      <tr><td>03/09</td><td>Additional seats (3)</td><td class="amount">&euro;27.00</td></tr>
      <tr><td>03/28</td><td>Credit note CN-{i}</td><td class="amount">-&euro;10.00</td></tr>
      <tr><td colspan="2"><strong>Total due</strong></td><td class="amount"><strong>&euro;66.00</strong></td></tr>
    </table>
    <p>The amount will be collected on April 5 from the card on file. Nothing to do on your side.</p>
    <p><a class="button" href="https://portal.example.com/statements/{i}?utm_source=email">View your statement</a></p>
    <p>Questions? <a href="https://help.example.com/billing">Read our billing help</a> or reply to this email.</p>
  </div>
  <div class="footer">
    <p>Acme Accounting Ltd, 1 Example Street, Dublin.</p>
    <p><a href="https://portal.example.com/settings/notifications?u={i}">Email preferences</a> &middot;
       <a href="https://example.com/privacy">Privacy</a></p>
  </div>
</div>
</body>
</html>
"""


def _address(i: int) -> tuple[str, str]:
    return f"reader{i}@example.org", f"Reader {i}"


# --- Child phases (run in fresh subprocesses) ------------------------------


def _setup() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings")
    import logging

    import django

    django.setup()
    for name in ("post_office", "emails"):
        logging.getLogger(name).setLevel(logging.WARNING)


def _emit(result: dict[str, Any]) -> None:
    sys.stdout.write("RESULT " + json.dumps(result) + "\n")
    sys.stdout.flush()


def _wait_for_go() -> None:
    """Tell the parent this process is set up, then wait until it releases all workers together."""
    from django.db import connection

    connection.ensure_connection()
    sys.stdout.write("READY\n")
    sys.stdout.flush()
    line = sys.stdin.readline()
    if line.strip() != "GO":
        raise SystemExit(f"expected GO, got {line!r}")


def _process_cpu(pid: int) -> float:
    """CPU seconds a local process has used so far (0 for a server on another machine)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _db_server_cpu() -> float:
    """CPU seconds used so far by the PostgreSQL backend serving this process's connection (0 elsewhere)."""
    from django.db import connection

    if connection.vendor != "postgresql":
        return 0.0
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        pid = cursor.fetchone()[0]
    return _process_cpu(pid)


def _count_writer_cpu(spent: list[float]) -> None:
    """Add the CPU of the backend serving each background outcome writer (its second connection), read as it closes."""
    from emails.delivery.writer import BackgroundWriter

    real_close = BackgroundWriter.close

    def close(self: BackgroundWriter) -> None:
        self.wait()
        spent.append(_process_cpu(self.connection.info.backend_pid))
        real_close(self)

    BackgroundWriter.close = close  # type: ignore[method-assign]


def _reset_tables() -> None:
    from django.db import connection

    from emails.models import Event, IdempotencyKey, Message, Recipient

    tables = [m._meta.db_table for m in (Event, IdempotencyKey, Recipient, Message)]
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(f"TRUNCATE {', '.join(tables)} CASCADE")
        else:
            for table in tables:
                cursor.execute(f"DELETE FROM {table}")


def _analyze() -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")


def phase_queue(n: int, reset: bool) -> None:
    from unittest import mock

    from django.conf import settings
    from django.contrib.auth import get_user_model

    from emails.accepting import EmailDraft, email_queue

    if reset:
        _reset_tables()
    owner, _ = get_user_model().objects.get_or_create(username="bench", defaults={"email": "bench@example.com"})
    requests = []
    for i in range(n):
        address, name = _address(i)
        requests.append(
            EmailDraft(
                to=f'"{name}" <{address}>' if name else address,
                subject=f"Your March statement #{i} is ready",
                category="notification",
                html=HTML.format(i=i, name=name),
            )
        )
    # Queue without delivering: the messages stay `queued` for the drain.
    with mock.patch("emails.accepting.services.email_send_schedule", lambda **kwargs: None):
        start = time.perf_counter()
        for request in requests:
            email_queue(owner=owner, draft=request)
        end = time.perf_counter()
    _analyze()
    from emails.models import Message

    sample = Message.objects.order_by("created_at").values("html_body", "text_body").first() or {}
    _emit(
        {
            "n": n,
            "seconds": end - start,
            "html_bytes": len(sample.get("html_body", "").encode()),
            "text_bytes": len(sample.get("text_body", "").encode()),
            "settings": {
                name: getattr(settings, name)
                for name in ("EMAIL_DRAIN_BATCH_SIZE", "EMAIL_RECORD_MAX_DELAY_MS", "EMAIL_RECORD_MAX_CALLS")
            },
        }
    )


def phase_drain(profile: bool) -> None:
    from emails.delivery import email_drain

    _wait_for_go()
    if profile:
        import cProfile
        import pstats

        profiler = cProfile.Profile()
        start = time.perf_counter()
        profiler.enable()
        done = email_drain()
        profiler.disable()
        end = time.perf_counter()
        db_cpu = cpu = 0.0
        stats = pstats.Stats(profiler, stream=sys.stderr)
        stats.sort_stats("cumulative").print_stats(os.environ.get("BENCH_PROFILE_FILTER", ""), 25)
        stats.sort_stats("tottime").print_stats(15)
        if os.environ.get("BENCH_PROFILE_CALLEES"):
            stats.print_callees(os.environ["BENCH_PROFILE_CALLEES"])
        if os.environ.get("BENCH_PROFILE_CALLERS"):
            stats.print_callers(os.environ["BENCH_PROFILE_CALLERS"])
    else:
        writers: list[float] = []
        _count_writer_cpu(writers)
        db_cpu = _db_server_cpu()
        cpu = time.process_time()
        start = time.perf_counter()
        done = email_drain()
        end = time.perf_counter()
        cpu = time.process_time() - cpu
        db_cpu = _db_server_cpu() - db_cpu + sum(writers)
    from bench.backend import flush_sent_log

    flush_sent_log()
    _emit({"start": start, "end": end, "done": done, "cpu": cpu, "db_cpu": db_cpu})


def _sent_log(sent_dir: str) -> dict[str, Any]:
    per_file = []
    pairs: Counter[tuple[str, str]] = Counter()
    for path in sorted(Path(sent_dir).glob("sent-*.tsv")):
        lines = path.read_text(encoding="utf-8").splitlines()
        per_file.append(len(lines))
        pairs.update(tuple(line.split("\t", 1)) for line in lines)  # type: ignore[misc]
    return {
        "pairs": pairs,
        "per_process": per_file,
        "total": sum(per_file),
        "distinct": len(pairs),
        "duplicates": sum(1 for c in pairs.values() if c > 1),
    }


def phase_verify(n: int, sent_dir: str) -> None:
    from django.db.models import Count

    from emails.choices import EventType, MessageStatus, RecipientStatus
    from emails.models import Event, Message, Recipient

    log = _sent_log(sent_dir)
    message_ids = {str(pk) for pk in Message.objects.values_list("pk", flat=True)}
    recipients = set(Recipient.objects.values_list("message_id", "address"))
    sends = Counter(
        dict(
            Event.objects.filter(type=EventType.SEND)
            .values("recipient_id")
            .annotate(c=Count("id"))
            .values_list("recipient_id", "c")
        )
    )
    recipient_ids = set(Recipient.objects.values_list("pk", flat=True))
    checks = {
        "messages": len(message_ids) == n,
        "all messages sent": not Message.objects.exclude(status=MessageStatus.SENT).exists(),
        "all recipients sent": not Recipient.objects.exclude(status=RecipientStatus.SENT).exists(),
        "one send event per recipient": set(sends) == recipient_ids and all(c == 1 for c in sends.values()),
        "backend saw each message once": log["total"] == n and log["distinct"] == n and log["duplicates"] == 0,
        "backend saw exactly our messages": {m for m, _ in log["pairs"]} == message_ids
        and {(uuid.UUID(m), a.rpartition("<")[2].rstrip(">")) for m, a in log["pairs"]}
        == {(m, a) for m, a in recipients},
    }
    _emit(
        {
            "ok": all(checks.values()),
            "checks": checks,
            "per_process": log["per_process"],
            "duplicates": log["duplicates"],
        }
    )


def _stored_content() -> list[dict[str, str]]:
    from emails.models import Message, Recipient

    messages = {
        row["id"]: row
        for row in Message.objects.values(
            "id", "subject", "text_body", "html_body", "from_email", "category", "reply_to"
        )
    }
    rows = []
    for r in Recipient.objects.order_by("message__created_at").values("message_id", "kind", "address", "display_name"):
        m = messages[r["message_id"]]
        rows.append(
            {**m, "id": str(m["id"]), "kind": r["kind"], "address": r["address"], "display_name": r["display_name"]}
        )
    return rows


def _build(row: dict[str, str]) -> Any:
    """Our email for one stored row, built on unsaved instances: no database query."""
    from emails.delivery.mime import email_build
    from emails.models import Message, Recipient

    message = Message(
        id=uuid.UUID(row["id"]),
        from_email=row["from_email"],
        reply_to=row["reply_to"],
        subject=row["subject"],
        html_body=row["html_body"],
        text_body=row["text_body"],
        category=row["category"],
        # A bulk's message whose bodies are rendered from its bulk when read: the worker's work too.
        bulk_id=row.get("bulk_id"),
        template_data=row.get("template_data") or {},
    )
    recipient = Recipient(message=message, kind=row["kind"], address=row["address"], display_name=row["display_name"])
    return email_build(message=message, group=[recipient]), recipient


class _NoQueries:
    """Raises on any database query: the raw limit must not touch the database."""

    def __call__(self, execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        raise AssertionError(f"the raw limit ran a query: {sql}")


def _mime_without_ids(raw: bytes) -> bytes:
    """Raw MIME without the headers and boundaries that differ on every serialisation."""
    import re

    raw = re.sub(rb"(?m)^(Message-ID|Date): .*\r\n", b"", raw)
    return re.sub(rb"=+\d{15,}==", b"BOUNDARY", raw)


def phase_po_queue(content_path: str) -> None:
    from django_ses import get_message_bytes
    from post_office import mail
    from post_office.models import Email, Log

    rows = _stored_content()
    Path(content_path).write_text(json.dumps(rows), encoding="utf-8")
    Log.objects.all().delete()
    Email.objects.all().delete()
    sends = []
    for row in rows:
        # The same recipient and headers as ours (the SES message tags carry our Message id).
        email, recipient = _build(row)
        sends.append(
            {
                "recipients": [recipient.formatted()],
                "sender": row["from_email"],
                "subject": row["subject"],
                "message": row["text_body"],
                "html_message": row["html_body"],
                "headers": dict(email.extra_headers),
                "priority": "medium",
            }
        )
    start = time.perf_counter()
    for kwargs in sends:
        mail.send(**kwargs)
    end = time.perf_counter()
    _analyze()
    # Both sides must hand the backend the same MIME.
    first = Email.objects.order_by("id").first()
    ours = _mime_without_ids(get_message_bytes(_build(rows[0])[0]))
    theirs = _mime_without_ids(get_message_bytes(first.prepare_email_message())) if first else b""
    _emit({"n": len(rows), "seconds": end - start, "mime_equal": ours == theirs, "mime_bytes": len(ours)})


def phase_po_drain(lockfile: str) -> None:
    from post_office.mail import send_queued_mail_until_done

    _wait_for_go()
    cpu = time.process_time()
    start = time.perf_counter()
    send_queued_mail_until_done(lockfile=lockfile, processes=1)
    end = time.perf_counter()
    cpu = time.process_time() - cpu
    from bench.backend import flush_sent_log

    flush_sent_log()
    _emit({"start": start, "end": end, "cpu": cpu})


def phase_po_verify(n: int, sent_dir: str) -> None:
    from post_office.models import STATUS, Email

    log = _sent_log(sent_dir)
    sent = Email.objects.filter(status=STATUS.sent).count()
    checks = {
        "all emails sent": sent == n and Email.objects.count() == n,
        "backend saw each message once": log["total"] == n and log["distinct"] == n,
    }
    _emit(
        {
            "ok": all(checks.values()),
            "checks": checks,
            "per_process": log["per_process"],
            "duplicates": log["duplicates"],
        }
    )


def phase_raw(content_path: str) -> None:
    from bench.backend import SerializingBackend, flush_sent_log

    rows = json.loads(Path(content_path).read_text(encoding="utf-8"))
    backend = SerializingBackend()
    from django.db import connection

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
    _emit({"start": start, "end": end, "cpu": cpu, "ok": ok})


def child(argv: list[str]) -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--phase", required=True)
    parser.add_argument("--n", type=int, default=0)
    parser.add_argument("--reset", action="store_true")
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--path", default="")
    args = parser.parse_args(argv)
    _setup()
    if args.phase == "queue":
        phase_queue(args.n, args.reset)
    elif args.phase == "drain":
        phase_drain(args.profile)
    elif args.phase == "verify":
        phase_verify(args.n, args.path)
    elif args.phase == "po-queue":
        phase_po_queue(args.path)
    elif args.phase == "po-drain":
        phase_po_drain(args.path)
    elif args.phase == "po-verify":
        phase_po_verify(args.n, args.path)
    elif args.phase == "raw":
        phase_raw(args.path)
    else:
        raise SystemExit(f"unknown phase {args.phase}")


# --- Parent: databases, subprocesses, the report --------------------------


class Runner:
    def __init__(self, env: dict[str, str], workdir: Path) -> None:
        self.env = env
        self.workdir = workdir

    def _command(self, phase: str, *args: str) -> list[str]:
        return [sys.executable, str(Path(__file__).resolve()), "--child", "--phase", phase, *args]

    @staticmethod
    def _result(stdout: str, what: str) -> dict[str, Any]:
        for line in stdout.splitlines():
            if line.startswith("RESULT "):
                return json.loads(line[len("RESULT ") :])
        raise RuntimeError(f"{what}: no result in its output:\n{stdout}")

    def run(self, phase: str, *args: str, sent_dir: Path | None = None) -> dict[str, Any]:
        env = dict(self.env)
        if sent_dir is not None:
            env["BENCH_SENT_DIR"] = str(sent_dir)
        proc = subprocess.run(self._command(phase, *args), env=env, stdout=subprocess.PIPE, text=True, check=False)
        if proc.returncode:
            raise RuntimeError(f"phase {phase} failed with exit code {proc.returncode}:\n{proc.stdout}")
        return self._result(proc.stdout, phase)

    def released(self, phase: str, count: int, *args: str, sent_dir: Path) -> dict[str, Any]:
        """Start `count` processes, let them set up, release them together; the span from first start to last end."""
        env = dict(self.env, BENCH_SENT_DIR=str(sent_dir))
        procs = [
            subprocess.Popen(
                self._command(phase, *args), env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
            )
            for _ in range(count)
        ]
        try:
            for proc in procs:
                line = proc.stdout.readline() if proc.stdout else ""
                if line.strip() != "READY":
                    raise RuntimeError(f"{phase}: worker did not get ready: {line!r}")
            for proc in procs:
                assert proc.stdin is not None
                proc.stdin.write("GO\n")
                proc.stdin.flush()
            results = []
            for proc in procs:
                out, _ = proc.communicate()
                if proc.returncode:
                    raise RuntimeError(f"{phase} worker failed with exit code {proc.returncode}:\n{out}")
                results.append(self._result(out, phase))
        finally:
            for proc in procs:
                if proc.poll() is None:
                    proc.kill()
        span = max(r["end"] for r in results) - min(r["start"] for r in results)
        return {"seconds": span, "workers": results}


def _create_database(kind: str, workdir: Path) -> tuple[str, str]:
    if kind == "sqlite":
        return f"sqlite:///{workdir / 'bench.sqlite3'}", ""
    import psycopg

    name = f"bench_send_{os.getpid()}"
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


def _log(message: str) -> None:
    print(f"  {time.strftime('%H:%M:%S')} {message}", file=sys.stderr, flush=True)


def run_database(kind: str, n: int, rounds: int, profile: bool) -> dict[str, Any]:
    workdir = Path(tempfile.mkdtemp(prefix=f"bench_send_{kind}_"))
    url, pg_name = _create_database(kind, workdir)
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
    runner = Runner(env, workdir)
    out: dict[str, Any] = {"database": kind, "n": n, "rounds": []}
    try:
        _log(f"[{kind}] migrating a fresh database")
        subprocess.run([sys.executable, str(ROOT / "manage.py"), "migrate", "-v", "0"], env=env, check=True)

        if profile:
            _log(f"[{kind}] queueing {n}")
            runner.run("queue", "--n", str(n))
            _log(f"[{kind}] profiled drain, one worker")
            out["profile"] = runner.released("drain", 1, "--profile", sent_dir=_fresh(workdir, "profile"))
            return out

        content = str(workdir / "content.json")
        for i in range(1, rounds + 1):
            tag = f"[{kind} {i}/{rounds}]"
            _log(f"{tag} queueing {n} through email_queue")
            q1 = runner.run("queue", "--n", str(n), "--reset")
            _log(f"{tag} draining with one worker")
            d1 = runner.released("drain", 1, sent_dir=_fresh(workdir, f"one-{i}"))
            v1 = runner.run("verify", "--n", str(n), "--path", str(workdir / f"one-{i}"))

            _log(f"{tag} queueing {n} again")
            q2 = runner.run("queue", "--n", str(n), "--reset")
            _log(f"{tag} draining with two workers")
            d2 = runner.released("drain", 2, sent_dir=_fresh(workdir, f"two-{i}"))
            v2 = runner.run("verify", "--n", str(n), "--path", str(workdir / f"two-{i}"))

            _log(f"{tag} django-post-office: queueing the same {n}")
            pq = runner.run("po-queue", "--path", content)
            _log(f"{tag} django-post-office: send_queued_mail_until_done(processes=1)")
            pd = runner.released("po-drain", 1, "--path", str(workdir / "po"), sent_dir=_fresh(workdir, f"po-{i}"))
            pv = runner.run("po-verify", "--n", str(n), "--path", str(workdir / f"po-{i}"))

            _log(f"{tag} raw limit: build and serialise the same {n}, no database")
            raw = runner.released("raw", 1, "--path", content, sent_dir=_fresh(workdir, f"raw-{i}"))

            out["rounds"].append(
                {
                    "queue": n / min(q1["seconds"], q2["seconds"]),
                    "po_queue": n / pq["seconds"],
                    "one": n / d1["seconds"],
                    "two": n / d2["seconds"],
                    "po": n / pd["seconds"],
                    "raw": n / raw["seconds"],
                    # CPU of the sending process itself (not the database server's), ms per message.
                    "cpu_one": 1000 * d1["workers"][0]["cpu"] / n,
                    "cpu_two": 1000 * sum(w["cpu"] for w in d2["workers"]) / n,
                    # The PostgreSQL backends serving our workers (read from /proc; 0 on SQLite).
                    "db_cpu_one": 1000 * d1["workers"][0]["db_cpu"] / n,
                    "db_cpu_two": 1000 * sum(w["db_cpu"] for w in d2["workers"]) / n,
                    "cpu_po": 1000 * pd["workers"][0]["cpu"] / n,
                    "cpu_raw": 1000 * raw["workers"][0]["cpu"] / n,
                    "verify_one": v1,
                    "verify_two": v2,
                    "verify_po": pv,
                    "raw_ok": raw["workers"][0]["ok"],
                    "mime_equal": pq["mime_equal"],
                }
            )
            out.update(html_bytes=q1["html_bytes"], mime_bytes=pq["mime_bytes"], settings=q1["settings"])
        # Other load on the machine only ever slows a run down: report the best round of each.
        for key in ("queue", "po_queue", "one", "two", "po", "raw"):
            out[key] = max(r[key] for r in out["rounds"])
        return out
    finally:
        _drop_database(pg_name)
        shutil.rmtree(workdir, ignore_errors=True)


def _fresh(workdir: Path, name: str) -> Path:
    path = workdir / name
    path.mkdir()
    return path


def _verdict(ok: bool) -> str:
    return "PASS" if ok else "FAIL"


def _load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def report(results: list[dict[str, Any]], load_before: str) -> bool:
    """Print the table and the verdicts; False when a correctness check failed."""
    from importlib.metadata import version

    first = results[0]
    settings = first["settings"]
    print()
    print(
        f"Send throughput: N = {first['n']} one-recipient messages, HTML {first['html_bytes'] / 1024:.1f} KiB "
        f"(raw MIME {first['mime_bytes'] / 1024:.1f} KiB), messages/s, best of {len(first['rounds'])} round(s)"
    )
    print(
        f"Machine: {os.cpu_count()} cores; load average before {load_before}, after {_load()}. "
        f"Python {sys.version.split()[0]}, Django {version('django')}, "
        f"django-post-office {version('django-post-office')}."
    )
    print(
        "Our settings: "
        + ", ".join(f"{k}={v}" for k, v in settings.items())
        + "; post-office: BATCH_SIZE=500, THREADS_PER_PROCESS=5, LOG_LEVEL=2."
    )
    print()
    header = (
        f"{'database':<10} {'queue':>7} {'ours 1w':>8} {'ours 2w':>8} {'post-off':>8} {'raw':>8} "
        f"{'1w/raw':>7} {'1w/PO':>6} {'2w/1w':>6}"
    )
    print(header)
    print("-" * len(header))
    for r in results:
        print(
            f"{r['database']:<10} {r['queue']:>7.0f} {r['one']:>8.0f} {r['two']:>8.0f} {r['po']:>8.0f} "
            f"{r['raw']:>8.0f} {r['one'] / r['raw']:>7.2f} {r['one'] / r['po']:>6.2f} {r['two'] / r['one']:>6.2f}"
        )
    print()
    print("queue = email_queue (render, inline CSS, derive text, store message + recipient), one process;")
    print("raw = email_build + serialisation of the same messages, no database; 1w/2w = worker processes.")
    print("post-office queue (mail.send): " + ", ".join(f"{r['database']} {r['po_queue']:.0f}/s" for r in results))
    print()
    print(
        "Every round: messages/s (CPU ms per message of the sending processes"
        " [+ of the PostgreSQL backends serving ours])"
    )
    for r in results:
        for key, label in (("one", "ours 1w"), ("two", "ours 2w"), ("po", "post-office"), ("raw", "raw")):
            values = []
            for x in r["rounds"]:
                server = f" + {x['db_cpu_' + key]:.2f}" if x.get("db_cpu_" + key) else ""
                values.append(f"{x[key]:.0f} ({x['cpu_' + key]:.2f}{server} ms)")
            print(f"  {r['database']:<9} {label:<12} {', '.join(values)}")
    print()
    correct = True
    print("Targets:")
    for r in results:
        db = r["database"]
        print(
            f"  [{db}] one worker >= {TARGET_RAW_RATIO} x raw limit:       {r['one'] / r['raw']:.2f}  "
            f"{_verdict(r['one'] / r['raw'] >= TARGET_RAW_RATIO)}"
        )
        print(f"  [{db}] one worker >= django-post-office:   {r['one'] / r['po']:.2f}  {_verdict(r['one'] >= r['po'])}")
        if db == "postgres":
            print(
                f"  [{db}] two workers >= {TARGET_TWO_WORKERS} x one worker:    {r['two'] / r['one']:.2f}  "
                f"{_verdict(r['two'] / r['one'] >= TARGET_TWO_WORKERS)}"
            )
        else:
            print(f"  [{db}] two workers / one worker:           {r['two'] / r['one']:.2f}  (no target: one writer)")
    print()
    print("Correctness (every round):")
    for r in results:
        db = r["database"]
        for label, key in (("one worker", "verify_one"), ("two workers", "verify_two"), ("post-office", "verify_po")):
            checks = [x[key] for x in r["rounds"]]
            ok = all(v["ok"] for v in checks)
            correct &= ok
            failed = sorted({name for v in checks for name, good in v["checks"].items() if not good})
            split = ", ".join("+".join(str(c) for c in v["per_process"]) for v in checks)
            detail = "every message sent exactly once" if ok else "FAILED: " + ", ".join(failed)
            duplicates = sum(v["duplicates"] for v in checks)
            print(
                f"  [{db}] {label:<12} {_verdict(ok)}  {detail} (sends per process: {split}; duplicates: {duplicates})"
            )
        same = all(x["mime_equal"] for x in r["rounds"])
        raw_ok = all(x["raw_ok"] for x in r["rounds"])
        correct &= same and raw_ok
        print(
            f"  [{db}] same MIME from ours and post-office: {_verdict(same)}; "
            f"raw limit serialised each once: {_verdict(raw_ok)}"
        )
    return correct


def main() -> None:
    if "--child" in sys.argv[1:]:
        child([a for a in sys.argv[1:] if a != "--child"])
        return
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=5000, help="messages per scenario (default 5000)")
    parser.add_argument("--databases", default="sqlite,postgres", help="comma-separated: sqlite,postgres")
    parser.add_argument("--rounds", type=int, default=2, help="rounds per database; the best is reported (default 2)")
    parser.add_argument("--profile", action="store_true", help="profile one one-worker drain instead")
    args = parser.parse_args()
    kinds = [k.strip() for k in args.databases.split(",") if k.strip()]
    for kind in kinds:
        if kind not in {"sqlite", "postgres"}:
            parser.error(f"unknown database {kind!r}")
    started = time.perf_counter()
    load_before = _load()
    results = [run_database(kind, args.n, max(args.rounds, 1), args.profile) for kind in kinds]
    if args.profile:
        return
    ok = report(results, load_before)
    print(f"\nTotal run time {time.perf_counter() - started:.0f} s.")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
