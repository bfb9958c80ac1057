"""Hosts, connections, TLS, version negotiation, and the request and stream primitives."""

from __future__ import annotations

import asyncio
import base64
import functools
import os
import re
import ssl
from collections.abc import (
    AsyncGenerator,
    AsyncIterable,
    AsyncIterator,
    Awaitable,
    Callable,
    Mapping,
    Sequence,
)
from contextlib import AbstractAsyncContextManager, aclosing, asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any, Final, Generic, TypeVar, overload
from urllib.parse import quote, quote_plus, urlsplit

import aiohttp
import msgspec

from . import contexts, rawhttp, streams
from .codec import decoder, encode
from .errors import (
    DockerConnectionError,
    DockerError,
    DockerStreamError,
    DockerTimeoutError,
    DockerVersionError,
    StreamCut,
    error_for_status,
)
from .models import Frame
from .ssh import IDLE_SECONDS, MAX_SESSIONS, SSHTunnel

__all__ = [
    "DEFAULT_HOST",
    "MAX_API_VERSION",
    "MIN_API_VERSION",
    "Download",
    "Resource",
    "TLSConfig",
    "Transport",
    "q",
]

T = TypeVar("T")
M = TypeVar("M")

DEFAULT_HOST: Final = contexts.DEFAULT_HOST
MIN_API_VERSION: Final = "1.41"
MAX_API_VERSION: Final = "1.41"
DEFAULT_TIMEOUT: Final = 60.0
CONNECT_TIMEOUT: Final = 10.0
# aiohttp would offer "gzip, deflate": dockerd then gzips archives (at a few tens of MB/s)
# and, as nothing here decompresses, callers would get gzip where they expect a tar.
_IDENTITY: Final = {"Accept-Encoding": "identity"}
_TLS_HINT: Final = (
    " (the daemon closed the connection; a daemon run with --tlsverify does this"
    " when no valid client certificate is presented)"
)


class _Default:
    def __repr__(self) -> str:
        return "DEFAULT"


DEFAULT: Final = _Default()
Timeout = float | None | _Default
Params = Mapping[str, str] | Sequence[tuple[str, str]]
Body = bytes | AsyncIterable[bytes] | None
Resize = Callable[[int, int], Awaitable[None]]


def q(segment: str) -> str:
    """Quote one path segment (an id or name); image names keep their '/' and ':'."""
    if not isinstance(segment, str) or not segment:
        raise ValueError(f"an id or name must be a non-empty string, not {segment!r}")
    if _UNQUOTED.fullmatch(segment):
        return segment  # what quote() would return, at a fraction of its cost
    return quote(segment, safe="/:@")


# The characters quote(..., safe="/:@") leaves alone.
_UNQUOTED: Final = re.compile(r"[A-Za-z0-9_.~/:@-]+")


@functools.lru_cache(maxsize=64)
def _client_timeout(total: float | None) -> aiohttp.ClientTimeout:
    """One (immutable) ClientTimeout per total, rather than one per request."""
    return aiohttp.ClientTimeout(total=total, sock_connect=CONNECT_TIMEOUT)


@dataclass(frozen=True)
class TLSConfig:
    """TLS for a tcp:// host: the CA to trust and the client certificate to present."""

    ca_cert: str | os.PathLike[str] | None = None
    client_cert: tuple[str | os.PathLike[str], str | os.PathLike[str]] | None = None
    verify: bool = True

    @classmethod
    def from_cert_path(cls, path: str | os.PathLike[str], *, verify: bool = True) -> TLSConfig:
        """ca.pem, cert.pem and key.pem from one directory, as DOCKER_CERT_PATH lays them out."""
        base = Path(path)
        cert, key = base / "cert.pem", base / "key.pem"
        ca = base / "ca.pem"
        return cls(
            ca_cert=ca if ca.exists() else None,
            client_cert=(cert, key) if cert.exists() and key.exists() else None,
            verify=verify,
        )

    def ssl_context(self) -> ssl.SSLContext:
        """Build the SSLContext; a missing or unreadable file raises ValueError naming it."""
        try:
            ctx = ssl.create_default_context(cafile=self.ca_cert)
            if self.client_cert is not None:
                ctx.load_cert_chain(*self.client_cert)
        except (OSError, ssl.SSLError) as exc:
            raise ValueError(f"invalid TLS configuration {self!r}: {exc}") from None
        if not self.verify:
            ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE
        return ctx


