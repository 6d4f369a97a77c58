#!/usr/bin/env python
"""Pacing (issue 12, P5): 2 and then 4 worker processes drain a bulk against a fake SES of 100 recipients/s.

    .venv/bin/python bench/pacing.py [--rate 100] [--seconds 25] [--workers 2,4] [--database postgres]

A fresh database is created (PostgreSQL: `bench_pacing_<pid>` at BENCH_PG_URL,
dropped at the end; or SQLite in a temporary directory) and migrated with
bench.settings. For each number of workers the tables are emptied, the
pacing Redis database (BENCH_PACE_REDIS_URL, default redis://127.0.0.1:6379/14,
and only that database) is flushed, and a bulk of RATE x SECONDS messages
(bench/bulk.py's template) is accepted with `bulk_accept`. Then, each in a
fresh process released together, the workers run `emails.delivery.email_drain()`
with pacing on, as deployed: the rate is SES's quota (`EMAIL_PACE_USE_SES_QUOTA`;
the fake SES's GetSendQuota answers MaxSendRate = RATE) on the Redis timeline
every worker shares. The fake SES's SendRawEmail is bench.backend.SerializingBackend,
and the time of each call (`time.perf_counter`, CLOCK_MONOTONIC: one clock for
all processes) is noted with its message and recipient count.

Mid-bulk, two urgent messages are queued (`email_queue`, priority urgent):
- at SECONDS/3 one that only the draining workers can take (every worker is
  draining, so no worker is free to run its own send task: the drains claim
  urgent and high mail first, at their next claim);
- at 2 x SECONDS/3 one sent by its own `email_deliver` in another process at
  once (what a free worker does with the urgent queue's task).
Each is reported as the seconds from its commit until its SES call, and as
"seconds of rate": the bulk sends that left between the two, divided by RATE.

Reported per run: the most SES calls' recipients in any one-second window
[t, t + 1) (target <= RATE), utilisation = recipients sent / (RATE x seconds
from the release to the last call) (target >= 0.9), and the urgent messages'
delays (target: within 2 s of rate). EMAIL_DRAIN_BATCH_SIZE in the
environment reaches the workers (`--batch-size` sets it).
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
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.bulk import SLUG, _create_database, _drop_database, _env, _migrate, _owner_and_template, _person  # noqa: E402
from bench.send_throughput import _emit, _load, _log, _reset_tables, _setup, _verdict, _wait_for_go  # noqa: E402

REDIS_URL = os.environ.get("BENCH_PACE_REDIS_URL", "redis://127.0.0.1:6379/14")
TARGET_UTILISATION = 0.9
TARGET_URGENT_SECONDS = 2.0


# --- Child phases (run in fresh subprocesses) ------------------------------


def _fake_ses(rate: float) -> list[tuple[float, str, int]]:
    """Pacing as deployed, against a fake SES of `rate` recipients/s; the list its calls are noted in."""
    from django.conf import settings

    from bench.backend import crm_message_id
    from emails.delivery import send, ses

    settings.EMAIL_PACE_SENDS = True
    settings.EMAIL_PACE_USE_SES_QUOTA = True
    # By default no lower limit of ours: SES's quota is the rate (--max-send-rate sets one).
    settings.EMAIL_MAX_SEND_RATE = float(os.environ.get("BENCH_MAX_SEND_RATE", "0"))
    settings.EMAIL_PACE_REDIS_URL = REDIS_URL

    def quota() -> dict[str, Any]:  # GetSendQuota of the fake SES
        return {
            "maxSend24Hour": 1e6,
            "maxSendRate": rate,
            "sentLast24Hours": 0.0,
            "remaining24Hour": 1e6,
            "usagePercent": 0.0,
            "last24Hours": {},
        }

    ses.ses_quota = quota
    calls: list[tuple[float, str, int]] = []
    real_send = send.ses_send

    def ses_send(*, connection: Any, email: Any) -> str:
        calls.append((time.perf_counter(), crm_message_id(email), len(email.recipients())))
        return real_send(connection=connection, email=email)

    send.ses_send = ses_send
    return calls


def phase_accept(n: int) -> None:
    from unittest import mock

    from emails.accepting import BulkDraft, BulkRow, bulk_accept

    _reset_tables()
    from emails.models import Bulk

    Bulk.objects.all().delete()
    owner = _owner_and_template()
    rows = []
    for i in range(n):
        address, name, data = _person(i)
        rows.append(BulkRow(to=address, name=name, template_data=data))
    draft = BulkDraft(name="Paced statements", template=SLUG, category="notification", rows=rows)
    with mock.patch("emails.accepting.bulk.email_drain_schedule", lambda: None):
        bulk = bulk_accept(owner=owner, draft=draft)
    _emit({"accepted": bulk.accepted})


def phase_drain(rate: float) -> None:
    from emails.delivery import email_drain, send_rate

    calls = _fake_ses(rate)
    _wait_for_go()
    start = time.perf_counter()
    done = email_drain()
    end = time.perf_counter()
    from bench.backend import flush_sent_log

    flush_sent_log()
    _emit({"start": start, "end": end, "done": done, "calls": calls, "rate": send_rate()})


def _urgent(index: int) -> Any:
    from unittest import mock

    from django.contrib.auth import get_user_model

    from emails.accepting import EmailDraft, email_queue

    owner = get_user_model().objects.get(username="bench")
    draft = EmailDraft(
        to=f"urgent{index}@example.org",
        subject="Your password reset code",
        text="Your code is 123456. It expires in 10 minutes.",
        category="auth",
        priority="urgent",
    )
    # No Celery here: the task it would schedule is what the run models (drains, or its own deliver).
    with mock.patch("emails.accepting.services.email_send_schedule", lambda **kwargs: None):
        return email_queue(owner=owner, draft=draft).message


def phase_urgent(rate: float, deliver: bool) -> None:
    from emails.delivery import email_deliver

    calls = _fake_ses(rate)
    _wait_for_go()
    message = _urgent(2 if deliver else 1)
    queued = time.perf_counter()
    delivered = email_deliver(message_id=message.pk).delivered if deliver else 0
    _emit({"queued": queued, "id": str(message.pk), "delivered": delivered, "calls": calls})


def phase_verify(n: int) -> None:
    from django.db.models import Count

    from emails.choices import MessageStatus
    from emails.models import Message

    counts = dict(Message.objects.values_list("status").annotate(c=Count("id")))
    _emit({"ok": counts == {MessageStatus.SENT: n}, "counts": counts})


def child(argv: list[str]) -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--phase", required=True)
    parser.add_argument("--n", type=int, default=0)
    parser.add_argument("--rate", type=float, default=100.0)
    args = parser.parse_args(argv)
    _setup()
    if args.phase == "accept":
        phase_accept(args.n)
    elif args.phase == "drain":
        phase_drain(args.rate)
    elif args.phase == "urgent-drain":
        phase_urgent(args.rate, deliver=False)
    elif args.phase == "urgent-task":
        phase_urgent(args.rate, deliver=True)
    elif args.phase == "verify":
        phase_verify(args.n)
    else:
        raise SystemExit(f"unknown phase {args.phase}")


# --- Parent ------------------------------------------------------------------


def _command(phase: str, *args: str) -> list[str]:
    return [sys.executable, str(Path(__file__).resolve()), "--child", "--phase", phase, *args]


def _result(stdout: str, what: str) -> dict[str, Any]:
    for line in stdout.splitlines():
        if line.startswith("RESULT "):
            return json.loads(line[len("RESULT ") :])
    raise RuntimeError(f"{what}: no result in its output:\n{stdout}")


def _run(env: dict[str, str], phase: str, *args: str) -> dict[str, Any]:
    proc = subprocess.run(_command(phase, *args), env=env, stdout=subprocess.PIPE, text=True, check=False)
    if proc.returncode:
        raise RuntimeError(f"phase {phase} failed with exit code {proc.returncode}:\n{proc.stdout}")
    return _result(proc.stdout, phase)


def _start(env: dict[str, str], phase: str, *args: str) -> subprocess.Popen[str]:
    proc = subprocess.Popen(_command(phase, *args), env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    line = proc.stdout.readline()
    if line.strip() != "READY":
        proc.kill()
        raise RuntimeError(f"{phase}: did not get ready: {line!r}")
    return proc


def _go(proc: subprocess.Popen[str]) -> None:
    assert proc.stdin is not None
    proc.stdin.write("GO\n")
    proc.stdin.flush()


def _finish(proc: subprocess.Popen[str], what: str) -> dict[str, Any]:
    out, _ = proc.communicate()
    if proc.returncode:
        raise RuntimeError(f"{what} failed with exit code {proc.returncode}:\n{out}")
    return _result(out, what)


def _flush_redis() -> None:
    import redis

    redis.Redis.from_url(REDIS_URL).flushdb()  # this database only


def _windows(times: list[tuple[float, int]]) -> list[int]:
    """For each of the sorted calls, the recipients sent in the window [t, t + 1) that it starts."""
    counts, j, inside = [], 0, 0
    for i, (t, _) in enumerate(times):
        while j < len(times) and times[j][0] < t + 1.0:
            inside += times[j][1]
            j += 1
        counts.append(inside)
        inside -= times[i][1]
    return counts


def run_workers(env: dict[str, str], workers: int, rate: float, seconds: float) -> dict[str, Any]:
    n = int(rate * seconds)
    _flush_redis()
    _log(f"[{workers} workers] accepting a bulk of {n}")
    _run(env, "accept", "--n", str(n))
    rate_arg = ("--rate", str(rate))
    procs = [_start(env, "drain", *rate_arg) for _ in range(workers)]
    urgent_drain = _start(env, "urgent-drain", *rate_arg)
    urgent_task = _start(env, "urgent-task", *rate_arg)
    try:
        _log(f"[{workers} workers] draining, paced at {rate:g}/s")
        released = time.perf_counter()
        for proc in procs:
            _go(proc)
        time.sleep(max(released + seconds / 3 - time.perf_counter(), 0))
        _go(urgent_drain)
        time.sleep(max(released + 2 * seconds / 3 - time.perf_counter(), 0))
        _go(urgent_task)
        results = [_finish(proc, "drain worker") for proc in procs]
        first = _finish(urgent_drain, "urgent (drains)")
        second = _finish(urgent_task, "urgent (own task)")
    finally:
        for proc in [*procs, urgent_drain, urgent_task]:
            if proc.poll() is None:
                proc.kill()
    verify = _run(env, "verify", "--n", str(n + 2))
    calls = [c for r in [*results, second] for c in r["calls"]]
    calls.sort()
    times = [(t, count) for t, _, count in calls]
    recipients = sum(count for _, count in times)
    last = times[-1][0]
    windows = _windows(times)
    window = max(windows)
    window_at = times[windows.index(window)][0]
    over = [t - released for (t, _), c in zip(times, windows, strict=True) if c > rate]
    sent_at = {message: t for t, message, _ in calls}
    ids = [message for _, message, _ in calls]

    def urgent(result: dict[str, Any]) -> dict[str, Any]:
        queued, sent = result["queued"], sent_at.get(result["id"])
        if sent is None:
            return {"seconds": None, "ahead": None}
        ahead = sum(count for t, message, count in calls if queued < t < sent and message != result["id"])
        return {"seconds": sent - queued, "ahead": ahead, "at": queued - released, "own_task": result["delivered"]}

    return {
        "workers": workers,
        "n": n,
        "rate_seen": sorted({r["rate"] for r in results}),
        "batch": [r["done"] for r in results],
        "recipients": recipients,
        "span": last - released,
        "first_call": times[0][0] - released,
        "max_window": window,
        "max_window_at": window_at - released,
        "over": len(over),
        "over_at": [round(t, 2) for t in over[:5]],
        "windows": len(windows),
        "utilisation": recipients / (rate * (last - released)),
        "urgent_drain": urgent(first),
        "urgent_task": urgent(second),
        "duplicates": len(ids) - len(set(ids)),
        "verify": verify,
    }


def report(runs: list[dict[str, Any]], rate: float, seconds: float, database: str, load_before: str) -> bool:
    batch = os.environ.get("EMAIL_DRAIN_BATCH_SIZE", "500 (the default)")
    print()
    print(
        f"Pacing (issue 12, P5): a bulk of {int(rate * seconds)} one-recipient messages per run, fake SES at "
        f"{rate:g} recipients/s (its GetSendQuota), pacing on one Redis timeline ({REDIS_URL}), {database}, "
        f"EMAIL_DRAIN_BATCH_SIZE={batch}, EMAIL_MAX_SEND_RATE={os.environ.get('BENCH_MAX_SEND_RATE', '0')}."
    )
    print(f"Machine: {os.cpu_count()} cores; load average before {load_before}, after {_load()}.")
    print()
    header = (
        f"{'workers':>7} {'sent':>6} {'seconds':>8} {'max in 1 s':>11} {'utilisation':>12} "
        f"{'urgent, drains':>18} {'urgent, own task':>18} {'sends per worker':>18}"
    )
    print(header)
    print("-" * len(header))

    def urgent(u: dict[str, Any]) -> str:
        if u["seconds"] is None:
            return "never sent"
        return f"{u['seconds']:.2f} s ({u['ahead'] / rate:.2f})"

    for r in runs:
        print(
            f"{r['workers']:>7} {r['recipients']:>6} {r['span']:>8.2f} {r['max_window']:>11} "
            f"{r['utilisation']:>12.3f} {urgent(r['urgent_drain']):>18} {urgent(r['urgent_task']):>18} "
            f"{'+'.join(map(str, r['batch'])):>18}"
        )
    print()
    print(
        "seconds = from the release to the last SES call; max in 1 s = recipients in the busiest window [t, t+1); "
        "utilisation = sent / (rate x seconds)."
    )
    print(
        "urgent = seconds from its commit to its SES call (in brackets: seconds of rate, the bulk's sends that left "
        f"in between / {rate:g}); queued at SECONDS/3 for the drains, at 2 x SECONDS/3 with its own email_deliver."
    )
    print()
    print("Targets:")
    ok = True
    for r in runs:
        tag = f"[{r['workers']} workers]"
        print(
            f"  {tag} no one-second window above {rate:g}:        {r['max_window']:>6}  "
            f"{_verdict(r['max_window'] <= rate)} (busiest from {r['max_window_at']:.2f} s; {r['over']} of "
            f"{r['windows']} windows above, starting at {r['over_at']} s)"
        )
        print(
            f"  {tag} utilisation >= {TARGET_UTILISATION}:                {r['utilisation']:6.3f}  "
            f"{_verdict(r['utilisation'] >= TARGET_UTILISATION)}"
        )
        for key, label in (("urgent_drain", "drains"), ("urgent_task", "own task")):
            u = r[key]
            seconds_of_rate = u["ahead"] / rate if u["ahead"] is not None else float("inf")
            print(
                f"  {tag} urgent ({label:<8}) within {TARGET_URGENT_SECONDS:g} s of rate:  "
                f"{seconds_of_rate:6.2f}  {_verdict(seconds_of_rate <= TARGET_URGENT_SECONDS)} "
                f"({urgent(u)} after being queued at {u.get('at', 0):.1f} s)"
            )
        paced = min(rate, float(os.environ.get("BENCH_MAX_SEND_RATE", "0")) or rate)
        good = r["verify"]["ok"] and not r["duplicates"] and r["rate_seen"] == [paced]
        ok &= good
        print(
            f"  {tag} every message sent once, paced at {paced:g}/s: {_verdict(good)} "
            f"(statuses {r['verify']['counts']}, duplicates {r['duplicates']}, rate seen {r['rate_seen']})"
        )
    return ok


def main() -> None:
    if "--child" in sys.argv[1:]:
        child([a for a in sys.argv[1:] if a != "--child"])
        return
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rate", type=float, default=100.0, help="the fake SES's MaxSendRate (default 100)")
    parser.add_argument("--seconds", type=float, default=25.0, help="the bulk is rate x seconds (default 25)")
    parser.add_argument("--workers", default="2,4", help="comma-separated worker counts (default 2,4)")
    parser.add_argument("--database", default="postgres", choices=["postgres", "sqlite"])
    parser.add_argument("--batch-size", type=int, default=0, help="EMAIL_DRAIN_BATCH_SIZE for the workers")
    parser.add_argument(
        "--max-send-rate", type=float, default=0.0, help="EMAIL_MAX_SEND_RATE for the workers (0: SES's rate alone)"
    )
    args = parser.parse_args()
    if args.batch_size:
        os.environ["EMAIL_DRAIN_BATCH_SIZE"] = str(args.batch_size)
    os.environ["BENCH_MAX_SEND_RATE"] = str(args.max_send_rate)
    counts = [int(w) for w in args.workers.split(",") if w.strip()]
    started = time.perf_counter()
    load_before = _load()
    print(f"Started {time.strftime('%Y-%m-%d %H:%M:%S %Z')}", flush=True)
    workdir = Path(tempfile.mkdtemp(prefix="bench_pacing_"))
    url, name = _create_database(args.database, workdir, "bench_pacing")
    try:
        env = _env(url)
        env.pop("CACHE_URL", None)  # each process its own cache: the fake quota is asked per process
        _log(f"[{args.database}] migrating a fresh database")
        _migrate(env)
        runs = [run_workers(env, count, args.rate, args.seconds) for count in counts]
    finally:
        _drop_database(name)
        shutil.rmtree(workdir, ignore_errors=True)
        _flush_redis()
    ok = report(runs, args.rate, args.seconds, args.database, load_before)
    print(f"\nTotal run time {time.perf_counter() - started:.0f} s.")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
