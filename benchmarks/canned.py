"""A canned Docker daemon on a unix socket, replaying the responses capture.py recorded.

    python -m benchmarks.canned --socket /tmp/canned.sock --events 200000 --containers 500 \\
        --logs-mib 256

Serves /_ping, /version, /events, /containers/json, /containers/{id}/json and
/containers/{id}/logs (with or without a /vX.Y prefix) with the daemon's own headers
(Api-Version, Ostype, Server, ...) and its chunking: one HTTP chunk per event and per log
frame, as dockerd flushes them, one chunk for a JSON document. The recorded bodies are
scaled by repetition: events are repeated with their ids and times rewritten so that every
repetition is new and time moves forward; containers are repeated with new ids and names;
log frames are repeated. Every body is encoded once, before the first request, so serving
costs the server little more than a socket write and the client's own cost is what the
benchmarks measure. Prints "ready" on stdout once it listens. With --sockets N it listens on
N sockets (path.0 ... path.N-1), each a daemon of its own to its clients: a fleet.
"""

from __future__ import annotations

import argparse
import asyncio
import email.utils
import json
import re
import signal
import sys
import zlib
from dataclasses import dataclass
from pathlib import Path

import msgspec

from .recorded import PAYLOADS, Recorded, encode_chunks, load

_PREFIX = re.compile(r"^/v\d+\.\d+(?=/)")
_INSPECT = re.compile(r"^/containers/([^/]+)/json$")
_LOGS = re.compile(r"^/containers/([^/]+)/logs$")
_ID = re.compile(rb"[0-9a-f]{64}")
_TIME = re.compile(rb'"time":(\d+)')
_TIME_NANO = re.compile(rb'"timeNano":(\d+)')
_WRITE = 1 << 20


@dataclass
class Response:
    head: bytes  # status line and headers, up to the blank line
    body: bytes  # as sent: chunk-encoded, or plain with Content-Length


def _response(rec: Recorded, body: bytes | list[bytes], *, with_length: bool = False) -> Response:
    """The recorded status and end-to-end headers around a new body (chunks when a list)."""
    lines = [rec.status, *(f"{k}: {v}" for k, v in rec.end_to_end_headers())]
    if isinstance(body, list):
        lines.append("Transfer-Encoding: chunked")
        data = encode_chunks(body)
    else:
        lines.append(f"Content-Length: {len(body)}")
        data = body
    return Response("\r\n".join(lines).encode("latin-1"), data)


def _as_recorded(rec: Recorded, body: bytes) -> Response:
    """A whole document sent the way the daemon sent it: one chunk, or with a length."""
    return _response(rec, [body] if rec.chunks is not None else body)


def _new_id(old: bytes, k: int) -> bytes:
    return old[:56] + b"%08x" % ((int(old[56:], 16) + k * 0x9E3779B1) & 0xFFFFFFFF)


class _Repetition:
    """Rewrites one repetition k of recorded bodies: new ids, times shifted by k spans."""

    def __init__(self, k: int, span: int = 0) -> None:
        self.k = k
        self.shift = span * k

    def id(self, m: re.Match[bytes]) -> bytes:
        return _new_id(m.group(0), self.k)

    def time(self, m: re.Match[bytes]) -> bytes:
        return b'"time":%d' % (int(m.group(1)) + self.shift)

    def time_nano(self, m: re.Match[bytes]) -> bytes:
        return b'"timeNano":%d' % (int(m.group(1)) + self.shift * 1_000_000_000)


def scale_events(rec: Recorded, count: int) -> list[bytes]:
    """`count` event lines: the recorded ones, then repetitions with new ids and later times."""
    assert rec.chunks is not None
    lines = [c for c in rec.chunks if c.strip()]
    times = [int(m.group(1)) for c in lines for m in _TIME.finditer(c)]
    span = max(times) - min(times) + 1
    out: list[bytes] = []
    k = 0
    while len(out) < count:
        rep = _Repetition(k, span)
        for line in lines[: count - len(out)]:
            if k:
                line = _ID.sub(rep.id, line)
                line = _TIME.sub(rep.time, line)
                line = _TIME_NANO.sub(rep.time_nano, line)
            out.append(line)
        k += 1
    return out


def scale_containers(rec: Recorded, count: int) -> bytes:
    """A /containers/json array of `count` containers, repeating the recorded ones."""
    items = msgspec.json.decode(rec.body, type=list[msgspec.Raw])
    out: list[bytes] = []
    k = 0
    while len(out) < count:
        rep = _Repetition(k)
        for item in items[: count - len(out)]:
            raw = bytes(item)
            if k:
                raw = _ID.sub(rep.id, raw, count=1)
                raw = raw.replace(b'"Names":["/', b'"Names":["/r%d-' % k, 1)
            out.append(raw)
        k += 1
    return b"[" + b",".join(out) + b"]\n"


