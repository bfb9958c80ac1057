"""Record real daemon responses into benchmarks/payloads/ for the canned server to replay.

    python -m benchmarks.capture                  # starts a private sandbox dockerd
    python -m benchmarks.capture --host unix:///path/to/docker.sock

Generates real activity on the daemon (hundreds of labelled containers, some run to
completion, some left running, one writing a long log to stdout and stderr), then records
the raw HTTP responses, byte for byte, including the daemon's headers and its chunk
boundaries: /_ping, /version, /containers/json, /containers/{id}/json of a few containers,
the multiplexed log body of the talkative one, and /events over the whole session
(creates, starts, dies, destroys, volume and network events). Everything it created is
removed afterwards. Nothing here is hand-written: the canned server only repeats these
bodies, rewriting ids and times where it needs more.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import shutil
import socket
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from aiodockerapi import Docker  # noqa: E402
from benchmarks.recorded import PAYLOADS, split_chunks  # noqa: E402

IMAGE = "aiodockerapi-bench/busybox:latest"
LABEL = "aiodockerapi.bench"
DOCKERFILE = """\
FROM scratch
COPY busybox /bin/busybox
RUN ["/bin/busybox", "--install", "-s", "/bin"]
"""

# The talkative container: access-log-like lines on stdout, warnings and a stack trace now
# and then on stderr, lines of different lengths.
LOG_SCRIPT = r"""
i=0
while [ $i -lt $N ]; do
  echo "2024-05-0$((i % 9 + 1))T12:$((i % 60)):$((i * 7 % 60)).$((i * 13 % 1000))Z INFO \
http method=GET path=/api/v1/items/$i?page=$((i % 17)) status=200 bytes=$((i * 37 % 9000)) \
duration_ms=$((i * 11 % 300)) request_id=req-$((i * 7919 % 100000))"
  if [ $((i % 7)) -eq 0 ]; then
    echo "WARN slow query on shard $((i % 12)): $((i % 500)) ms (threshold 250 ms)" >&2
  fi
  if [ $((i % 97)) -eq 0 ]; then
    echo "ERROR unhandled exception in worker $((i % 8))
Traceback (most recent call last):
  File \"/app/server.py\", line $((i % 400)), in handle
    result = await self.dispatch(request)
  File \"/app/router.py\", line 88, in dispatch
    return await handler(request)
ValueError: item $i is not available" >&2
  fi
  i=$((i + 1))
done
"""


def raw_request(socket_path: str, path: str, method: str = "GET", timeout: float = 60) -> bytes:
    """One request over a fresh unix socket; the whole raw response, as the daemon wrote it."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.settimeout(timeout)
        sock.connect(socket_path)
        sock.sendall(
            f"{method} {path} HTTP/1.1\r\nHost: docker\r\nUser-Agent: aiodockerapi-capture\r\n"
            "Connection: close\r\n\r\n".encode()
        )
        parts = []
        while data := sock.recv(1 << 20):
            parts.append(data)
    raw = b"".join(parts)
    status = raw.split(b"\r\n", 1)[0]
    if b" 200 " not in status + b" ":
        raise RuntimeError(f"{method} {path}: {status!r}")
    return raw


def container_body(i: int, run_id: str, cmd: list[str]) -> dict[str, Any]:
    """A varied create body: labels, env, sometimes an anonymous volume or a working dir."""
    labels = {
        LABEL: run_id,
        "com.example.app": ["web", "worker", "cron", "db-proxy"][i % 4],
        "com.example.tier": ["frontend", "backend"][i % 2],
        "com.example.index": str(i),
    }
    for extra in range(i % 5):
        labels[f"com.example.extra.{extra}"] = f"value-{i}-{extra}"
    body: dict[str, Any] = {
        "Image": IMAGE,
        "Cmd": cmd,
        "Labels": labels,
        "Env": [f"APP_INDEX={i}", "APP_MODE=production", f"SHARD={i % 12}"],
        "HostConfig": {"NetworkMode": "none"},
    }
    if i % 3 == 0:
        body["Volumes"] = {"/data": {}}
    if i % 4 == 1:
        body["WorkingDir"] = "/tmp"
    return body


async def generate(
    docker: Docker, run_id: str, *, created: int, exited: int, running: int
) -> list[str]:
    """Create the containers; return their ids in index order (exited, running, created)."""
    made: dict[int, str] = {}
    gate = asyncio.Semaphore(8)

    async def one(i: int) -> None:
        if i < exited:
            cmd = ["sh", "-c", f"echo container {i} starting; echo done {i} >&2; exit {i % 3}"]
        elif i < exited + running:
            cmd = ["sleep", "3600"]
        else:
            cmd = ["true"]
        async with gate:
            c = await docker.containers.create(
                container_body(i, run_id, cmd), name=f"bench-{run_id}-{i:03d}"
            )
            assert c.id is not None
            made[i] = c.id
            if i < exited + running:
                await docker.containers.start(c.id)
            if i < exited:
                await docker.containers.wait(c.id)

    await asyncio.gather(*(one(i) for i in range(created)))
    return [made[i] for i in range(created)]


