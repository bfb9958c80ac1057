"""The client's request layer: a resource's Request in, typed results and streams out.

`Transport` composes the rest: the host (hosts.py), the API version (versions.py) and an
HTTP transport (http/: the pool and own sockets by default, any HTTPTransport if given).
It versions each request, encodes its body, reads an error status as the DockerError it
is, and decodes what comes back.
"""

from __future__ import annotations

import logging
import os
from collections.abc import AsyncGenerator, AsyncIterator, Callable, Mapping, Sequence
from contextlib import AbstractAsyncContextManager, aclosing, asynccontextmanager
from typing import TYPE_CHECKING, Any, Final, NoReturn, TypeVar, overload

import msgspec

from . import docker_contexts
from ._log import shown_url
from .bodies.codec import decoder, json_body
from .errors import BadRequest, DockerError
from .hosts import DEFAULT_HOST, TLSConfig, parse_host, tls_config
from .http.base import DEFAULT_TIMEOUT, Body, HTTPRequest, HTTPTransport, Response
from .http.default import DefaultTransport
from .http.errors import status_error
from .live import LiveStreams
from .operation import Request, Version
from .params import with_query
from .versions import MAX_API_VERSION, MIN_API_VERSION, Versions

if TYPE_CHECKING:
    from .bodies.streams import Attach, Resize
    from .models import Frame

__all__ = [
    "DEFAULT_HOST",
    "DEFAULT_TIMEOUT",
    "MAX_API_VERSION",
    "MIN_API_VERSION",
    "TLSConfig",
    "Transport",
]

T = TypeVar("T")

logger = logging.getLogger("aiodockerapi.versions")


class _Default:
    def __repr__(self) -> str:
        return "DEFAULT"


DEFAULT: Final = _Default()
Timeout = float | None | _Default