@dataclass(frozen=True)
class _Host:
    url: str  # as the user gave it, for messages
    base_url: str  # what aiohttp is given
    socket_path: str | None
    ssl: ssl.SSLContext | None
    hostname: str = ""
    port: int = 0
    ssh: bool = False

    @property
    def authority(self) -> str:
        """What the Host header says."""
        return self.base_url.partition("://")[2]


def _parse_host(url: str, tls: TLSConfig | None) -> _Host:
    parts = urlsplit(url)
    scheme = parts.scheme
    if scheme == "unix":
        # unix:///abs/path, or unix://rel/path (relative, as the docker CLI reads it)
        path = parts.netloc + parts.path
        if not path:
            raise ValueError(f"Docker host {url!r} names no socket path")
        return _Host(url, "http://localhost", path, None)
    if scheme == "ssh":
        return _Host(url, "http://localhost", None, None, ssh=True)
    if scheme in ("tcp", "http", "https"):
        if not parts.hostname:
            raise ValueError(f"Docker host {url!r} names no host")
        secure = tls is not None or scheme == "https"
        try:
            port = parts.port or (2376 if secure else 2375)
        except ValueError:
            raise ValueError(f"Docker host {url!r} has an invalid port") from None
        host = f"[{parts.hostname}]" if ":" in parts.hostname else parts.hostname
        base = f"{'https' if secure else 'http'}://{host}:{port}"
        context = (tls or TLSConfig()).ssl_context() if secure else None
        return _Host(url, base, None, context, parts.hostname, port)
    raise ValueError(
        f"unsupported Docker host {url!r}: use unix:///path/to/docker.sock, "
        "tcp://host:port, ssh://user@host, http:// or https://"
    )


def _parse_version(text: str) -> tuple[int, int]:
    try:
        major, minor = text.strip().lstrip("v").split(".")
        return int(major), int(minor)
    except ValueError:
        raise ValueError(f"invalid API version {text!r}: expected MAJOR.MINOR like 1.41") from None


