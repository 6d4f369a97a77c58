#!/usr/bin/env python
"""Upload memory: a 100 MB file through the disk flow and through the S3 flow, measured at the app server.

    .venv/bin/python bench/upload_memory.py [--mb 100] [--runs 3]

For each flow an app server is started in its own process (`manage.py
runserver --noreload`, on a fresh SQLite database in a temporary directory,
a user with an API token), and driven over HTTP exactly as a browser does:
POST /api/files/upload-url, the multipart POST of the file to the uploadUrl,
POST /api/files/complete. The file is streamed from a file on disk by this
process with http.client, so the client holds one chunk at a time.

Measured in the app server's process, from Linux's /proc/<pid>:
- peak resident memory (VmHWM) before the upload (after a warm-up upload of
  a small file, so code and caches are loaded) and after the completion;
  the growth is what the upload cost in memory;
- bytes the process read and wrote with read()/write() system calls
  (rchar/wchar of /proc/<pid>/io) during the flow: files on disk, not
  sockets (Python's sockets use recv/send, which these do not count).

Disk flow: the server streams the body to MEDIA_ROOT in 64 KiB chunks; the
budget is a growth of less than 32 MB for a 100 MB file.
S3 flow: moto's S3 server runs in this process (ThreadedMotoServer), the
app server is configured with AWS_STORAGE_BUCKET_NAME/AWS_S3_ENDPOINT_URL;
the file goes from this process to moto directly. moto is wrapped to count
the bytes each side sends and receives (the client is told apart by its
User-Agent): the app server only signs, then at completion asks S3 for the
object's size (HEAD) and reads its first 8 KiB for the magic-byte check.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
CHUNK = 1024 * 1024
BUDGET_MB = 32
CLIENT_AGENT = "bench-upload-client"


class CountingMotoServer:
    """moto's S3 as an HTTP server in this process, counting the bytes each side moves.

    Requests from this benchmark's client carry the User-Agent CLIENT_AGENT;
    every other request comes from the app server (boto3).
    """

    def __init__(self) -> None:
        from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app
        from werkzeug.serving import make_server

        class QuietHandler(MotoRequestHandler):  # type: ignore[misc]
            def log_request(self, *args: Any, **kwargs: Any) -> None:
                pass

        self.counts = {"client_sent": 0, "client_received": 0, "app_sent": 0, "app_received": 0, "app_requests": 0}
        self.app_requests: list[str] = []
        app = DomainDispatcherApplication(create_backend_app)

        def counting(environ: dict[str, Any], start_response: Any) -> Any:
            side = "client" if environ.get("HTTP_USER_AGENT") == CLIENT_AGENT else "app"
            self.counts[f"{side}_sent"] += int(environ.get("CONTENT_LENGTH") or 0)
            if side == "app":
                self.app_requests.append(f"{environ['REQUEST_METHOD']} {environ.get('HTTP_RANGE', '')}".strip())
            for chunk in app(environ, start_response):
                self.counts[f"{side}_received"] += len(chunk)
                yield chunk

        self.server = make_server("127.0.0.1", 0, counting, threaded=True, request_handler=QuietHandler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        self.endpoint = f"http://127.0.0.1:{self.server.server_address[1]}"

    def reset(self) -> None:
        self.counts = dict.fromkeys(self.counts, 0)
        self.app_requests = []

    def stop(self) -> None:
        self.server.shutdown()
        self.thread.join()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def proc_status(pid: int, field: str) -> int:
    """A size field of /proc/<pid>/status, in bytes."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1]) * 1024
    raise KeyError(field)


def proc_io(pid: int) -> dict[str, int]:
    values = {}
    for line in Path(f"/proc/{pid}/io").read_text().splitlines():
        name, _, value = line.partition(":")
        values[name] = int(value)
    return values


@dataclass
class Server:
    process: subprocess.Popen[bytes]
    base: str
    token: str
    env: dict[str, str]

    @property
    def pid(self) -> int:
        return self.process.pid

    def api(self, method: str, path: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        parts = urlsplit(self.base)
        conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=600)
        payload = json.dumps(body).encode() if body is not None else None
        headers = {"Authorization": f"Token {self.token}", "Content-Type": "application/json"}
        conn.request(method, path, body=payload, headers=headers)
        response = conn.getresponse()
        data = json.loads(response.read() or b"{}")
        conn.close()
        if response.status >= 300:
            raise RuntimeError(f"{method} {path}: {response.status} {data}")
        return data


