"""Requests that take their connection over: attach and exec start upgrade it to a raw
duplex stream (HTTP 101, or 200 from older daemons) that an AttachedStream then drives;
attach's websocket upgrades it to a websocket."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any, Protocol

from .bodies import demux
from .bodies.codec import encode
from .bodies.streams import AttachedStream
from .errors import BadRequest, DockerError
from .http.base import DEFAULT_TIMEOUT, HTTPRequest, Upgraded, WebSocket
from .http.errors import STREAM, failure, status_error
from .operation import Request

if TYPE_CHECKING:
    from .bodies.streams import Resize
    from .http.base import HTTPTransport
    from .live import LiveStreams
    from .versions import Versions


class RequestLayer(Protocol):
    """What an upgrade needs of the request layer's Transport (which hands itself in)."""

    @property
    def host(self) -> str: ...

    versions: Versions
    http: HTTPTransport
    timeout: float | None
    live: LiveStreams


__all__ = ["attached", "websocket"]

_UPGRADE = {"Connection": "Upgrade", "Upgrade": "tcp", "Content-Type": "application/json"}


async def attached(
    t: RequestLayer, req: Request, body: Any, tty: bool | None, resize: Resize | None
) -> AttachedStream:
    """Send the upgrade and hand its reader (with whatever the daemon sent right after the
    101) and writer to an AttachedStream. A request refused for its API version is sent
    once more after negotiating again."""
    versions = t.versions
    request = HTTPRequest(
        req.method,
        await versions.versioned(req),
        headers=_UPGRADE,
        data=encode(body) if body is not None else b"",
        timeout=t.timeout or DEFAULT_TIMEOUT,
    )
    spoken = versions.spoken
    try:
        up = await _upgrade(t, request)
    except BadRequest as exc:
        if not await versions.renegotiated(exc, spoken, True):
            raise
        request.target = versions.target(req)
        up = await _upgrade(t, request)
    if up.status not in (101, 200):
        up.writer.close()
        raise DockerError(
            up.status,
            f"{req.method} {req.path} on {t.host}: unexpected status {up.status} for an upgrade",
        )
    content_type = demux.stream_type(up.headers, versions.spoken)
    if tty is not None:
        content_type = demux.RAW if tty else demux.MULTIPLEXED

    def cut(exc: BaseException) -> BaseException:
        return failure(
            exc,
            host=t.host,
            tls=False,  # only a failure before the response says whether TLS was in the way
            method=request.method,
            target=request.target,
            phase=STREAM,
            timeout=None,
        )

    stream = AttachedStream(up.reader, up.writer, content_type, resize, cut=cut)

    async def end() -> None:
        stream.end(live.error())

    try:
        live = t.live.add(end, f"{req.method} {req.path} on {t.host}")
    except BaseException:
        up.writer.close()
        raise
    stream.on_close = lambda: t.live.discard(live)
    return stream


async def _upgrade(t: RequestLayer, request: HTTPRequest) -> Upgraded:
    up = await t.http.upgrade(request)
    if up.status >= 400:
        raise status_error(up.status, await up.read(), "", t.host)
    return up


@asynccontextmanager
async def websocket(t: RequestLayer, req: Request) -> AsyncIterator[WebSocket]:
    """A websocket to the daemon (attach/ws), closed on exit. Closing the client closes its
    connection too (with every other: not the websocket's closing handshake, which the
    daemon may never answer), and the block then raises ClientClosed."""
    ws = await t.http.websocket(await t.versions.versioned(req))
    try:
        async with t.live.watching(_nothing, f"{req.method} {req.path} on {t.host}"):
            yield ws
    finally:
        await ws.close()


async def _nothing() -> None:
    pass