class Transport:
    """One daemon: the aiohttp session (created lazily, in the running loop) and the API version.

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
    ) -> None:
        env = os.environ
        endpoint = contexts.resolve(host, context)
        if tls is None and endpoint.tls is not None:
            files = endpoint.tls
            tls = TLSConfig(files.ca_cert, files.client_cert, verify=files.verify)
        elif tls is True:
            tls = TLSConfig.from_cert_path(env.get("DOCKER_CERT_PATH") or contexts.config_dir())
        self._host = _parse_host(endpoint.host, tls or None)
        self.context = endpoint.context
        self._tunnel = SSHTunnel(endpoint.host, ssh_options) if self._host.ssh else None
        if self._tunnel is not None:
            pool_size = min(pool_size, MAX_SESSIONS)
        api_version = api_version or env.get("DOCKER_API_VERSION") or None
        if api_version is not None:
            self._check_version(api_version, pinned=True)
        self._version: str | None = api_version
        if pool_size < 1:
            raise ValueError(f"pool_size must be at least 1, not {pool_size}")
        self._pool_size = pool_size
        self._timeout = timeout
        self._session: aiohttp.ClientSession | None = None
        self._lock = asyncio.Lock()
        self._closed = False

    @property
    def host(self) -> str:
        """The daemon's address, as given or resolved."""
        return self._host.url

    @property
    def api_version(self) -> str | None:
        """The API version in use: pinned, negotiated, or None before the first request."""
        return self._version

    # -- session and version -------------------------------------------------------------

    def _ensure_open(self) -> None:
        if self._closed:
            raise DockerError(None, f"the client for {self.host} is closed")

    async def _session_for_loop(self) -> aiohttp.ClientSession:
        self._ensure_open()
        if self._session is None:
            connector: aiohttp.BaseConnector
            socket_path = await self._socket_path()
            if socket_path is not None and self._tunnel is not None:
                # An idle connection holds an ssh session: release it soon (see ssh.py).
                connector = aiohttp.UnixConnector(
                    path=socket_path, limit=self._pool_size, keepalive_timeout=IDLE_SECONDS
                )
            elif socket_path is not None:
                connector = aiohttp.UnixConnector(path=socket_path, limit=self._pool_size)
            else:
                connector = aiohttp.TCPConnector(
                    limit=self._pool_size, ssl=self._host.ssl if self._host.ssl else True
                )
            if self._session is None:  # the tunnel's start may have let another task in
                self._session = aiohttp.ClientSession(
                    base_url=self._host.base_url,
                    connector=connector,
                    timeout=aiohttp.ClientTimeout(total=None, sock_connect=CONNECT_TIMEOUT),
                    auto_decompress=False,
                    headers=_IDENTITY,
                )
            else:
                await connector.close()
        return self._session

    async def _socket_path(self) -> str | None:
        if self._tunnel is not None:
            return await self._tunnel.start()
        return self._host.socket_path

    async def close(self) -> None:
        """Close the session, its connections and any ssh tunnel; idempotent."""
        self._closed = True
        if self._session is not None:
            session, self._session = self._session, None
            await session.close()
        if self._tunnel is not None:
            await self._tunnel.close()

    def _check_version(self, version: str, *, pinned: bool) -> None:
        if _parse_version(version) < _parse_version(MIN_API_VERSION):
            who = "was pinned to" if pinned else "speaks at most"
            raise DockerVersionError(
                f"{self.host} {who} API {version}; aiodockerapi needs {MIN_API_VERSION} or later"
            )

    async def negotiated_version(self) -> str:
        """The API version, asking the daemon once (single-flight) if it was not pinned."""
        if self._version is None:
            async with self._lock:
                if self._version is None:
                    self._version = await self._negotiate()
        return self._version

    async def _negotiate(self) -> str:
        daemon: str | None = None
        for method in ("HEAD", "GET"):
            try:
                async with self._send(method, "/_ping", timeout=DEFAULT) as resp:
                    daemon = resp.headers.get("Api-Version")
                    break
            except DockerError as exc:
                if exc.status is None:
                    raise
        if not daemon:
            async with self._send("GET", "/version", timeout=DEFAULT) as resp:
                raw = await resp.read()
            try:
                daemon = _VERSION_DECODER.decode(raw).ApiVersion
            except msgspec.DecodeError:
                raise DockerVersionError(
                    f"{self.host} answered /version with no API version: {raw[:100]!r}"
                ) from None
        if not daemon:
            raise DockerVersionError(f"{self.host} did not say which API version it speaks")
        try:
            self._check_version(daemon, pinned=False)
        except ValueError:
            raise DockerVersionError(
                f"{self.host} says it speaks API {daemon!r}, which is not a version"
            ) from None
        return min(daemon, MAX_API_VERSION, key=_parse_version)

    # -- requests ------------------------------------------------------------------------

    def _send(
        self,
        method: str,
        path: str,
        *,
        params: Params | None = None,
        data: Body = None,
        headers: Mapping[str, str] | None = None,
        timeout: Timeout,
        stream: bool = False,
    ) -> _Exchange:
        """`async with` one request: the response once its status says success (see
        _Exchange). Streams have no timeout unless one is given."""
        if timeout is DEFAULT:
            timeout = None if stream else self._timeout
        assert not isinstance(timeout, _Default)
        return _Exchange(self, method, _with_query(path, params), timeout, data, headers)

    def _failure(
        self,
        exc: BaseException,
        method: str,
        path: str,
        *,
        answered: bool,
        timeout: float | None,
    ) -> BaseException:
        """The error to raise for what aiohttp raised (`exc` itself when it is not ours)."""
        where = f"{method} {path} on {self.host}"
        if isinstance(exc, aiohttp.ClientConnectorError):
            return DockerConnectionError(
                f"cannot connect to the Docker daemon at {self.host}: {exc.os_error}"
            )
        if isinstance(exc, asyncio.TimeoutError | TimeoutError):
            if answered and timeout is None:
                return exc  # not ours: the caller's own timeout, around a stream
            limit = f"{timeout} s" if answered or timeout else "connecting"
            return DockerTimeoutError(f"{where} timed out after {limit}")
        assert isinstance(exc, aiohttp.ClientError)
        return self._connection_error(where, exc)

    async def hijack(
        self,
        method: str,
        path: str,
        *,
        params: Params | None = None,
        body: Any = None,
        tty: bool | None = None,
        resize: Resize | None = None,
    ) -> streams.AttachedStream:
        """Send a request that upgrades the connection to a raw duplex stream (attach, exec).

        aiohttp gives no public access to an upgraded connection, so this goes over a socket
        of our own (see rawhttp) and hands its reader (with whatever the daemon sent right
        after the 101) and writer to an AttachedStream.
        """
        upgrade = {"Connection": "Upgrade", "Upgrade": "tcp", "Content-Type": "application/json"}
        reader, writer, status, headers = await self._exchange(
            method,
            path,
            params=params,
            headers=upgrade,
            payload=encode(body) if body is not None else b"",
            timeout=self._timeout or DEFAULT_TIMEOUT,
        )
        if status not in (101, 200):
            writer.close()
            raise DockerError(
                status, f"{method} {path} on {self.host}: unexpected status {status} for an upgrade"
            )
        content_type = _media_type(headers.get("content-type", ""))
        if tty is not None:
            content_type = streams.RAW if tty else streams.MULTIPLEXED
        elif content_type == streams.RAW and _parse_version(self._version or "") < (1, 42):
            content_type = ""  # before 1.42 "raw-stream" is sent for multiplexed output too
        return streams.AttachedStream(reader, writer, content_type, resize)

    async def _exchange(
        self,
        method: str,
        path: str,
        *,
        params: Params | None,
        headers: Mapping[str, str],
        payload: bytes = b"",
        timeout: float | None,
    ) -> tuple[asyncio.StreamReader, asyncio.StreamWriter, int, dict[str, str]]:
        """Send a request on a socket of our own; its reader, writer, status and headers once
        the status says success (the body is left in the reader)."""
        target = _with_query(await self._versioned(path), params)
        if payload or method != "GET":
            headers = {**headers, "Content-Length": str(len(payload))}
        where = f"{method} {path} on {self.host}"
        reader, writer = await self._open_socket(where)
        try:
            writer.write(rawhttp.request_head(method, target, self._host.authority, headers))
            if payload:
                writer.write(payload)
            status, head = await asyncio.wait_for(rawhttp.read_head(reader), timeout)
            if status >= 400:
                raise error_for_status(status, await _read_error(reader, head))
        except BaseException as exc:
            writer.close()
            if isinstance(exc, asyncio.TimeoutError | TimeoutError):
                raise DockerTimeoutError(f"{where} got no answer within {timeout} s") from None
            if isinstance(exc, OSError | rawhttp.BodyError):
                hint = _TLS_HINT if self._host.ssl is not None and isinstance(exc, OSError) else ""
                raise DockerConnectionError(f"{where} failed: {exc}{hint}") from None
            raise
        return reader, writer, status, head

    async def _open_socket(self, where: str) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        self._ensure_open()
        host = self._host
        try:
            socket_path = await self._socket_path()
            if socket_path is not None:
                connect = asyncio.open_unix_connection(socket_path)
            else:
                connect = asyncio.open_connection(
                    host.hostname,
                    host.port,
                    ssl=host.ssl,
                    server_hostname=host.hostname if host.ssl else None,
                )
            return await asyncio.wait_for(connect, CONNECT_TIMEOUT)
        except (OSError, asyncio.TimeoutError, TimeoutError) as exc:
            raise DockerConnectionError(
                f"cannot connect to the Docker daemon at {self.host}: {exc}"
            ) from None

    def _connection_error(self, where: str, exc: aiohttp.ClientError) -> Exception:
        cause = exc.__cause__
        if isinstance(cause, OSError) and not isinstance(cause, ConnectionError | ssl.SSLError):
            # aiohttp wraps what the request body raised (a build context's missing file).
            return cause
        if isinstance(exc, aiohttp.ClientPayloadError):
            return StreamCut(f"{where}: the daemon closed the stream before its end ({exc})")
        text = str(exc) or type(exc).__name__
        if self._host.ssl is not None and isinstance(
            exc, aiohttp.ServerDisconnectedError | aiohttp.ClientOSError
        ):
            text += _TLS_HINT
        return DockerConnectionError(f"{where} failed: {text}")

    async def _versioned(self, path: str) -> str:
        return f"/v{self._version or await self.negotiated_version()}{path}"

    @overload
    async def call(
        self,
        method: str,
        path: str,
        result: type[T],
        *,
        params: Params | None = ...,
        body: Any = ...,
        data: Body = ...,
        headers: Mapping[str, str] | None = ...,
        timeout: Timeout = ...,
    ) -> T: ...

    @overload
    async def call(
        self,
        method: str,
        path: str,
        result: None = ...,
        *,
        params: Params | None = ...,
        body: Any = ...,
        data: Body = ...,
        headers: Mapping[str, str] | None = ...,
        timeout: Timeout = ...,
    ) -> None: ...

    async def call(
        self,
        method: str,
        path: str,
        result: Any = None,
        *,
        params: Params | None = None,
        body: Any = None,
        data: Body = None,
        headers: Mapping[str, str] | None = None,
        timeout: Timeout = DEFAULT,
    ) -> Any:
        """One request whose JSON response body (if `result` is given) is decoded into `result`.

        `body` is a mapping or Struct sent as JSON; `data` is raw bytes or an async iterable.
        """
        data, headers = _body(body, data, headers)
        async with self._send(
            method,
            f"/v{self._version}{path}" if self._version else await self._versioned(path),
            params=params,
            data=data,
            headers=headers,
            timeout=timeout,
        ) as resp:
            raw = await resp.read()
        if result is None:
            return None
        try:
            return decoder(result).decode(raw)
        except msgspec.DecodeError as exc:
            raise DockerError(
                resp.status, f"{method} {path}: undecodable response ({exc}): {raw[:200]!r}"
            ) from None

    @asynccontextmanager
    async def open_stream(
        self,
        method: str,
        path: str,
        *,
        params: Params | None = None,
        body: Any = None,
        data: Body = None,
        headers: Mapping[str, str] | None = None,
        timeout: Timeout = DEFAULT,
        versioned: bool = True,
    ) -> AsyncIterator[aiohttp.ClientResponse]:
        """The response of a streaming request; its body has no timeout unless one is given."""
        data, headers = _body(body, data, headers)
        if versioned:
            path = await self._versioned(path)
        async with self._send(
            method, path, params=params, data=data, headers=headers, timeout=timeout, stream=True
        ) as resp:
            yield resp

    @asynccontextmanager
    async def _streamed(
        self,
        method: str,
        path: str,
        *,
        params: Params | None = None,
        body: Any = None,
        data: Body = None,
        headers: Mapping[str, str] | None = None,
        timeout: Timeout = DEFAULT,
    ) -> AsyncIterator[tuple[str, AsyncIterator[bytes]]]:
        """A streamed response's media type and its body in chunks.

        A GET without a body (events, logs, stats, exports) goes over a socket of its own and
        is read in large blocks (see rawhttp), so a long stream neither pays aiohttp's cost
        per chunk nor holds one of the pool's connections. Through ssh, or with a timeout, it
        goes through the pool (which keeps count of ssh sessions, and times requests).
        """
        own_socket = (
            method == "GET" and body is None and data is None and timeout in (DEFAULT, None)
        )
        if not own_socket or self._tunnel is not None:
            async with self.open_stream(
                method, path, params=params, body=body, data=data, headers=headers, timeout=timeout
            ) as resp:
                media_type = _media_type(resp.headers.get("Content-Type", ""))
                yield media_type, resp.content.iter_any()
            return
        reader, writer, _, head = await self._exchange(
            method,
            path,
            params=params,
            headers={**_IDENTITY, **(headers or {})},
            timeout=None,
        )
        try:
            chunks = _cut_is_stream_cut(
                rawhttp.body(reader, head), f"{method} {path} on {self.host}"
            )
            async with aclosing(chunks):
                yield _media_type(head.get("content-type", "")), chunks
        finally:
            writer.close()

    async def stream_json(
        self,
        method: str,
        path: str,
        item: type[T],
        *,
        in_band_errors: bool = False,
        end_on_cut: bool = False,
        params: Params | None = None,
        body: Any = None,
        data: Body = None,
        headers: Mapping[str, str] | None = None,
        timeout: Timeout = DEFAULT,
    ) -> AsyncGenerator[T, None]:
        """The JSON values of a streamed body, typed. With `in_band_errors`, a message carrying
        an error raises DockerStreamError; with `end_on_cut`, a connection the daemon drops
        mid-body ends the stream instead of raising StreamCut."""
        try:
            async with self._streamed(
                method, path, params=params, body=body, data=data, headers=headers, timeout=timeout
            ) as (_, chunks):
                values = streams.json_values(chunks, decoder(item))
                if in_band_errors:
                    values = streams.check_in_band(values)
                async with aclosing(values):
                    async for value in values:
                        yield value
        except StreamCut:
            if not end_on_cut:
                raise

    async def stream_frames(
        self,
        method: str,
        path: str,
        *,
        params: Params | None = None,
        timeout: Timeout = DEFAULT,
    ) -> AsyncGenerator[Frame, None]:
        """Logs-style output, demuxed or raw as the response's Content-Type (or its first bytes)
        say."""
        async with self._streamed(method, path, params=params, timeout=timeout) as (kind, chunks):
            batches = streams.frame_batches(kind, chunks)
            async with aclosing(batches):
                async for batch in batches:
                    for frame in batch:
                        yield frame

    def download(
        self,
        method: str,
        path: str,
        meta: type[M],
        meta_header: str,
        *,
        params: Params | None = None,
    ) -> Download[M]:
        """A binary body with metadata in a base64 JSON header (get_archive)."""
        return Download(self.open_stream(method, path, params=params), meta, meta_header)

    async def header_json(
        self,
        method: str,
        path: str,
        meta: type[M],
        meta_header: str,
        *,
        params: Params | None = None,
    ) -> M:
        """Only the base64 JSON header of a response (HEAD of an archive)."""
        async with self.open_stream(method, path, params=params, timeout=DEFAULT) as resp:
            return _decode_header(resp, meta, meta_header)

    @asynccontextmanager
    async def websocket(
        self, path: str, *, params: Params | None = None
    ) -> AsyncIterator[aiohttp.ClientWebSocketResponse[bool]]:
        """A websocket to the daemon (attach/ws), closed on exit."""
        session = await self._session_for_loop()
        target = await self._versioned(path)
        try:
            ws = await session.ws_connect(target, params=params)
        except aiohttp.WSServerHandshakeError as exc:
            raise error_for_status(exc.status, exc.message) from None
        except aiohttp.ClientError as exc:
            raise self._connection_error(f"websocket {path} on {self.host}", exc) from exc
        try:
            yield ws
        finally:
            await ws.close()

    async def stream_bytes(
        self,
        method: str,
        path: str,
        *,
        params: Params | None = None,
        timeout: Timeout = DEFAULT,
    ) -> AsyncGenerator[bytes, None]:
        """A binary body (an archive, an export) in chunks, never whole in memory."""
        async with self._streamed(method, path, params=params, timeout=timeout) as (_, chunks):
            async for chunk in chunks:
                yield chunk