def start_server(workdir: Path, extra_env: dict[str, str]) -> Server:
    port = free_port()
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "crm_email.settings",
        "DATABASE_URL": f"sqlite:///{workdir / 'db.sqlite3'}",
        "DJANGO_SECRET_KEY": "bench-only-not-secret",
        "MEDIA_ROOT": str(workdir / "media"),
        "SES_EMULATED": "false",
        "LOG_LEVEL": "WARNING",
        "PYTHONUNBUFFERED": "1",
        **extra_env,
    }
    manage = [PYTHON, str(ROOT / "manage.py")]
    subprocess.run([*manage, "migrate", "--no-input", "-v", "0"], env=env, check=True, cwd=ROOT)
    token = (
        subprocess.run(
            [
                *manage,
                "shell",
                "-c",
                "from django.contrib.auth.models import User; from rest_framework.authtoken.models import Token; "
                "u = User.objects.create_user('bench'); print(Token.objects.create(user=u).key)",
            ],
            env=env,
            check=True,
            cwd=ROOT,
            capture_output=True,
            text=True,
        )
        .stdout.strip()
        .splitlines()[-1]
    )
    process = subprocess.Popen(
        [*manage, "runserver", f"127.0.0.1:{port}", "--noreload"],
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                break
        except OSError:
            time.sleep(0.1)
    else:
        process.kill()
        raise RuntimeError("the app server did not start")
    return Server(process=process, base=base, token=token, env=env)


def multipart_post(url: str, fields: dict[str, str], path: Path, name: str, content_type: str) -> int:
    """POST fields then the file, streamed from disk one chunk at a time; returns the status."""
    boundary = f"----bench{uuid.uuid4().hex}"
    head = b"".join(
        f'--{boundary}\r\nContent-Disposition: form-data; name="{key}"\r\n\r\n{value}\r\n'.encode()
        for key, value in fields.items()
    )
    head += (
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{name}"\r\n'
        f"Content-Type: {content_type}\r\n\r\n"
    ).encode()
    tail = f"\r\n--{boundary}--\r\n".encode()
    size = path.stat().st_size
    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=600)
    conn.putrequest("POST", parts.path + (f"?{parts.query}" if parts.query else ""))
    conn.putheader("User-Agent", CLIENT_AGENT)
    conn.putheader("Content-Type", f"multipart/form-data; boundary={boundary}")
    conn.putheader("Content-Length", str(len(head) + size + len(tail)))
    conn.endheaders()
    conn.send(head)
    with path.open("rb") as handle:
        while chunk := handle.read(CHUNK):
            conn.send(chunk)
    conn.send(tail)
    response = conn.getresponse()
    response.read()
    conn.close()
    return response.status


