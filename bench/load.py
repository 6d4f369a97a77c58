#!/usr/bin/env python
"""Load: the API under a mix of sends, lists and details, with a real worker sending everything accepted.

    .venv/bin/python bench/load.py [--clients 16] [--seconds 60] [--workers 2] [--threads 4]

On PostgreSQL (BENCH_PG_URL, default postgresql://postgres@127.0.0.1:5432/postgres,
is where `bench_load_<pid>` is created, migrated and dropped at the end), with
Redis as Celery's broker and the cache (BENCH_REDIS_URL, default
redis://127.0.0.1:6379/13: that database only, flushed first and at the end),
so the web processes and the worker share throttles, flags and the pacing
timeline:

1. the project is served by gunicorn (gthread, 2 workers x 4 threads) with
   bench.load_settings: the project's settings, SES replaced by
   bench.backend.SerializingBackend (each message serialised as SendRawEmail
   takes it, nothing sent, each call noted per process) and any API
   throttle rate set out of reach; one Celery worker (`celery -A crm_email
   worker`, 2 processes: what it starts with on this machine) serves every
   queue;
2. C clients (threads, spread over a few processes, one keep-alive
   connection each, one user's token) run for S seconds, each request drawn
   at random: 70% sends (`POST /api/email`, one recipient, a small HTML
   body), 20% lists (`GET /api/email`, the first page) and 10% details
   (`GET /api/email/<id>` of a message this client sent). Each client first
   makes one of each, not timed (warm-up), then the clock starts for all;
3. reported: requests/s and latency percentiles (p50, p95, p99, max) per
   kind and overall, and the CPU seconds each part used in the window (the
   gunicorn workers, the Celery worker's processes, the PostgreSQL backends
   of the bench's database, the clients, and the whole machine);
4. then the worker is given time to send what was accepted, and the bench
   checks: every answer 2xx (a send answers 201 Created, as the seeds'
   clients expect, rather than 202; 200 otherwise) and no connection
   error; accepted (201 answers) = stored (Message rows) = sent (messages and
   recipients `sent`) = the backend's calls, each accepted message sent
   exactly once. Any difference fails the run (exit status 1).

`--compare TREE` runs a second stack beside the first from another checkout
of the project (e.g. the commit before a change, `git worktree add` or an
exported copy): its own database (`bench_load_<pid>_compared`), Redis database
(BENCH_REDIS_URL_COMPARED, default redis://127.0.0.1:6379/12), server and
worker. The clients move from one stack to the other every `--slice` seconds
(default 10), so both see the same machine, and each is reported and checked
on its own; a run's own figures move by 10-30% with the machine (it is shared),
so only what one run compares can be read as the effect of a change.

`--profile DIR` samples the gunicorn workers and the Celery worker with py-spy
(`pip install py-spy`, in the bench extra) for the whole window and prints
where their time went, per view and overall.
"""

from __future__ import annotations

import argparse
import http.client
import json
import math
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

PG_ADMIN_URL = os.environ.get("BENCH_PG_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/13")
# The second stack's, with --compare.
REDIS_URL_COMPARED = os.environ.get("BENCH_REDIS_URL_COMPARED", "redis://127.0.0.1:6379/12")
SETTINGS = "bench.load_settings"
SEND, LIST, DETAIL = "send", "list", "detail"
MIX = ((SEND, 70), (LIST, 20), (DETAIL, 10))
EXPECTED = {SEND: 201, LIST: 200, DETAIL: 200}
# Today's figure (issue 13): 16 clients for 60 s gave 63 requests/s with a p99 of 856 ms.
BEFORE = {"per_second": 63.0, "p99_ms": 856.0}


def _log(message: str) -> None:
    print(f"  {time.strftime('%H:%M:%S')} {message}", file=sys.stderr, flush=True)


def _emit(result: dict[str, Any]) -> None:
    sys.stdout.write("RESULT " + json.dumps(result) + "\n")
    sys.stdout.flush()


