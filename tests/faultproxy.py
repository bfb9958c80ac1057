"""A fault-injecting proxy between the client and a real dockerd, for tests/test_faults.py.

It listens on a unix socket and on loopback TCP and forwards every connection to the
daemon's unix socket. Requests pass untouched; responses are cut into their HTTP framing
(head, chunk size lines, chunks, the last chunk, a length-framed or raw body), so that a
`Rule` can break one at a precise point: reset or close after so many body bytes, close in
the middle of a chunk or between two, send a garbage status line, stall, drip slowly, add
latency, or close the connection once it is idle. Rules are taken in order by the requests
whose target they match, one request each.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import struct
import tempfile
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["FaultProxy", "Rule"]


@dataclass
class Rule:
    """What the proxy does to the response of one request whose target contains `match`.

    Body bytes are counted after the response head, framing included.
    """

    match: str = ""
    reset_after: int | None = None  # forward this many body bytes, then reset (RST on TCP)
    fin_after: int | None = None  # forward this many body bytes, then close (FIN)
    cut_in_chunk: int | None = None  # close halfway through the data of the Nth chunk (1-based)
    fin_after_chunks: int | None = None  # close right after the Nth whole chunk
    garbage_status: bool = False  # answer a status line that is not HTTP's, then close
    reset_at_head: bool = False  # reset (RST on TCP) instead of sending the response's head
    stall: bool = False  # never answer (the request still reaches the daemon)
    drip: float | None = None  # forward the response a few bytes at a time, this far apart
    latency: float = 0.0  # wait this long before forwarding the response's head
    close_idle: float | None = None  # close the connection this long after the response ends
    hits: int = 0  # how many responses it was applied to
    applied: asyncio.Event = field(default_factory=asyncio.Event)  # set on the first


class _Framing:
    """Cuts one direction of an HTTP/1.1 connection into its framing pieces:
    ("head", b), ("size", b), ("chunk", data + CRLF), ("last", b) for the last chunk and
    trailers, ("body", b) for a length-framed body, ("raw", b) after an upgrade or for a body
    that runs until the connection closes."""

    def __init__(self, responses: bool) -> None:
        self.responses = responses
        self.buf = bytearray()
        self.state = "head"
        self.left = 0
        self.upgrade = False  # (requests) the one just read asks for an upgrade

    def feed(self, data: bytes) -> list[tuple[str, bytes]]:
        self.buf += data
        out: list[tuple[str, bytes]] = []
        buf = self.buf
        while buf:
            if self.state == "head":
                end = buf.find(b"\r\n\r\n")
                if end < 0:
                    break
                head = bytes(buf[: end + 4])
                del buf[: end + 4]
                out.append(("head", head))
                self._after_head(head)
            elif self.state in ("size", "trailer"):
                end = buf.find(b"\r\n")
                if end < 0:
                    break
                line = bytes(buf[: end + 2])
                del buf[: end + 2]
                if self.state == "trailer":
                    out.append(("last", line))
                    if line == b"\r\n":
                        self._after_body()
                    continue
                size = int(line.split(b";")[0].strip(), 16)
                if size:
                    self.state, self.left = "data", size
                    out.append(("size", line))
                else:
                    self.state = "trailer"
                    out.append(("last", line))
            elif self.state == "data":
                if len(buf) < self.left + 2:
                    break
                out.append(("chunk", bytes(buf[: self.left + 2])))
                del buf[: self.left + 2]
                self.state = "size"
            elif self.state == "length":
                take = min(self.left, len(buf))
                out.append(("body", bytes(buf[:take])))
                del buf[:take]
                self.left -= take
                if not self.left:
                    self._after_body()
            else:  # raw
                out.append(("raw", bytes(buf)))
                buf.clear()
        return out

    def _after_head(self, head: bytes) -> None:
        lines = head.decode("latin-1").split("\r\n")
        fields = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            fields[name.strip().lower()] = value.strip().lower()
        if self.responses:
            parts = lines[0].split(" ")
            status = int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else 200
            if status == 101:
                self.state = "raw"
                return
            if status < 200 or status in (204, 304):
                self.state = "head"
                return
        else:
            self.upgrade = "upgrade" in fields.get("connection", "")
        if "chunked" in fields.get("transfer-encoding", ""):
            self.state = "size"
        elif "content-length" in fields:
            self.left = int(fields["content-length"])
            self.state = "length" if self.left else "head"
            if not self.left:
                self._after_body()
        elif self.responses:
            self.state = "raw"  # until the connection closes
        else:
            self._after_body()

    def _after_body(self) -> None:
        self.state = "raw" if self.upgrade else "head"


class _Connection:
    """One client connection and its daemon connection."""

    def __init__(
        self,
        proxy: FaultProxy,
        client: tuple[asyncio.StreamReader, asyncio.StreamWriter],
        daemon: tuple[asyncio.StreamReader, asyncio.StreamWriter],
    ) -> None:
        self.proxy = proxy
        self.creader, self.cwriter = client
        self.ureader, self.uwriter = daemon
        self.targets: deque[str] = deque()
        self.new_request = asyncio.Event()
        self.client_gone = asyncio.Event()

    async def requests(self) -> None:
        """Client to daemon, untouched; the target of each request is noted. The client's
        EOF ends the connection (a half-close is not carried over)."""
        framing = _Framing(responses=False)
        try:
            while data := await self.creader.read(65536):
                for kind, piece in framing.feed(data):
                    if kind == "head":
                        self.targets.append(piece.split(b" ", 2)[1].decode("latin-1"))
                        self.new_request.set()
                self.uwriter.write(data)
                await self.uwriter.drain()
        except (OSError, RuntimeError):
            pass
        finally:
            self.client_gone.set()

    async def responses(self) -> None:
        """Daemon to client, with the rule of each response applied."""
        framing = _Framing(responses=True)
        rule = Rule()
        body = chunks = 0
        writer = self.cwriter
        while data := await self.ureader.read(65536):
            for kind, piece in framing.feed(data):
                if kind == "head" and not piece.startswith(b"HTTP/1.1 100"):
                    rule = self.proxy.rule_for(self.targets.popleft() if self.targets else "")
                    body = chunks = 0
                    if rule.latency:
                        await asyncio.sleep(rule.latency)
                    if rule.stall:
                        await self.client_gone.wait()
                        return
                    if rule.reset_at_head:
                        self._end(True)
                        return
                    if rule.garbage_status:
                        writer.write(b"HTTX/9.9 what?\r\n\r\n")
                        return
                elif kind != "head":
                    chunks += kind == "chunk"
                    for limit, reset in ((rule.reset_after, True), (rule.fin_after, False)):
                        if limit is not None and body + len(piece) >= limit:
                            writer.write(piece[: limit - body])
                            self._end(reset)
                            return
                    if kind == "chunk" and chunks == rule.cut_in_chunk:
                        writer.write(piece[: max(1, (len(piece) - 2) // 2)])
                        self._end(False)
                        return
                    body += len(piece)
                await self._send(piece, rule)
                if kind == "chunk" and chunks == rule.fin_after_chunks:
                    self._end(False)
                    return
                if rule.close_idle is not None and framing.state == "head" and kind != "head":
                    self.new_request.clear()
                    with contextlib.suppress(TimeoutError):
                        async with asyncio.timeout(rule.close_idle):
                            await self.new_request.wait()
                        continue
                    self._end(False)
                    return

    async def _send(self, piece: bytes, rule: Rule) -> None:
        if self.client_gone.is_set():
            raise ConnectionResetError("the client is gone")
        if rule.drip is None:
            self.cwriter.write(piece)
            await self.cwriter.drain()
            return
        for start in range(0, len(piece), 4):
            if self.client_gone.is_set():
                raise ConnectionResetError("the client is gone")
            self.cwriter.write(piece[start : start + 4])
            await self.cwriter.drain()
            await asyncio.sleep(rule.drip)

    def _end(self, reset: bool) -> None:
        if reset:
            sock = self.cwriter.get_extra_info("socket")
            if sock is not None and sock.family != socket.AF_UNIX:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.cwriter.transport.abort()
        else:
            self.cwriter.close()

    async def run(self) -> None:
        """Relay both ways until either side ends the connection."""
        up = asyncio.create_task(self.requests())
        down = asyncio.create_task(self.responses())
        try:
            await asyncio.wait((up, down), return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in (up, down):
                task.cancel()
            await asyncio.gather(up, down, return_exceptions=True)
            self.uwriter.close()
            self.cwriter.close()


class FaultProxy:
    """`async with FaultProxy(daemon_socket) as proxy`: `proxy.unix_url` and `proxy.tcp_url`
    reach the daemon through it; `proxy.add(Rule(...))` breaks a response to come."""

    def __init__(self, upstream: str | Path) -> None:
        self.upstream = str(upstream)
        self.rules: list[Rule] = []
        self.connections = 0  # accepted so far
        self._dir = Path(tempfile.mkdtemp(prefix="adk-proxy-", dir="/tmp"))
        self.unix_path = self._dir / "proxy.sock"
        self.tcp_port = 0
        self._servers: list[asyncio.Server] = []
        self._tasks: set[asyncio.Task[None]] = set()

    @property
    def unix_url(self) -> str:
        return f"unix://{self.unix_path}"

    @property
    def tcp_url(self) -> str:
        return f"tcp://127.0.0.1:{self.tcp_port}"

    @property
    def open_connections(self) -> int:
        """Client connections the proxy is still relaying."""
        return sum(not task.done() for task in self._tasks)

    def add(self, rule: Rule) -> Rule:
        self.rules.append(rule)
        return rule

    def rule_for(self, target: str) -> Rule:
        """The first waiting rule that matches `target`, taken; else one that changes nothing."""
        for i, rule in enumerate(self.rules):
            if rule.match in target:
                del self.rules[i]
                rule.hits += 1
                rule.applied.set()
                return rule
        return Rule()

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        try:
            daemon = await asyncio.open_unix_connection(self.upstream)
        except OSError:
            writer.close()
            return
        # Cancelled at the proxy's end: the task ends here rather than report it.
        with contextlib.suppress(asyncio.CancelledError):
            await _Connection(self, (reader, writer), daemon).run()

    async def __aenter__(self) -> FaultProxy:
        unix = await asyncio.start_unix_server(self._accept, path=str(self.unix_path))
        tcp = await asyncio.start_server(self._accept, "127.0.0.1", 0)
        self.tcp_port = tcp.sockets[0].getsockname()[1]
        self._servers = [unix, tcp]
        return self

    async def __aexit__(self, *exc: object) -> None:
        for server in self._servers:
            server.close()
        if self._tasks:  # connections the client closed last are still being wound up
            await asyncio.wait(set(self._tasks), timeout=5)
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        for server in self._servers:
            await server.wait_closed()
        with contextlib.suppress(OSError):
            self.unix_path.unlink()
        with contextlib.suppress(OSError):
            self._dir.rmdir()

    async def wait_idle(self) -> None:
        """Until no client connection is being relayed."""
        if self._tasks:
            await asyncio.wait(set(self._tasks))