def make_pdf(path: Path, megabytes: int) -> None:
    """A PDF of the given size: its header, then filler lines (written in chunks)."""
    with path.open("wb") as handle:
        handle.write(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
        line = b"% " + b"0123456789abcdef" * 4 + b"\n"
        block = line * (CHUNK // len(line))
        target = megabytes * 1024 * 1024 - 32
        while handle.tell() + len(block) < target:
            handle.write(block)
        handle.write(b"x" * (target - handle.tell()))
        handle.write(b"\ntrailer\n%%EOF\n")


@dataclass
class Run:
    flow: str
    size: int
    peak_before: int
    peak_after: int
    read: int  # bytes the app server read with read() system calls (files, not sockets)
    written: int
    seconds: float
    s3: dict[str, int] | None = None  # bytes each side moved to and from S3
    app_s3_requests: list[str] | None = None

    @property
    def growth(self) -> int:
        return self.peak_after - self.peak_before


def upload_once(server: Server, path: Path, name: str) -> tuple[dict[str, Any], float]:
    started = time.perf_counter()
    size = path.stat().st_size
    ask = server.api(
        "POST",
        "/api/files/upload-url",
        {"fileName": name, "contentType": "application/pdf", "category": "document", "maxSizeBytes": size},
    )["data"]
    status = multipart_post(ask["uploadUrl"], ask["fields"], path, name, "application/pdf")
    if status not in (200, 201, 204):
        raise RuntimeError(f"upload answered {status}")
    done = server.api("POST", "/api/files/complete", {"fileId": ask["fileId"]})["data"]["file"]
    if done["status"] != "completed" or int(done["size"]) != size:
        raise RuntimeError(f"the completion recorded {done['status']} / {done['size']} bytes")
    return done, time.perf_counter() - started


def measure(flow: str, server: Server, big: Path, small: Path, moto: CountingMotoServer | None = None) -> Run:
    upload_once(server, small, "warm-up.pdf")  # load every code path first
    peak_before = proc_status(server.pid, "VmHWM")
    io_before = proc_io(server.pid)
    if moto is not None:
        moto.reset()
    _, seconds = upload_once(server, big, "big.pdf")
    io_after = proc_io(server.pid)
    peak_after = proc_status(server.pid, "VmHWM")
    return Run(
        flow=flow,
        size=big.stat().st_size,
        peak_before=peak_before,
        peak_after=peak_after,
        read=io_after["rchar"] - io_before["rchar"],
        written=io_after["wchar"] - io_before["wchar"],
        seconds=seconds,
        s3=dict(moto.counts) if moto is not None else None,
        app_s3_requests=list(moto.app_requests) if moto is not None else None,
    )


def mb(value: int) -> str:
    return f"{value / (1024 * 1024):.1f} MB"


def kb(value: int) -> str:
    return f"{value / 1024:.1f} KB"


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--mb", type=int, default=100, help="size of the uploaded file (default 100)")
    parser.add_argument("--runs", type=int, default=3, help="fresh servers per flow (default 3)")
    options = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="bench_upload_"))
    runs: list[Run] = []
    moto: CountingMotoServer | None = None
    try:
        big, small = workdir / "big.pdf", workdir / "small.pdf"
        make_pdf(big, options.mb)
        make_pdf(small, 1)
        for index in range(options.runs):
            server_dir = workdir / f"disk-{index}"
            server_dir.mkdir()
            server = start_server(server_dir, {})
            try:
                runs.append(measure("disk", server, big, small))
                stored = list((server_dir / "media").rglob("*-big.pdf"))
                if len(stored) != 1 or stored[0].read_bytes() != big.read_bytes():
                    raise RuntimeError("the disk upload was not stored intact")
            finally:
                server.process.terminate()
                server.process.wait()

        import boto3

        moto = CountingMotoServer()
        for index in range(options.runs):
            bucket = f"bench-upload-{index}"
            s3 = boto3.client(
                "s3",
                endpoint_url=moto.endpoint,
                region_name="us-east-1",
                aws_access_key_id="testing",
                aws_secret_access_key="testing",
            )
            s3.create_bucket(Bucket=bucket)
            server_dir = workdir / f"s3-{index}"
            server_dir.mkdir()
            server = start_server(
                server_dir,
                {
                    "AWS_STORAGE_BUCKET_NAME": bucket,
                    "AWS_S3_ENDPOINT_URL": moto.endpoint,
                    "AWS_S3_REGION_NAME": "us-east-1",
                    "AWS_ACCESS_KEY_ID": "testing",
                    "AWS_SECRET_ACCESS_KEY": "testing",
                },
            )
            try:
                runs.append(measure("s3", server, big, small, moto))
                keys = [
                    o["Key"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"] if o["Key"].endswith("-big.pdf")
                ]
                if len(keys) != 1 or s3.get_object(Bucket=bucket, Key=keys[0])["Body"].read() != big.read_bytes():
                    raise RuntimeError("the S3 upload was not stored intact")
            finally:
                server.process.terminate()
                server.process.wait()
    finally:
        if moto is not None:
            moto.stop()
        shutil.rmtree(workdir, ignore_errors=True)

    size = runs[0].size
    print(f"A {mb(size)} PDF through the direct-upload flow (upload-url, POST, complete), {options.runs} fresh app")
    print("server(s) per flow. Peak RSS (VmHWM) and file I/O (rchar/wchar) of the app server process.")
    print()
    print(f"{'flow':<6}{'peak RSS before':>17}{'after':>11}{'growth':>10}{'read':>12}{'written':>12}{'time':>8}")
    for run in runs:
        print(
            f"{run.flow:<6}{mb(run.peak_before):>17}{mb(run.peak_after):>11}{mb(run.growth):>10}"
            f"{mb(run.read):>12}{mb(run.written):>12}{run.seconds:>7.2f}s"
        )
    disk = [r for r in runs if r.flow == "disk"]
    s3_runs = [r for r in runs if r.flow == "s3"]
    worst_disk = max(r.growth for r in disk)
    disk_ok = worst_disk < BUDGET_MB * 1024 * 1024
    print()
    print(
        f"disk: peak memory grew by at most {mb(worst_disk)} for a {mb(size)} upload "
        f"({worst_disk / size:.3f} of the file; budget {BUDGET_MB} MB): {'OK' if disk_ok else 'OVER BUDGET'}"
    )
    print("      (the body arrives on the socket in 64 KiB chunks; written: the file to MEDIA_ROOT;")
    print("       read: the stored file once, for its MD5, at completion)")
    s3_ok = True
    for run in s3_runs:
        counts = run.s3 or {}
        object_bytes = counts["app_sent"] + counts["app_received"]
        s3_ok = s3_ok and object_bytes <= 16 * 1024 and counts["client_sent"] >= size
        print(
            f"s3:   the client sent {mb(counts['client_sent'])} to S3 directly; the app server sent "
            f"{kb(counts['app_sent'])} to S3 and received {kb(counts['app_received'])} "
            f"({', '.join(run.app_s3_requests or [])}); peak memory grew by {mb(run.growth)}"
        )
    print(
        "      The app's only reads of the object are S3's answer to HEAD (size, ETag) and one ranged GET of its first"
    )
    print("      8 KiB for the magic-byte check: no upload byte passes through the app.")
    return 0 if disk_ok and s3_ok else 1


if __name__ == "__main__":
    sys.exit(main())