class Download(Generic[M]):
    """A binary body (an archive) streamed in chunks, never whole in memory.

    `async with` it to read `meta` (decoded from its header) before the chunks, or just
    `async for` over it.
    """

    def __init__(
        self,
        opener: AbstractAsyncContextManager[aiohttp.ClientResponse],
        meta_type: type[M],
        meta_header: str,
    ) -> None:
        self._opener = opener
        self._meta_type = meta_type
        self._meta_header = meta_header
        self._resp: aiohttp.ClientResponse | None = None
        self._meta: M | None = None

    @property
    def meta(self) -> M:
        """The metadata from the response header (inside `async with` only)."""
        if self._meta is None:
            raise RuntimeError("enter the download with `async with` before reading meta")
        return self._meta

    async def __aenter__(self) -> Download[M]:
        self._resp = await self._opener.__aenter__()
        self._meta = _decode_header(self._resp, self._meta_type, self._meta_header)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._resp = None
        await self._opener.__aexit__(exc_type, exc, tb)

    def __aiter__(self) -> AsyncIterator[bytes]:
        if self._resp is not None:
            return self._resp.content.iter_any()
        return self._chunks()

    async def _chunks(self) -> AsyncGenerator[bytes, None]:
        async with self as entered:
            async for chunk in entered:
                yield chunk