# --- Child phases (fresh subprocesses) ----------------------------------------


def _setup_django() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", SETTINGS)
    import django

    django.setup()


def phase_setup() -> None:
    from django.contrib.auth import get_user_model
    from rest_framework.authtoken.models import Token

    user = get_user_model().objects.create(username="bench-crm", email="crm@example.com")
    token = Token.objects.create(user=user)
    _emit({"token": token.key})


def phase_wait(accepted: int, timeout: float) -> None:
    """Wait until the worker has sent what was accepted (or made no progress for `timeout` seconds)."""
    from django.db.models import Count, Q

    from emails.models import Message, Recipient

    def counts() -> dict[str, int]:
        messages = Message.objects.aggregate(
            stored=Count("pk"),
            sent=Count("pk", filter=Q(status="sent")),
            unfinished=Count("pk", filter=Q(status__in=("queued", "sending"))),
        )
        recipients = Recipient.objects.aggregate(
            recipients=Count("pk"), recipients_sent=Count("pk", filter=Q(status="sent"))
        )
        return {**messages, **recipients}

    start = time.monotonic()
    last, last_change = counts(), time.monotonic()
    while last["unfinished"] and time.monotonic() - last_change < timeout:
        time.sleep(0.5)
        now = counts()
        if now != last:
            last, last_change = now, time.monotonic()
    _emit({**last, "waited": time.monotonic() - start, "accepted": accepted})


def phase_ids() -> None:
    from emails.models import Message

    _emit({"ids": [str(pk) for pk in Message.objects.values_list("pk", flat=True)]})