async def talkative(docker: Docker, run_id: str, index: int, log_lines: int) -> str:
    """Run the container whose long log is recorded; return its id."""
    body = container_body(index, run_id, ["sh", "-c", LOG_SCRIPT])
    body["Env"] = [f"N={log_lines}"]
    c = await docker.containers.create(body, name=f"bench-{run_id}-logs")
    assert c.id is not None
    await docker.containers.start(c.id)
    await docker.containers.wait(c.id)
    return c.id


class EventRecorder(threading.Thread):
    """Follows /events from before the activity starts (the daemon keeps only its last 256
    events for `since`), keeping every byte until stopped."""

    def __init__(self, socket_path: str, path: str) -> None:
        super().__init__(daemon=True)
        self._sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self._sock.connect(socket_path)
        self._sock.sendall(
            f"GET {path} HTTP/1.1\r\nHost: docker\r\nUser-Agent: aiodockerapi-capture\r\n"
            "Connection: close\r\n\r\n".encode()
        )
        self._sock.settimeout(0.2)
        self._done = threading.Event()
        self.data = bytearray()

    def run(self) -> None:
        while not self._done.is_set():
            try:
                data = self._sock.recv(1 << 20)
            except TimeoutError:
                continue
            if not data:
                break
            self.data += data

    def finish(self) -> bytes:
        """Stop, and return the response up to its last complete chunk, properly ended."""
        self._done.set()
        self.join()
        self._sock.close()
        head, _, body = bytes(self.data).partition(b"\r\n\r\n")
        _, end = split_chunks(body, partial=True)
        return head + b"\r\n\r\n" + body[:end] + b"0\r\n\r\n"


async def build_image(docker: Docker) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        shutil.copy("/bin/busybox", Path(tmp) / "busybox")
        (Path(tmp) / "Dockerfile").write_text(DOCKERFILE)
        async for _ in docker.images.build(tmp, t=IMAGE, pull=False):
            pass


async def capture(host: str, args: argparse.Namespace) -> dict[str, bytes]:
    """Generate the activity and record the responses: file name to raw response."""
    socket_path = host.removeprefix("unix://")
    run_id = f"{int(time.time()):x}"
    rec: dict[str, bytes] = {}
    async with Docker(host) as docker:
        v = f"/v{await docker.transport.negotiated_version()}"
        events = EventRecorder(socket_path, f"{v}/events")
        events.start()
        await build_image(docker)
        ids = await generate(
            docker, run_id, created=args.containers, exited=args.exited, running=args.running
        )
        rec["ping.http"] = raw_request(socket_path, "/_ping")
        rec["version.http"] = raw_request(socket_path, f"{v}/version")
        rec["containers-json.http"] = raw_request(socket_path, f"{v}/containers/json?all=1")
        # A spread of states: exited, running and never started.
        each = max(1, args.inspects // 3)
        ran = args.exited + args.running
        groups = [ids[: args.exited], ids[args.exited : ran], ids[ran:]]
        picks = [cid for group in groups for cid in group[:each]]
        for n, cid in enumerate(picks):
            rec[f"inspect/{n:02d}.http"] = raw_request(socket_path, f"{v}/containers/{cid}/json")
        talk = await talkative(docker, run_id, args.containers, args.log_lines)
        ids.append(talk)
        rec["logs-inspect.http"] = raw_request(socket_path, f"{v}/containers/{talk}/json")
        rec["logs.http"] = raw_request(socket_path, f"{v}/containers/{talk}/logs?stdout=1&stderr=1")
        for cid in ids:
            await docker.containers.delete(cid, force=True, v=True)
        await docker.images.delete(IMAGE)
        version = await docker.system.version()
        await asyncio.sleep(0.5)  # let the last events arrive
        rec["events.http"] = events.finish()
    manifest = {
        "daemon": version.version,
        "api_version": version.api_version,
        "captured": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "containers": args.containers,
        "logs_container": talk,
        "inspect_ids": picks,
    }
    rec["manifest.json"] = (json.dumps(manifest, indent=2) + "\n").encode()
    return rec


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.capture", description=__doc__)
    parser.add_argument("--host", help="unix:// socket of a daemon to use (default: a sandbox)")
    parser.add_argument("--out", type=Path, default=PAYLOADS)
    parser.add_argument("--containers", type=int, default=500)
    parser.add_argument("--exited", type=int, default=60)
    parser.add_argument("--running", type=int, default=20)
    parser.add_argument("--inspects", type=int, default=12)
    parser.add_argument("--log-lines", type=int, default=6000)
    args = parser.parse_args(argv)
    if args.host is not None:
        if not args.host.startswith("unix://"):
            parser.error("--host must be a unix:// socket")
        rec = asyncio.run(capture(args.host, args))
    else:
        from tests.sandbox import Sandbox

        with Sandbox(tls=False) as box:
            rec = asyncio.run(capture(box.unix_url, args))
    shutil.rmtree(args.out / "inspect", ignore_errors=True)
    for name, data in rec.items():
        (args.out / name).parent.mkdir(parents=True, exist_ok=True)
        (args.out / name).write_bytes(data)
    print(f"recorded {len(rec) - 1} responses, {sum(map(len, rec.values())) / 1e6:.2f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