def _with_query(path: str, params: Params | None) -> str:
    """`path` with `params` as its query string: what urlencode would make, at a fraction of
    its cost for the plain names and values most parameters are. Done here rather than by
    aiohttp (params=), whose URL building costs more again."""
    if not params:
        return path
    items = params.items() if type(params) is dict or isinstance(params, Mapping) else params
    return path + "?" + "&".join(f"{_plus(k)}={_plus(v)}" for k, v in items)


def _plus(text: str) -> str:
    return text if _UNQUOTED_QUERY.fullmatch(text) else quote_plus(text)


# The characters quote_plus leaves alone.
_UNQUOTED_QUERY: Final = re.compile(r"[A-Za-z0-9_.~-]*")


_AIOHTTP_ERRORS: Final = (aiohttp.ClientError, asyncio.TimeoutError, TimeoutError)


class _Exchange:
    """One request as an async context manager: entering sends it and gives the response once
    its status says success; leaving returns the connection to the pool if the body was read
    to the end, and closes it otherwise (so leaving a stream early tells the daemon to stop).
    What aiohttp raises on the way becomes the matching DockerError.

    A class rather than @asynccontextmanager: every plain call goes through here, and an
    async generator per request costs a measurable share of a fast one.
    """

    __slots__ = ("_data", "_headers", "_method", "_path", "_resp", "_t", "_timeout")

    def __init__(
        self,
        transport: Transport,
        method: str,
        path: str,
        timeout: float | None,
        data: Body,
        headers: Mapping[str, str] | None,
    ) -> None:
        self._t = transport
        self._method = method
        self._path = path
        self._timeout = timeout
        self._data = data
        self._headers = headers
        self._resp: aiohttp.ClientResponse | None = None

    async def __aenter__(self) -> aiohttp.ClientResponse:
        t = self._t
        try:
            session = t._session or await t._session_for_loop()
            resp = self._resp = await session.request(
                self._method,
                self._path,
                data=self._data,
                headers=self._headers,
                timeout=_client_timeout(self._timeout),
            )
            if resp.status >= 400:
                raise error_for_status(resp.status, await _error_message(resp))
        except BaseException as exc:
            self._finish(exc)
            raise
        return resp

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._finish(exc)

    def _finish(self, exc: BaseException | None) -> None:
        resp = self._resp
        if resp is not None:
            if resp.content.at_eof():
                resp.release()
            else:
                resp.close()
        if exc is not None and isinstance(exc, _AIOHTTP_ERRORS):
            failure = self._t._failure(
                exc, self._method, self._path, answered=resp is not None, timeout=self._timeout
            )
            if failure is not exc:
                raise failure from exc