def phase_clients(
    ports: list[int], tokens: list[str], threads: int, seconds: float, start_at: float, slice_seconds: float, seed: int
) -> None:
    """`threads` clients, each on keep-alive connections of its own; every timed request's stack, kind, status and
    latency. With several stacks (ports), all clients move from one to the next every `slice_seconds`."""
    weights = [w for _, w in MIX]
    kinds = [k for k, _ in MIX]
    results: list[list[Any]] = []
    accepted: list[list[str]] = [[] for _ in ports]
    errors: Counter[str] = Counter()
    lock = threading.Lock()
    ready = threading.Barrier(threads)

    def client(index: int) -> None:
        rng = random.Random(seed * 1000 + index)
        conns = [http.client.HTTPConnection("127.0.0.1", port, timeout=60) for port in ports]
        mine: list[list[str]] = [[] for _ in ports]
        local: list[list[Any]] = []
        sequence = 0

        def request(stack: int, kind: str) -> tuple[int, float]:
            nonlocal sequence
            headers = {"Authorization": f"Token {tokens[stack]}", "Content-Type": "application/json"}
            if kind == SEND:
                sequence += 1
                number = f"{seed}-{index}-{sequence}"
                body = json.dumps(
                    {
                        "to": f"reader-{number}@example.org",
                        "subject": f"Your statement {number}",
                        "htmlContent": f"<h1>Statement {number}</h1><p>Hello, your balance is <b>42.00</b>.</p>",
                        "category": "notification",
                    }
                )
                method, path = "POST", "/api/email"
            elif kind == LIST:
                body, method, path = None, "GET", "/api/email"
            else:
                body, method, path = None, "GET", f"/api/email/{rng.choice(mine[stack])}"
            began = time.perf_counter()
            try:
                conns[stack].request(method, path, body=body, headers=headers)
                response = conns[stack].getresponse()
                payload = response.read()
            except (OSError, http.client.HTTPException) as exc:
                conns[stack].close()
                conns[stack] = http.client.HTTPConnection("127.0.0.1", ports[stack], timeout=60)
                with lock:
                    errors[f"{stack}\t{kind}: {type(exc).__name__}"] += 1
                return 0, time.perf_counter() - began
            latency = time.perf_counter() - began
            if response.status != EXPECTED[kind]:
                with lock:
                    errors[f"{stack}\t{kind}: {response.status} {payload[:200]!r}"] += 1
            elif kind == SEND:
                message_id = json.loads(payload)["data"]["messageId"]
                mine[stack].append(message_id)
                with lock:
                    accepted[stack].append(message_id)
            return response.status, latency

        for stack in range(len(ports)):
            for kind in (SEND, LIST, DETAIL):  # warm-up, not timed
                request(stack, kind)
        ready.wait()
        time.sleep(max(0.0, start_at - time.time()))
        end = start_at + seconds
        while (now := time.time()) < end:
            stack = int((now - start_at) // slice_seconds) % len(ports)
            kind = rng.choices(kinds, weights)[0]
            if kind == DETAIL and not mine[stack]:
                kind = SEND
            status, latency = request(stack, kind)
            local.append([stack, kind, status, latency])
        for conn in conns:
            conn.close()
        with lock:
            results.extend(local)

    workers = [threading.Thread(target=client, args=(i,)) for i in range(threads)]
    for thread in workers:
        thread.start()
    for thread in workers:
        thread.join()
    _emit({"results": results, "accepted": accepted, "errors": dict(errors), "cpu": _cpu_seconds(os.getpid())})


def child(argv: list[str]) -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--phase", required=True)
    parser.add_argument("--ports", default="")
    parser.add_argument("--tokens", default="")
    parser.add_argument("--slice", type=float, default=0)
    parser.add_argument("--threads", type=int, default=0)
    parser.add_argument("--seconds", type=float, default=0)
    parser.add_argument("--start-at", type=float, default=0)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--accepted", type=int, default=0)
    args = parser.parse_args(argv)
    if args.phase == "clients":
        ports = [int(port) for port in args.ports.split(",")]
        tokens = args.tokens.split(",")
        phase_clients(ports, tokens, args.threads, args.seconds, args.start_at, args.slice, args.seed)
        return
    _setup_django()
    phases = {
        "setup": phase_setup,
        "wait": lambda: phase_wait(args.accepted, args.seconds),
        "ids": phase_ids,
    }
    phases[args.phase]()


# --- Parent: database, Redis, server, worker, clients, report -----------------


def _command(phase: str, *args: str) -> list[str]:
    return [sys.executable, str(Path(__file__).resolve()), "--child", "--phase", phase, *args]


def _result(proc_stdout: str, phase: str) -> dict[str, Any]:
    for line in proc_stdout.splitlines():
        if line.startswith("RESULT "):
            return dict(json.loads(line[len("RESULT ") :]))
    raise RuntimeError(f"phase {phase}: no result in its output:\n{proc_stdout[-2000:]}")


def _run_child(env: dict[str, str], phase: str, *args: str) -> dict[str, Any]:
    proc = subprocess.run(_command(phase, *args), env=env, stdout=subprocess.PIPE, text=True, check=False)
    if proc.returncode:
        raise RuntimeError(f"phase {phase} failed with exit code {proc.returncode}:\n{proc.stdout[-2000:]}")
    return _result(proc.stdout, phase)


def _create_database(name: str) -> str:
    import psycopg

    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')
    return f"{PG_ADMIN_URL.rsplit('/', 1)[0]}/{name}"


def _drop_database(name: str) -> None:
    import psycopg

    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _redis_flush(url: str) -> None:
    import redis

    redis.Redis.from_url(url).flushdb()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _server_start(
    env: dict[str, str],
    root: Path,
    port: int,
    workers: int,
    threads: int,
    *,
    ready: tuple[str, int] = ("/api/email", 401),
) -> subprocess.Popen[bytes]:
    """gunicorn serving the project from `root`, once a GET of ready's path answers ready's status."""
    command = [
        str(Path(sys.executable).parent / "gunicorn"),
        "crm_email.wsgi",
        "--bind",
        f"127.0.0.1:{port}",
        "--worker-class",
        "gthread",
        "--workers",
        str(workers),
        "--threads",
        str(threads),
        "--keep-alive",
        "30",
        "--log-level",
        "warning",
    ]
    server = subprocess.Popen(command, env=env, cwd=root, start_new_session=True)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", ready[0])
            if conn.getresponse().status == ready[1]:
                return server
        except OSError:
            time.sleep(0.2)
    _stop(server)
    raise RuntimeError("the server did not start")


def _worker_start(env: dict[str, str], root: Path, concurrency: int) -> subprocess.Popen[bytes]:
    command = [
        sys.executable,
        "-m",
        "celery",
        "-A",
        "crm_email",
        "worker",
        f"--concurrency={concurrency}",
        "--without-heartbeat",
        "--without-gossip",
        "--without-mingle",
        "-l",
        "warning",
    ]
    return subprocess.Popen(command, env=env, cwd=root, start_new_session=True)


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def _children(pid: int) -> list[int]:
    try:
        text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
    except OSError:
        return []
    return [int(x) for x in text.split()]


def _cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a process so far (0 when it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _postgres_cpu(db_name: str) -> dict[int, float]:
    """CPU seconds so far of every PostgreSQL backend serving the bench's database."""
    cpu = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if cmdline.startswith("postgres: ") and f" {db_name} " in cmdline:
            cpu[int(entry.name)] = _cpu_seconds(int(entry.name))
    return cpu


class PostgresSampler:
    """CPU seconds of the PostgreSQL backends serving a database, sampled every half second, so a backend that
    ends during the window (a connection past CONN_MAX_AGE) still counts up to its last sample."""

    def __init__(self, db_name: str) -> None:
        self._db_name = db_name
        self._first = _postgres_cpu(db_name)
        self._last = dict(self._first)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(0.5):
            self._last.update(_postgres_cpu(self._db_name))

    def stop(self) -> float:
        self._stop.set()
        self._thread.join()
        self._last.update(_postgres_cpu(self._db_name))
        return sum(cpu - self._first.get(pid, 0.0) for pid, cpu in self._last.items())


def _machine_busy_seconds() -> float:
    """CPU seconds the whole machine has been busy (all processes, everyone's), from /proc/stat."""
    fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + fields[4]
    return (sum(fields[:8]) - idle) / os.sysconf("SC_CLK_TCK")


def _percentile(values: list[float], fraction: float) -> float:
    """The nearest-rank percentile of sorted `values`."""
    if not values:
        return float("nan")
    return values[min(len(values), max(1, math.ceil(fraction * len(values)))) - 1]


def _summary(latencies: list[float], seconds: float) -> dict[str, float]:
    values = sorted(latencies)
    return {
        "count": len(values),
        "per_second": len(values) / seconds,
        "p50_ms": _percentile(values, 0.50) * 1000,
        "p95_ms": _percentile(values, 0.95) * 1000,
        "p99_ms": _percentile(values, 0.99) * 1000,
        "max_ms": (values[-1] if values else float("nan")) * 1000,
    }


def _sent_calls(directory: Path) -> Counter[str]:
    calls: Counter[str] = Counter()
    for path in directory.glob("sent-*.tsv"):
        for line in path.read_text().splitlines():
            calls[line.split("\t", 1)[0]] += 1
    return calls


def profile_start(
    directory: Path, pids: dict[str, int], seconds: float | None, *, gil: bool = False
) -> list[subprocess.Popen[bytes]]:
    """py-spy sampling each process of `pids` (label: pid) into DIR/<label>.txt, for `seconds` or until stopped.

    With `gil`, only the thread holding the GIL is sampled: where Python code spends CPU, not where it waits.
    """
    spy = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
    recorders = []
    for label, pid in pids.items():
        command = [spy, "record", "--format", "raw", "--rate", "100", "--nonblocking", "--function",
                   "--pid", str(pid), "--output", str(directory / f"{label}.txt")]  # fmt: skip
        if seconds is not None:
            command += ["--duration", str(max(1, int(seconds)))]
        if gil:
            command.append("--gil")
        recorders.append(subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
    return recorders


def profile_stop(recorders: list[subprocess.Popen[bytes]]) -> None:
    """Stop py-spy (it writes its file on SIGINT), or wait for it when it was given a duration."""
    for recorder in recorders:
        if recorder.poll() is None:
            recorder.send_signal(signal.SIGINT)
    for recorder in recorders:
        recorder.wait(timeout=60)


def profile_report(directory: Path, prefix: str, *, under: str | None = None, top: int = 30, sampled: str = "") -> None:
    """Inclusive and own samples per function over the files DIR/<prefix>*.txt; with `under`, only the
    samples inside a function of that name, as shares of them."""
    inclusive: Counter[str] = Counter()
    own: Counter[str] = Counter()
    total = 0
    for path in directory.glob(f"{prefix}*.txt"):
        for line in path.read_text().splitlines():
            stack, _, count_text = line.rpartition(" ")
            if not stack or not count_text.isdigit():
                continue
            frames = [f for f in stack.split(";") if not f.startswith(("process ", "thread "))]
            if under is not None:
                inside = [i for i, f in enumerate(frames) if f.split(" (", 1)[0].endswith(under)]
                if not inside:
                    continue
                frames = frames[inside[0] :]
            count = int(count_text)
            total += count
            for frame in set(frames):
                inclusive[frame] += count
            if frames:
                own[frames[-1]] += count
    scope = f" inside {under}" if under else ""
    print(f"Profile of {prefix}*{scope}: {total} samples at 100/s ({sampled or 'threads on a CPU or waiting for one'})")
    if not total:
        print("  (no samples: is py-spy installed, and may it trace these processes?)")
        return
    print("  inclusive:")
    for frame, count in inclusive.most_common(top):
        print(f"    {100 * count / total:5.1f}%  {frame}")
    print("  own:")
    for frame, count in own.most_common(top):
        print(f"    {100 * count / total:5.1f}%  {frame}")


def _load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def _verdict(ok: bool) -> str:
    return "PASS" if ok else "FAIL"


@dataclass
class Stack:
    """One copy of the product under test: its tree, database, Redis database, server and worker."""

    label: str
    root: Path
    redis_url: str
    db_name: str
    workdir: Path
    env: dict[str, str] = field(default_factory=dict)
    token: str = ""
    port: int = 0
    server: subprocess.Popen[bytes] | None = None
    worker: subprocess.Popen[bytes] | None = None
    web_pids: list[int] = field(default_factory=list)
    worker_pids: list[int] = field(default_factory=list)
    cpu: dict[str, float] = field(default_factory=dict)
    waited: dict[str, Any] = field(default_factory=dict)
    stored_ids: set[str] = field(default_factory=set)

    @property
    def sent_dir(self) -> Path:
        return self.workdir / f"sent-{self.db_name}"

    def start(self, args: argparse.Namespace) -> None:
        url = _create_database(self.db_name)
        _redis_flush(self.redis_url)
        self.sent_dir.mkdir()
        self.env = dict(
            os.environ,
            DJANGO_SETTINGS_MODULE=SETTINGS,
            DATABASE_URL=url,
            DJANGO_SECRET_KEY="bench-only-secret-key-not-for-production",
            CELERY_BROKER_URL=self.redis_url,
            CACHE_URL=self.redis_url,
            SES_EMULATED="false",
            BENCH_SENT_DIR=str(self.sent_dir),
            LOG_LEVEL="ERROR",
            PYTHONPATH=os.pathsep.join([str(self.root), os.environ.get("PYTHONPATH", "")]).rstrip(os.pathsep),
        )
        self.env.pop("EMAIL_BACKEND", None)  # bench.load_settings names the fake SES
        _log(f"[{self.label}] migrating {self.db_name} with {self.root}")
        subprocess.run([sys.executable, str(self.root / "manage.py"), "migrate", "-v", "0"], env=self.env, check=True)
        self.token = _run_child(self.env, "setup")["token"]
        self.port = _free_port()
        self.server = _server_start(self.env, self.root, self.port, args.workers, args.threads)
        self.worker = _worker_start(self.env, self.root, args.worker_concurrency)
        deadline = time.monotonic() + 30  # the worker connects to Redis and forks its processes
        while len(_children(self.worker.pid)) < args.worker_concurrency and time.monotonic() < deadline:
            time.sleep(0.2)
        self.web_pids = _children(self.server.pid)
        self.worker_pids = [self.worker.pid, *_children(self.worker.pid)]
        _log(
            f"[{self.label}] gunicorn on 127.0.0.1:{self.port} ({args.workers} x {args.threads} threads, pids "
            f"{self.web_pids}); Celery worker pids {self.worker_pids}"
        )

    def finish(self, accepted: int, drain_timeout: float) -> None:
        _log(f"[{self.label}] {accepted} sends accepted; waiting for the worker to send them")
        self.waited = _run_child(self.env, "wait", "--accepted", str(accepted), "--seconds", str(drain_timeout))
        if self.worker is not None:
            _stop(self.worker)  # its processes write their last calls on the way out
            self.worker = None
        self.stored_ids = set(_run_child(self.env, "ids")["ids"])

    def stop(self) -> None:
        try:
            for process in (self.server, self.worker):
                if process is not None:
                    _stop(process)
            self.server = self.worker = None
            _redis_flush(self.redis_url)
        finally:
            _drop_database(self.db_name)


def _report(
    stack: Stack,
    results: list[list[Any]],
    accepted: list[str],
    errors: Counter[str],
    window: float,
    profile: str,
    profile_cpu: bool = False,
) -> bool:
    """The stack's table, CPU and checks; False when a check failed."""
    by_kind: dict[str, list[float]] = defaultdict(list)
    everything: list[float] = []
    for kind, _status, latency in results:
        by_kind[kind].append(latency)
        everything.append(latency)
    total = _summary(everything, window)
    print(f"[{stack.label}] {stack.root}")
    print(f"  {'kind':<8} {'requests':>9} {'per s':>8} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'max ms':>8}")
    for kind, row in [*((k, _summary(by_kind[k], window)) for k, _ in MIX), ("all", total)]:
        print(
            f"  {kind:<8} {row['count']:>9} {row['per_second']:>8.1f} {row['p50_ms']:>8.1f} "
            f"{row['p95_ms']:>8.1f} {row['p99_ms']:>8.1f} {row['max_ms']:>8.1f}"
        )
    cpu = stack.cpu
    print(
        f"  CPU seconds: gunicorn workers {cpu['web']:.1f}, Celery worker {cpu['worker']:.1f}, PostgreSQL backends "
        f"of its database {cpu['postgres']:.1f}; per request: gunicorn {1000 * cpu['web'] / max(1, total['count']):.1f}"
        f" ms, PostgreSQL {1000 * cpu['postgres'] / max(1, total['count']):.1f} ms; per accepted send: Celery worker "
        f"{1000 * cpu['worker'] / max(1, len(accepted)):.1f} ms"
    )
    if profile:
        sampled = "the thread holding the GIL" if profile_cpu else ""
        for view in ("create", "list", "retrieve"):
            profile_report(
                Path(profile), f"{stack.db_name}-web-", under=f"MessageViewSet.{view}", top=25, sampled=sampled
            )
        profile_report(Path(profile), f"{stack.db_name}-web-", top=40, sampled=sampled)
        profile_report(Path(profile), f"{stack.db_name}-worker-", sampled=sampled)
    calls = _sent_calls(stack.sent_dir)
    waited = stack.waited
    accepted_set = set(accepted)
    checks = {
        f"no errors (non-2xx answers, connection errors): {sum(errors.values())}": not errors,
        f"accepted (201 answers) {len(accepted)}, distinct": len(accepted_set) == len(accepted),
        f"stored (Message rows) {waited['stored']} = accepted": accepted_set == stack.stored_ids,
        f"sent (messages sent) {waited['sent']} = accepted": waited["sent"] == len(accepted),
        f"recipients {waited['recipients']}, all sent ({waited['recipients_sent']})": waited["recipients"]
        == waited["recipients_sent"]
        == len(accepted),
        f"backend calls {sum(calls.values())}: each accepted message exactly once": set(calls) == accepted_set
        and all(count == 1 for count in calls.values()),
    }
    print(f"  After the window the worker needed {waited['waited']:.1f} s more to send everything.")
    print("  Correctness:")
    for name, ok in checks.items():
        print(f"    {name}: {_verdict(ok)}")
    for error, count in errors.most_common(10):
        print(f"      {count} x {error}")
    print(
        f"  Against the issue's figure ({BEFORE['per_second']:.0f} requests/s, p99 {BEFORE['p99_ms']:.0f} ms): "
        f"{total['per_second']:.0f} requests/s, p99 {total['p99_ms']:.0f} ms"
    )
    print()
    return all(checks.values())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--clients", type=int, default=16, help="client threads, one keep-alive connection each")
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--client-processes", type=int, default=2, help="processes the client threads share")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn worker processes")
    parser.add_argument("--threads", type=int, default=4, help="threads per gunicorn worker")
    parser.add_argument("--worker-concurrency", type=int, default=os.cpu_count() or 1,
                        help="Celery worker processes (its default: one per CPU)")  # fmt: skip
    parser.add_argument("--drain-timeout", type=float, default=120.0,
                        help="give up waiting for the worker after this long without progress")  # fmt: skip
    parser.add_argument("--profile", metavar="DIR", help="sample the server and the worker with py-spy into DIR")
    parser.add_argument("--profile-cpu", action="store_true",
                        help="with --profile: sample only the thread holding the GIL (CPU, not waiting)")  # fmt: skip
    parser.add_argument("--compare", metavar="TREE", help="also run another checkout's product, alternating")
    parser.add_argument("--slice", type=float, default=10.0, help="with --compare: seconds on one before the other")
    args = parser.parse_args()
    from importlib.metadata import version

    load_before = _load()
    workdir = Path(tempfile.mkdtemp(prefix="bench_load_"))
    stacks = [Stack("this tree", ROOT, REDIS_URL, f"bench_load_{os.getpid()}", workdir)]
    if args.compare:
        root = Path(args.compare).resolve()
        stacks.append(Stack("compared", root, REDIS_URL_COMPARED, f"bench_load_{os.getpid()}_compared", workdir))
    slice_seconds = args.slice if args.compare else args.seconds
    try:
        for stack in stacks:
            stack.start(args)
        _log(f"{args.clients} clients for {args.seconds:.0f} s" + (f", {slice_seconds:.0f} s on each in turn"
                                                                     if args.compare else ""))  # fmt: skip
        processes = max(1, min(args.client_processes, args.clients))
        shares = [args.clients // processes + (1 if i < args.clients % processes else 0) for i in range(processes)]
        start_at = time.time() + 3 + 2 * len(stacks)  # every client connected and warmed up by then
        common = [
            "--ports", ",".join(str(s.port) for s in stacks), "--tokens", ",".join(s.token for s in stacks),
            "--seconds", str(args.seconds), "--start-at", str(start_at), "--slice", str(slice_seconds),
        ]  # fmt: skip
        clients = [
            subprocess.Popen(
                _command("clients", *common, "--threads", str(share), "--seed", str(i)),
                env=stacks[0].env,
                stdout=subprocess.PIPE,
                text=True,
            )
            for i, share in enumerate(shares)
        ]
        time.sleep(max(0.0, start_at - time.time()))
        recorders: list[subprocess.Popen[bytes]] = []
        if args.profile:
            profile_dir = Path(args.profile)
            profile_dir.mkdir(parents=True, exist_ok=True)
            targets = {}
            for stack in stacks:
                targets.update({f"{stack.db_name}-web-{pid}": pid for pid in stack.web_pids})
                targets.update({f"{stack.db_name}-worker-{pid}": pid for pid in stack.worker_pids})
            recorders = profile_start(profile_dir, targets, args.seconds, gil=args.profile_cpu)
        pids = {pid for stack in stacks for pid in [*stack.web_pids, *stack.worker_pids]}
        cpu_before = {pid: _cpu_seconds(pid) for pid in pids}
        samplers = [PostgresSampler(stack.db_name) for stack in stacks]
        busy_before = _machine_busy_seconds()
        outputs = [proc.communicate()[0] for proc in clients]
        busy = _machine_busy_seconds() - busy_before
        for stack, sampler in zip(stacks, samplers, strict=True):
            stack.cpu = {
                "web": sum(_cpu_seconds(pid) - cpu_before[pid] for pid in stack.web_pids),
                "worker": sum(_cpu_seconds(pid) - cpu_before[pid] for pid in stack.worker_pids),
                "postgres": sampler.stop(),
            }
        load_after = _load()
        profile_stop(recorders)
        if any(proc.returncode for proc in clients):
            raise RuntimeError("a client process failed:\n" + "\n".join(o[-2000:] for o in outputs))
        parts = [_result(output, "clients") for output in outputs]
        accepted = [[m for part in parts for m in part["accepted"][i]] for i in range(len(stacks))]
        for stack, ids in zip(stacks, accepted, strict=True):
            stack.finish(len(ids), args.drain_timeout)
    finally:
        for stack in stacks:
            stack.stop()

    client_cpu = sum(p["cpu"] for p in parts)
    ours = sum(sum(stack.cpu.values()) for stack in stacks) + client_cpu
    print()
    print(
        f"Load: {args.clients} clients for {args.seconds:.0f} s (70% sends, 20% lists, 10% details), "
        f"PostgreSQL, one Celery worker on Redis"
        + (f"; two stacks, the clients on each in turn for {slice_seconds:.0f} s" if args.compare else "")
    )
    print(
        f"Machine: {os.cpu_count()} cores; load average before {load_before}, at the end of the window "
        f"{load_after}. Python {sys.version.split()[0]}, Django {version('django')}, gunicorn "
        f"{version('gunicorn')} (gthread, {args.workers} workers x {args.threads} threads), Celery "
        f"{version('celery')} ({args.worker_concurrency} processes)."
    )
    print(
        f"CPU seconds in the window ({args.seconds:.0f} s x {os.cpu_count()} cores = "
        f"{args.seconds * (os.cpu_count() or 1):.0f} available): the whole machine {busy:.1f}; the clients "
        f"{client_cpu:.1f}; anything else (Redis, the kernel, other users) {busy - ours:.1f}"
    )
    print()
    errors: list[Counter[str]] = [Counter() for _ in stacks]
    results: list[list[list[Any]]] = [[] for _ in stacks]
    for part in parts:
        for index, kind, status, latency in part["results"]:
            results[index].append([kind, status, latency])
        for error, count in part["errors"].items():
            index_text, _, what = error.partition("\t")
            errors[int(index_text)][what] += count
    # Each stack's share of the window: the slices it was given.
    windows = [0.0] * len(stacks)
    for k in range(math.ceil(args.seconds / slice_seconds)):
        windows[k % len(stacks)] += min(slice_seconds, args.seconds - k * slice_seconds)
    ok = [
        _report(stack, results[i], accepted[i], errors[i], windows[i], args.profile or "", args.profile_cpu)
        for i, stack in enumerate(stacks)
    ]
    shutil.rmtree(workdir, ignore_errors=True)
    return 0 if all(ok) else 1


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        child(sys.argv[2:])
    else:
        sys.exit(main())