def scale_frames(rec: Recorded, size: int) -> list[bytes]:
    """Whole recorded log frames (one per chunk), repeated up to `size` bytes."""
    assert rec.chunks is not None
    frames = [c for c in rec.chunks if c]
    out: list[bytes] = []
    total = 0
    while total < size:
        for frame in frames:
            out.append(frame)
            total += len(frame)
            if total >= size:
                break
    return out


class Canned:
    """The routes and their prepared responses."""

    def __init__(self, directory: Path, *, events: int, containers: int, logs_bytes: int) -> None:
        manifest = json.loads((directory / "manifest.json").read_text())
        self.logs_container: str = manifest["logs_container"]
        self.ping = load("ping.http", directory)
        self.version = load("version.http", directory)
        ev = load("events.http", directory)
        self.events = _response(ev, scale_events(ev, events))
        listing = load("containers-json.http", directory)
        self.containers = _as_recorded(listing, scale_containers(listing, containers))
        self.inspects = [
            _as_recorded(r, r.body)
            for r in (
                load(f"inspect/{p.name}", directory)
                for p in sorted(directory.glob("inspect/*.http"))
            )
        ]
        li = load("logs-inspect.http", directory)
        self.logs_inspect = _as_recorded(li, li.body)
        logs = load("logs.http", directory)
        frames = scale_frames(logs, logs_bytes)
        self.logs = _response(logs, frames)
        self.logs_body = sum(map(len, frames))
        self.logs_payload = self.logs_body - 8 * len(frames)
        self.ping_response = _response(self.ping, self.ping.body)
        self.version_response = _as_recorded(self.version, self.version.body)
        missing = b'{"message":"page not found"}\n'
        self.not_found = Response(
            b"HTTP/1.1 404 Not Found\r\nApi-Version: %s\r\nContent-Type: application/json"
            b"\r\nContent-Length: %d"
            % ((self.version.header("Api-Version") or "1.41").encode(), len(missing)),
            missing,
        )

    def route(self, method: str, target: str) -> Response:
        path = _PREFIX.sub("", target.split("?", 1)[0])
        if path == "/_ping":
            return self.ping_response
        if method != "GET":
            return self.not_found
        if path == "/version":
            return self.version_response
        if path == "/events":
            return self.events
        if path == "/containers/json":
            return self.containers
        m = _INSPECT.match(path)
        if m:
            cid = m.group(1)
            if cid == self.logs_container:
                return self.logs_inspect
            return self.inspects[zlib.crc32(cid.encode()) % len(self.inspects)]
        if _LOGS.match(path):
            return self.logs
        return self.not_found

    async def serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                try:
                    head = await reader.readuntil(b"\r\n\r\n")
                except (asyncio.IncompleteReadError, ConnectionError):
                    return
                request, *lines = head.decode("latin-1").split("\r\n")
                method, target, _ = request.split(" ", 2)
                close = False
                for line in lines:
                    name, _, value = line.partition(":")
                    name = name.strip().lower()
                    if name == "content-length" and int(value):
                        await reader.readexactly(int(value))
                    elif name == "transfer-encoding":
                        close = True  # no chunked request bodies here
                    elif name == "connection" and value.strip().lower() == "close":
                        close = True
                resp = self.route(method, target)
                date = email.utils.formatdate(usegmt=True).encode()
                writer.write(resp.head + b"\r\nDate: " + date + b"\r\n\r\n")
                if method != "HEAD":
                    body = memoryview(resp.body)
                    for start in range(0, len(body), _WRITE):
                        writer.write(body[start : start + _WRITE])
                        await writer.drain()
                await writer.drain()
                if close:
                    return
        except ConnectionError:
            return
        finally:
            writer.close()


async def main_async(args: argparse.Namespace) -> None:
    canned = Canned(
        args.payloads,
        events=args.events,
        containers=args.containers,
        logs_bytes=int(args.logs_mib * (1 << 20)),
    )
    servers = [
        await asyncio.start_unix_server(canned.serve, path=path, limit=1 << 16)
        for path in socket_paths(args.socket, args.sockets)
    ]
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    print(
        f"ready logs_body={canned.logs_body} logs_payload={canned.logs_payload} "
        f"sockets={len(servers)}",
        flush=True,
    )
    try:
        await stop.wait()
    finally:
        for server in servers:
            server.close()


def socket_paths(path: str, count: int = 1) -> list[str]:
    """Where the server listens: `path` itself for one socket; `path.0` ... for several
    (daemons of a fleet, all served by this one process from the same prepared bodies)."""
    return [path] if count == 1 else [f"{path}.{i}" for i in range(count)]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.canned", description=__doc__)
    parser.add_argument("--socket", required=True)
    parser.add_argument("--sockets", type=int, default=1, help="serve this many sockets")
    parser.add_argument("--payloads", type=Path, default=PAYLOADS)
    parser.add_argument("--events", type=int, default=200_000)
    parser.add_argument("--containers", type=int, default=500)
    parser.add_argument("--logs-mib", type=float, default=256)
    asyncio.run(main_async(parser.parse_args(argv)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