def _media_type(content_type: str) -> str:
    """A Content-Type without its parameters, lower-cased ("" when there is none)."""
    return content_type.partition(";")[0].strip().lower()


async def _cut_is_stream_cut(
    chunks: AsyncIterator[bytes], where: str
) -> AsyncGenerator[bytes, None]:
    """`chunks`, with a body that ends early raising StreamCut."""
    try:
        async for chunk in chunks:
            yield chunk
    except (EOFError, OSError) as exc:
        raise StreamCut(f"{where}: the daemon closed the stream before its end ({exc})") from None
    except rawhttp.BodyError as exc:
        raise DockerStreamError(f"{where}: {exc}") from None


def _decode_header(resp: aiohttp.ClientResponse, meta: type[M], header: str) -> M:
    raw = resp.headers.get(header)
    if raw is None:
        raise DockerError(resp.status, f"the daemon sent no {header} header")
    try:
        return decoder(meta).decode(base64.b64decode(raw))  # type: ignore[no-any-return]
    except (ValueError, msgspec.DecodeError) as exc:
        raise DockerError(resp.status, f"undecodable {header} header: {exc}") from None


class _Version(msgspec.Struct):
    ApiVersion: str | None = None


class _ErrorBody(msgspec.Struct):
    message: str | None = None


