#!/usr/bin/env python
"""Webhook throughput: signed SNS notifications acknowledged per second, and events applied per second.

    .venv/bin/python bench/webhook_throughput.py [--n 5000] [--clients 8] [--workers 2] [--threads 4]

On PostgreSQL (BENCH_PG_URL, default postgresql://postgres@127.0.0.1:5432/postgres,
is where `bench_webhook_<pid>` is created, migrated and dropped at the end):

1. setup: N sent messages, one recipient each, with an SES message id (bulk);
   N SNS notifications carrying an SES Delivery event for each recipient,
   signed like SNS signs (SignatureVersion 1, a test key whose certificate
   is put in the server's cache, since the server cannot reach SNS);
2. a real HTTP server of the project (gunicorn, gthread, on 127.0.0.1, with
   bench.webhook_settings: the project's settings and URLs plus a bare view),
   and C client threads with keep-alive connections post every body once
   (a) to `bench/bare-webhook`, which verifies the same signature and parses
   the same JSON and touches no database: the limit; and to the real
   `/api/email/webhook`; slice by slice, alternating which goes first, so
   other load on the machine weighs on both alike. The webhook's tasks go to
   Celery on Redis (BENCH_BROKER_URL, default redis://127.0.0.1:6379/0; empty:
   no broker, the server's own thread applies them) on a queue of this run
   that nothing consumes, so no event is applied inside the server;
3. (b) one worker process applies the N stored notifications: the task a
   Celery worker runs (notification_process_task: notifications_drain, a
   batch per transaction), timed; then the state is reset and the replay
   path (notification_process, one notification per transaction) is timed
   too. After each, every recipient must be `delivered` with one event.

Targets: (a) the webhook acknowledges at least 0.6 x the bare view's rate;
(b) one worker applies at least 500 events/s, and at least as many per second
as the webhook acknowledged in (a) of the same run (applied / acknowledged
>= 1: a burst leaves no backlog).

`--profile-server DIR` samples the gunicorn workers with py-spy during (a)
and prints where each view's time went (bench/load.py's summary).
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.load import (  # noqa: E402
    PostgresSampler,
    _children,
    _cpu_seconds,
    _free_port,
    _machine_busy_seconds,
    _postgres_cpu,
    _server_start,
    _stop,
    profile_report,
    profile_start,
    profile_stop,
)

PG_ADMIN_URL = os.environ.get("BENCH_PG_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
BROKER_URL = os.environ.get("BENCH_BROKER_URL", "redis://127.0.0.1:6379/0")
TARGET_ACK_RATIO = 0.6
TARGET_APPLIED_PER_SECOND = 500
# One worker applies events at least as fast as the webhook acknowledges them, so a burst leaves no backlog.
TARGET_APPLIED_OVER_ACKNOWLEDGED = 1.0
WEBHOOK = "/api/email/webhook"
BARE = "/bench/bare-webhook"


def _ses_id(i: int) -> str:
    return f"0100018c{i:08d}-bench-0000-0000-000000000000-000000"


def _address(i: int) -> str:
    return f"reader{i}@example.org"


def _log(message: str) -> None:
    print(f"  {time.strftime('%H:%M:%S')} {message}", file=sys.stderr, flush=True)


# --- Child phases (fresh subprocesses with the bench settings) ---------------


def _setup_django() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.webhook_settings")
    import django

    django.setup()


def _emit(result: dict[str, Any]) -> None:
    sys.stdout.write("RESULT " + json.dumps(result) + "\n")
    sys.stdout.flush()


def phase_setup(n: int, pem_path: str) -> None:
    from django.contrib.auth import get_user_model
    from django.utils import timezone

    from emails.models import Message, Recipient
    from emails.tracking.sns import sns_certificate_remember
    from tests.sns_signing import CERT_URL

    owner = get_user_model().objects.create(username="bench", email="bench@example.com")
    now = timezone.now()
    messages = Message.objects.bulk_create(
        [
            Message(
                owner=owner,
                from_email="CRM <noreply@crm.example.com>",
                subject=f"Your statement #{i}",
                text_body="Hello",
                category="notification",
                status="sent",
                recipient_count=1,
                sent_count=1,
                sent_at=now,
            )
            for i in range(n)
        ],
        batch_size=1000,
    )
    Recipient.objects.bulk_create(
        [
            Recipient(
                message=message,
                kind="to",
                address=_address(i),
                status="sent",
                ses_message_id=_ses_id(i),
                sent_at=now,
            )
            for i, message in enumerate(messages)
        ],
        batch_size=1000,
    )
    sns_certificate_remember(CERT_URL, Path(pem_path).read_bytes())
    _emit({"messages": Message.objects.count(), "recipients": Recipient.objects.count()})


def phase_count() -> None:
    from emails.models import Event, InboundNotification

    _emit(
        {
            "stored": InboundNotification.objects.count(),
            "processed": InboundNotification.objects.filter(processed_at__isnull=False).count(),
            "events": Event.objects.count(),
        }
    )


def _check(n: int) -> dict[str, bool]:
    from emails.models import Event, InboundNotification, Message, Recipient

    return {
        "every notification processed without error": InboundNotification.objects.filter(
            processed_at__isnull=False, error=""
        ).count()
        == n,
        "one delivery event per recipient": Event.objects.filter(type="delivery", recipient__isnull=False).count()
        == n
        == Event.objects.count(),
        "every recipient delivered": Recipient.objects.filter(status="delivered").count() == n,
        "every message delivered": Message.objects.filter(status="delivered", delivered_count=1).count() == n,
    }


def phase_drain(n: int, profile: bool) -> None:
    import cProfile
    import pstats

    from emails.models import InboundNotification
    from emails.tasks import notification_process_task

    first = InboundNotification.objects.order_by("pk").values_list("pk", flat=True)[0]
    profiler = cProfile.Profile() if profile else None
    if profiler:
        profiler.enable()
    start = time.perf_counter()
    # What a Celery worker runs for the first queued task; it applies every
    # pending notification, so the tasks queued after it find nothing left.
    notification_process_task.apply(args=(str(first),))
    seconds = time.perf_counter() - start
    if profiler:
        profiler.disable()
        pstats.Stats(profiler, stream=sys.stderr).sort_stats("cumulative").print_stats(25)
    _emit({"seconds": seconds, "checks": _check(n)})


def phase_reset() -> None:
    from django.db import connection

    from emails.models import Event, InboundNotification, Message, Recipient

    with connection.cursor() as cursor:
        cursor.execute(f"TRUNCATE {Event._meta.db_table} CASCADE")
    Recipient.objects.update(status="sent", last_event_at=None, reason="")
    Message.objects.update(status="sent", sent_count=1, delivered_count=0)
    InboundNotification.objects.update(processed_at=None, error="")
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
    _emit({"ok": True})


def phase_each(n: int) -> None:
    from emails.models import InboundNotification
    from emails.tracking import notification_process

    ids = list(InboundNotification.objects.order_by("pk").values_list("pk", flat=True))
    start = time.perf_counter()
    for notification_id in ids:
        notification_process(notification_id=notification_id)
    seconds = time.perf_counter() - start
    _emit({"seconds": seconds, "checks": _check(n)})


def child(argv: list[str]) -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--phase", required=True)
    parser.add_argument("--n", type=int, default=0)
    parser.add_argument("--path", default="")
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args(argv)
    _setup_django()
    phases = {
        "setup": lambda: phase_setup(args.n, args.path),
        "count": phase_count,
        "drain": lambda: phase_drain(args.n, args.profile),
        "reset": phase_reset,
        "each": lambda: phase_each(args.n),
    }
    phases[args.phase]()


# --- Parent: database, server, clients, report -------------------------------


def _run_child(env: dict[str, str], phase: str, *args: str) -> dict[str, Any]:
    command = [sys.executable, str(Path(__file__).resolve()), "--child", "--phase", phase, *args]
    proc = subprocess.run(command, env=env, stdout=subprocess.PIPE, text=True, check=False)
    if proc.returncode:
        raise RuntimeError(f"phase {phase} failed with exit code {proc.returncode}:\n{proc.stdout}")
    for line in proc.stdout.splitlines():
        if line.startswith("RESULT "):
            return dict(json.loads(line[len("RESULT ") :]))
    raise RuntimeError(f"phase {phase}: no result in its output:\n{proc.stdout}")


def _create_database() -> tuple[str, str]:
    import psycopg

    name = f"bench_webhook_{os.getpid()}"
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')
    return f"{PG_ADMIN_URL.rsplit('/', 1)[0]}/{name}", name


def _drop_database(name: str) -> None:
    import psycopg

    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _queue_keys(queue: str) -> list[bytes]:
    import redis

    if not BROKER_URL:
        return []

    client = redis.Redis.from_url(BROKER_URL)
    return list(client.scan_iter(match=f"*{queue}*"))


def _queued(queue: str) -> int:
    import redis

    if not BROKER_URL:
        return 0

    client = redis.Redis.from_url(BROKER_URL)
    return sum(int(client.llen(key)) for key in _queue_keys(queue) if client.type(key) == b"list")


def _queue_delete(queue: str) -> None:
    import redis

    keys = _queue_keys(queue)
    if keys:
        redis.Redis.from_url(BROKER_URL).delete(*keys)


def _post_all(port: int, path: str, bodies: list[bytes], clients: int) -> dict[str, Any]:
    """Every body posted once by `clients` threads on keep-alive connections; acknowledged per second."""
    chunks = [bodies[i::clients] for i in range(clients)]
    statuses: list[dict[int, int]] = [{} for _ in range(clients)]
    barrier = threading.Barrier(clients + 1)
    ends = [0.0] * clients

    def client(index: int) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        conn.connect()
        headers = {"Content-Type": "text/plain; charset=UTF-8", "x-amz-sns-message-type": "Notification"}
        barrier.wait()
        for body in chunks[index]:
            conn.request("POST", path, body=body, headers=headers)
            response = conn.getresponse()
            response.read()
            statuses[index][response.status] = statuses[index].get(response.status, 0) + 1
        ends[index] = time.perf_counter()
        conn.close()

    threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
    for thread in threads:
        thread.start()
    barrier.wait()
    start = time.perf_counter()
    for thread in threads:
        thread.join()
    seconds = max(ends) - start
    total: dict[int, int] = {}
    for counts in statuses:
        for status, count in counts.items():
            total[status] = total.get(status, 0) + count
    return {"seconds": seconds, "per_second": total.get(200, 0) / seconds, "statuses": total}


def _interleaved(
    port: int, bodies: list[bytes], clients: int, slices: int, cpu: Any = None
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Post each slice of the bodies to both views, alternating which goes first.

    Other load on the machine then weighs on both alike; rates are over the
    summed time of each view's slices. `cpu()`, when given, returns CPU
    seconds so far by part (server, database); each view's slices add up theirs.
    """
    size = -(-len(bodies) // slices)
    runs: dict[str, list[dict[str, Any]]] = {BARE: [], WEBHOOK: []}
    used: dict[str, Counter[str]] = {BARE: Counter(), WEBHOOK: Counter()}
    for i in range(slices):
        part = bodies[i * size : (i + 1) * size]
        for path in (BARE, WEBHOOK) if i % 2 == 0 else (WEBHOOK, BARE):
            before = cpu() if cpu else {}
            runs[path].append(_post_all(port, path, part, clients))
            after = cpu() if cpu else {}
            used[path].update({part_name: after[part_name] - before[part_name] for part_name in after})

    def total(path: str) -> dict[str, Any]:
        seconds = sum(r["seconds"] for r in runs[path])
        statuses: dict[int, int] = {}
        for r in runs[path]:
            for status, count in r["statuses"].items():
                statuses[status] = statuses.get(status, 0) + count
        return {
            "seconds": seconds,
            "per_second": statuses.get(200, 0) / seconds,
            "statuses": statuses,
            "slices": [r["per_second"] for r in runs[path]],
            "cpu": dict(used[path]),
        }

    return total(BARE), total(WEBHOOK)


def _bodies(n: int, workdir: Path) -> tuple[list[bytes], list[bytes], Path]:
    """N signed Delivery notifications for the N recipients, a warm-up set, and the certificate's PEM."""
    from tests.sns_signing import certificate_pem, ses_delivery, sns_envelope

    pem_path = workdir / "sns-cert.pem"
    pem_path.write_bytes(certificate_pem())
    bodies = [
        json.dumps(sns_envelope(ses_delivery(ses_message_id=_ses_id(i), recipient=_address(i)))).encode()
        for i in range(n)
    ]
    # Same shape, recipients nobody has: only ever posted to the bare view.
    warmup = [
        json.dumps(sns_envelope(ses_delivery(ses_message_id=_ses_id(n + i), recipient=_address(n + i)))).encode()
        for i in range(min(500, n))
    ]
    return bodies, warmup, pem_path


def _load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def _verdict(ok: bool) -> str:
    return "PASS" if ok else "FAIL"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--n", type=int, default=5000)
    parser.add_argument("--clients", type=int, default=8, help="client threads, one keep-alive connection each")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn worker processes")
    parser.add_argument("--threads", type=int, default=4, help="threads per gunicorn worker")
    parser.add_argument("--slices", type=int, default=10, help="alternate the two views this many times")
    parser.add_argument("--profile", action="store_true", help="print where (b)'s worker spends its time")
    parser.add_argument("--profile-server", metavar="DIR", help="sample the server with py-spy during (a) into DIR")
    args = parser.parse_args()
    from importlib.metadata import version

    from tests.sns_signing import TOPIC_ARN

    load_before = _load()
    workdir = Path(tempfile.mkdtemp(prefix="bench_webhook_"))
    queue = f"bench-webhook-{os.getpid()}"
    url, db_name = _create_database()
    env = dict(
        os.environ,
        DJANGO_SETTINGS_MODULE="bench.webhook_settings",
        DATABASE_URL=url,
        DJANGO_SECRET_KEY="bench-only-secret-key-not-for-production",
        SNS_TOPIC_ARNS=TOPIC_ARN,
        CELERY_BROKER_URL=BROKER_URL,
        TASKS_IN_BACKGROUND="true",
        BENCH_QUEUE=queue,
        BENCH_CACHE_DIR=str(workdir / "cache"),
        SES_EMULATED="0",
        LOG_LEVEL="ERROR",
        PYTHONPATH=os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]).rstrip(os.pathsep),
    )
    server: subprocess.Popen[bytes] | None = None
    try:
        _log(f"migrating {db_name}")
        subprocess.run([sys.executable, str(ROOT / "manage.py"), "migrate", "-v", "0"], env=env, check=True)
        _log(f"signing {args.n} notifications")
        bodies, warmup, pem_path = _bodies(args.n, workdir)
        setup = _run_child(env, "setup", "--n", str(args.n), "--path", str(pem_path))
        _log(f"created {setup['messages']} messages and {setup['recipients']} recipients")

        port = _free_port()
        server = _server_start(env, ROOT, port, args.workers, args.threads, ready=(WEBHOOK, 405))
        _log(f"gunicorn on 127.0.0.1:{port}: {args.workers} workers x {args.threads} threads; warming up")
        _post_all(port, BARE, warmup, args.clients)

        recorders = []
        if args.profile_server:
            Path(args.profile_server).mkdir(parents=True, exist_ok=True)
            pids = _children(server.pid)
            recorders = profile_start(Path(args.profile_server), {f"web-{pid}": pid for pid in pids}, None)
        _log(f"(a) posting {args.n} to the bare view and to the webhook, in {args.slices} alternating slices")
        web_pids = _children(server.pid)
        web_before = {pid: _cpu_seconds(pid) for pid in web_pids}
        own_before = time.process_time()
        postgres = PostgresSampler(db_name)
        busy_before = _machine_busy_seconds()

        def cpu_now() -> dict[str, float]:
            return {
                "server": sum(_cpu_seconds(pid) for pid in web_pids),
                "database": sum(_postgres_cpu(db_name).values()),
            }

        bare, hook = _interleaved(port, bodies, args.clients, args.slices, cpu_now)
        cpu = {
            "machine": _machine_busy_seconds() - busy_before,
            "server": sum(_cpu_seconds(pid) - web_before[pid] for pid in web_pids),
            "clients": time.process_time() - own_before,
            "postgres": postgres.stop(),
        }
        profile_stop(recorders)
        _stop(server)
        server = None
        stored = _run_child(env, "count")
        queued = _queued(queue)

        # Without a broker the server's own thread applied them during (a): start (b) from scratch.
        _run_child(env, "reset")
        _log(f"(b) one worker applies the {stored['stored']} stored notifications (notification_process_task)")
        drain = _run_child(env, "drain", "--n", str(args.n), *(["--profile"] if args.profile else []))
        _run_child(env, "reset")
        _log("(b) again, one notification_process call each")
        each = _run_child(env, "each", "--n", str(args.n))
    finally:
        try:
            if server is not None:
                _stop(server)
            _queue_delete(queue)
        finally:
            _drop_database(db_name)
            shutil.rmtree(workdir, ignore_errors=True)

    ratio = hook["per_second"] / bare["per_second"]
    slice_ratios = sorted(h / b for h, b in zip(hook["slices"], bare["slices"], strict=True))
    applied = args.n / drain["seconds"]
    applied_each = args.n / each["seconds"]
    keeping_up = applied / hook["per_second"]
    print()
    print(f"Webhook throughput: N = {args.n} signed SNS notifications (SES Delivery events), PostgreSQL")
    print(
        f"Machine: {os.cpu_count()} cores; load average before {load_before}, after {_load()}. "
        f"Python {sys.version.split()[0]}, Django {version('django')}, gunicorn {version('gunicorn')} "
        f"(gthread, {args.workers} workers x {args.threads} threads), {args.clients} keep-alive client threads."
    )
    ours = cpu["server"] + cpu["clients"] + cpu["postgres"]
    print(
        f"CPU seconds during (a), {bare['seconds'] + hook['seconds']:.1f} s: gunicorn workers {cpu['server']:.1f}, "
        f"the clients {cpu['clients']:.1f}, PostgreSQL backends {cpu['postgres']:.1f}; the whole machine "
        f"{cpu['machine']:.1f}, of which anything else (Redis, the kernel, other users) {cpu['machine'] - ours:.1f}"
    )
    print()
    print("(a) acknowledged per second")
    print(f"  bare view (verify + parse, no database): {bare['per_second']:>7.0f}/s")
    print(f"  webhook (verify + store + queue task):   {hook['per_second']:>7.0f}/s")
    for label, view in (("bare view", bare), ("webhook", hook)):
        count = sum(view["statuses"].values())
        print(
            f"  CPU per request, {label}: gunicorn {1000 * view['cpu'].get('server', 0) / count:.2f} ms, "
            f"PostgreSQL {1000 * view['cpu'].get('database', 0) / count:.2f} ms"
        )
    print(
        f"  ratio per slice: min {slice_ratios[0]:.2f}, median {slice_ratios[len(slice_ratios) // 2]:.2f}, "
        f"max {slice_ratios[-1]:.2f}"
    )
    print(f"  statuses: webhook {hook['statuses']}, bare {bare['statuses']}")
    print(f"  stored: {stored['stored']}, applied during the run: {stored['processed']}, tasks queued: {queued}")
    print("(b) events applied per second, one worker process")
    print(f"  notification_process_task (batches): {applied:>7.0f}/s ({drain['seconds']:.2f} s)")
    print(f"  notification_process, one each:      {applied_each:>7.0f}/s ({each['seconds']:.2f} s)")
    print(f"  applied / acknowledged (task / webhook): {keeping_up:.2f}")
    print()
    if args.profile_server:
        for view in ("sns_webhook", "bare_webhook"):
            profile_report(Path(args.profile_server), "web-", under=view)
            print()
    correct = (
        hook["statuses"] == {200: args.n}
        and bare["statuses"] == {200: args.n}
        and stored["stored"] == args.n
        and (stored["processed"] == 0 or not BROKER_URL)
        and all(drain["checks"].values())
        and all(each["checks"].values())
    )
    print("Targets:")
    print(f"  (a) webhook >= {TARGET_ACK_RATIO} x bare view:        {ratio:.2f}  {_verdict(ratio >= TARGET_ACK_RATIO)}")
    print(
        f"  (b) >= {TARGET_APPLIED_PER_SECOND} events/s, one worker:        {applied:.0f}  "
        f"{_verdict(applied >= TARGET_APPLIED_PER_SECOND)}"
    )
    print(
        f"  (b) applied >= {TARGET_APPLIED_OVER_ACKNOWLEDGED:.0f} x acknowledged, same run: {keeping_up:.2f}  "
        f"{_verdict(keeping_up >= TARGET_APPLIED_OVER_ACKNOWLEDGED)}"
    )
    print("Correctness:")
    for label, checks in (("task", drain["checks"]), ("one each", each["checks"])):
        for name, ok in checks.items():
            print(f"  ({label}) {name}: {_verdict(ok)}")
    print(f"  every post answered 200, nothing applied inside the server: {_verdict(correct)}")
    return 0 if correct else 1


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        child(sys.argv[2:])
    else:
        sys.exit(main())