class Transport:
    """One daemon: the API version and the HTTP transport requests go through.

    Resources call `call` for plain requests and `stream_json`, `stream_frames` or
    `stream_bytes` for streamed bodies.
    """

    def __init__(
        self,
        host: str | None = None,
        *,
        context: str | None = None,
        tls: TLSConfig | bool | None = None,
        api_version: str | None = None,
        timeout: float | None = DEFAULT_TIMEOUT,
        pool_size: int = 100,
        ssh_options: Sequence[str] = (),
        http: HTTPTransport | None = None,
    ) -> None:
        env = os.environ
        endpoint = docker_contexts.resolve(host, context)
        self._host = parse_host(endpoint.host, tls_config(tls, endpoint.tls, env))
        self.context = endpoint.context
        pinned = api_version or env.get("DOCKER_API_VERSION") or None
        self.versions = Versions(self._host.url, self._ask, pinned)
        if pool_size < 1:
            raise ValueError(f"pool_size must be at least 1, not {pool_size}")
        if http is None:
            http = DefaultTransport(self._host, pool_size=pool_size, ssh_options=ssh_options)
        self.http = http
        # A plain call's exchange: the default transport's pool directly (a frame less).
        self._fetch = http.pool.fetch if type(http) is DefaultTransport else http.fetch
        self.timeout = timeout
        self.live = LiveStreams()

    @property
    def host(self) -> str:
        """The daemon's address, as given or resolved."""
        return self._host.url

    @property
    def api_version(self) -> str | None:
        """The API version in use: pinned, negotiated, or None before the first request."""
        return self.versions.text

    async def negotiated_version(self) -> str:
        """The API version, asking the daemon once (single-flight) if it was not pinned."""
        return await self.versions.negotiated()

    async def close(self) -> None:
        """Close every connection and any ssh tunnel; idempotent. Streams still running
        raise ClientClosed."""
        await self.live.close()
        await self.http.aclose()

    # -- requests ------------------------------------------------------------------------

    async def _ask(self, method: str, path: str) -> tuple[Mapping[str, str], bytes]:
        """An unversioned request's headers and body (for negotiation)."""
        request = HTTPRequest(method, path, timeout=self.timeout)
        async with await self._open(request) as resp:
            return resp.headers, await resp.read()

    async def _open(self, request: HTTPRequest) -> Response:
        """The entered response of `request`, once its status says success."""
        resp = self.http.send(request)
        await resp.__aenter__()
        if resp.status >= 400:
            await self._refuse(resp)
        return resp

    async def _refuse(self, resp: Response) -> NoReturn:
        """Read an error response's body, end it, and raise what its status says."""
        try:
            raw = await resp.read()
        except BaseException as exc:
            await resp.__aexit__(type(exc), exc, exc.__traceback__)
            raise
        await resp.__aexit__(None, None, None)
        raise status_error(resp.status, raw, resp.reason, self.host)

    async def _enter(
        self,
        req: Request,
        data: Body,
        headers: Mapping[str, str] | None,
        timeout: Timeout,
        *,
        stream: bool = False,
        versioned: bool = True,
        long_stream: bool = False,
    ) -> Response:
        """The entered response of `req`; a request refused for its API version is sent once
        more after negotiating again (see Versions.renegotiated). Streams have no timeout
        unless one is given."""
        versions = self.versions
        if not versioned:
            target = with_query(req.path, req.params)
        elif versions.text is not None:
            target = versions.target(req)
        else:
            target = await versions.versioned(req)
        spoken = versions.spoken
        if timeout is DEFAULT:
            timeout = None if stream else self.timeout
        assert not isinstance(timeout, _Default)
        request = HTTPRequest(
            req.method, target, headers=headers, data=data, timeout=timeout, stream=long_stream
        )
        resp = self.http.send(request)
        await resp.__aenter__()
        if resp.status >= 400:
            if not versioned:
                await self._refuse(resp)
            resp = await self._sent_again(req, request, spoken, resp)
        return resp

    async def _sent_again(
        self, req: Request, request: HTTPRequest, spoken: Version, resp: Response
    ) -> Response:
        """`resp` refused `request`: raise its error, unless the daemon refused the API
        version and negotiating again found another; then the answer to the request sent
        once more (see Versions.renegotiated)."""
        try:
            await self._refuse(resp)
        except BadRequest as exc:
            resendable = request.data is None or isinstance(request.data, bytes)
            if not await self.versions.renegotiated(exc, spoken, resendable):
                raise
        self._log_again(req)
        request.target = self.versions.target(req)
        return await self._open(request)

    def _log_again(self, req: Request) -> None:
        logger.debug(
            "%s %s to %s sent again with API %s",
            req.method,
            req.path,
            shown_url(self.host),
            self.versions.text,
        )

    @overload
    async def call(
        self,
        req: Request,
        result: type[T],
        *,
        body: Any = ...,
        data: Body = ...,
        headers: Mapping[str, str] | None = ...,
        timeout: Timeout = ...,
    ) -> T: ...

    @overload
    async def call(
        self,
        req: Request,
        result: None = ...,
        *,
        body: Any = ...,
        data: Body = ...,
        headers: Mapping[str, str] | None = ...,
        timeout: Timeout = ...,
    ) -> None: ...

    async def call(
        self,
        req: Request,
        result: Any = None,
        *,
        body: Any = None,
        data: Body = None,
        headers: Mapping[str, str] | None = None,
        timeout: Timeout = DEFAULT,
    ) -> Any:
        """One request whose JSON response body (if `result` is given) is decoded into `result`.

        `body` is a mapping or Struct sent as JSON; `data` is raw bytes or an async iterable.
        """
        if body is not None:
            data, headers = json_body(body, data, headers)
        # What Versions.target does, inline for the request that needs nothing newer than
        # what is spoken (every other one goes there: negotiation, the version's refusal).
        versions = self.versions
        text = versions.text
        needs = req.needs
        if text is None or (needs is not None and needs > versions.spoken):
            target = await versions.versioned(req)
        elif req.params is None:
            target = "/v" + text + req.path
        else:
            target = with_query("/v" + text + req.path, req.params)
        spoken = versions.spoken
        if timeout is DEFAULT:
            timeout = self.timeout
        assert not isinstance(timeout, _Default)
        status, reason, raw = await self._fetch(req.method, target, headers, data, timeout)
        if status >= 400:
            # Refused: its error, unless the daemon refused the API version and negotiating
            # again found another; then the call is sent once more.
            error = status_error(status, raw, reason, self.host)
            resendable = data is None or isinstance(data, bytes)
            if not isinstance(error, BadRequest) or not await versions.renegotiated(
                error, spoken, resendable
            ):
                raise error
            self._log_again(req)
            target = versions.target(req)
            status, reason, raw = await self._fetch(req.method, target, headers, data, timeout)
            if status >= 400:
                raise status_error(status, raw, reason, self.host)
        if result is None:
            return None
        try:
            return decoder(result).decode(raw)
        except msgspec.DecodeError as exc:
            raise DockerError(
                status, f"{req.method} {req.path}: undecodable response ({exc}): {raw[:200]!r}"
            ) from None

    @asynccontextmanager
    async def open_stream(
        self,
        req: Request,
        *,
        body: Any = None,
        data: Body = None,
        headers: Mapping[str, str] | None = None,
        timeout: Timeout = DEFAULT,
        versioned: bool = True,
    ) -> AsyncIterator[Response]:
        """The response of a streaming request; its body has no timeout unless one is given."""
        data, headers = json_body(body, data, headers)
        resp = await self._enter(req, data, headers, timeout, stream=True, versioned=versioned)
        async with resp, self._live(req, resp):
            yield resp

    def _live(self, req: Request, resp: Response) -> AbstractAsyncContextManager[None]:
        """`resp` registered as a live stream: close() ends it (see live.py)."""
        return self.live.watching(
            lambda: resp.__aexit__(None, None, None), f"{req.method} {req.path} on {self.host}"
        )

    @asynccontextmanager
    async def _streamed(
        self,
        req: Request,
        *,
        body: Any = None,
        data: Body = None,
        headers: Mapping[str, str] | None = None,
        timeout: Timeout = DEFAULT,
        on_headers: Callable[[Mapping[str, str]], None] | None = None,
    ) -> AsyncIterator[tuple[str, AsyncIterator[bytes]]]:
        """A streamed response's media type (see demux.stream_type) and its body in chunks; the
        HTTP transport may send it over a socket of its own (see
        http.default.goes_over_own_socket). `on_headers` is given the response's headers."""
        from .bodies import demux  # stream modules load on a first stream, not with the client
        from .bodies.streaming import answered

        data, headers = json_body(body, data, headers)
        try:
            resp = await self._enter(req, data, headers, timeout, stream=True, long_stream=True)
        except Exception:
            answered(False)
            raise
        answered(True)  # a Stream entered with `async with` goes on (see streaming.py)
        async with resp, self._live(req, resp):
            if on_headers is not None:
                on_headers(resp.headers)
            chunks = resp.chunks()
            try:
                yield demux.stream_type(resp.headers, self.versions.spoken), chunks
            finally:
                aclose = getattr(chunks, "aclose", None)
                if aclose is not None:
                    await aclose()

    async def stream_json(
        self,
        req: Request,
        item: type[T],
        *,
        in_band_errors: bool = False,
        body: Any = None,
        data: Body = None,
        headers: Mapping[str, str] | None = None,
        timeout: Timeout = DEFAULT,
        on_headers: Callable[[Mapping[str, str]], None] | None = None,
    ) -> AsyncGenerator[T, None]:
        """The JSON values of a streamed body, typed. With `in_band_errors`, a message carrying
        an error raises DockerStreamError. A connection that ends before the daemon ended the
        body raises StreamCut; `on_headers` is given the response's headers."""
        from .bodies.jsonstream import in_band_error

        batches = self.stream_json_batches(
            req,
            item,
            body=body,
            data=data,
            headers=headers,
            timeout=timeout,
            on_headers=on_headers,
        )
        async with aclosing(batches):
            async for batch in batches:
                for value in batch:
                    if in_band_errors and (error := in_band_error(value)) is not None:
                        raise error
                    yield value
                # Held while waiting for the next read, the batch would let the garbage
                # collector promote every value in it to an older generation.
                del batch

    async def stream_json_batches(
        self,
        req: Request,
        item: type[T],
        *,
        body: Any = None,
        data: Body = None,
        headers: Mapping[str, str] | None = None,
        timeout: Timeout = DEFAULT,
        on_headers: Callable[[Mapping[str, str]], None] | None = None,
    ) -> AsyncGenerator[list[T], None]:
        """stream_json's values in lists, as each network read completed them (never empty)."""
        from .bodies import jsonstream

        streamed = self._streamed(
            req, body=body, data=data, headers=headers, timeout=timeout, on_headers=on_headers
        )
        async with streamed as (_, chunks):
            batches = jsonstream.json_batches(chunks, decoder(item))
            async with aclosing(batches):
                async for batch in batches:
                    yield batch

    async def stream_frames(
        self, req: Request, *, timeout: Timeout = DEFAULT
    ) -> AsyncGenerator[Frame, None]:
        """Logs-style output, demuxed or raw as the response's Content-Type (or its first bytes)
        say."""
        from .bodies import demux

        async with self._streamed(req, timeout=timeout) as (kind, chunks):
            batches = demux.frame_batches(kind, chunks)
            async with aclosing(batches):
                async for batch in batches:
                    for frame in batch:
                        yield frame

    async def stream_bytes(
        self, req: Request, *, timeout: Timeout = DEFAULT
    ) -> AsyncGenerator[bytes, None]:
        """A binary body (an archive, an export) in chunks, never whole in memory."""
        async with self._streamed(req, timeout=timeout) as (_, chunks):
            async for chunk in chunks:
                yield chunk

    def hijack(
        self,
        req: Request,
        *,
        body: Any = None,
        tty: bool | None = None,
        resize: Resize | None = None,
    ) -> Attach:
        """A request that upgrades the connection to a raw duplex stream (attach, exec):
        `async with` the Attach to send it and get an AttachedStream."""
        from .bodies.streams import Attach
        from .upgrades import attached

        return Attach(lambda: attached(self, req, body, tty, resize))