_VERSION_DECODER = msgspec.json.Decoder(_Version)
_ERROR_DECODER = msgspec.json.Decoder(_ErrorBody)


async def _read_error(reader: asyncio.StreamReader, headers: Mapping[str, str]) -> str:
    length = headers.get("content-length")
    try:
        if length is not None:
            raw = await reader.readexactly(int(length))
        else:
            raw = await asyncio.wait_for(reader.read(65536), 5)
    except (OSError, asyncio.IncompleteReadError, asyncio.TimeoutError, TimeoutError):
        raw = b""
    return _message_of(raw, "no message")


def _body(
    body: Any, data: Body, headers: Mapping[str, str] | None
) -> tuple[Body, Mapping[str, str] | None]:
    if body is None:
        return data, headers
    if data is not None:
        raise TypeError("give either body= (JSON) or data= (raw), not both")
    if not isinstance(body, Mapping | msgspec.Struct | list | tuple):
        raise TypeError(
            f"a request body must be a mapping or a model Struct, not {type(body).__name__}"
        )
    return encode(body), {**(headers or {}), "Content-Type": "application/json"}


async def _error_message(resp: aiohttp.ClientResponse) -> str:
    return _message_of(await resp.read(), resp.reason or f"HTTP {resp.status}")


def _message_of(raw: bytes, fallback: str) -> str:
    """The daemon's {"message": ...}, else the body's text, else `fallback`."""
    try:
        message = _ERROR_DECODER.decode(raw).message
    except msgspec.DecodeError:
        message = None
    return message or raw.decode("utf-8", "replace").strip() or fallback


class Resource:
    """Base of the resource classes: each maps its methods to requests on one transport."""

    __slots__ = ("_t",)

    def __init__(self, transport: Transport) -> None:
        self._t = transport
