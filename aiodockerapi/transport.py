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

from . import contexts, paths, rawhttp, streams
from .codec import decoder, encode
from .errors import (
    BadRequest,
    DockerConnectionError,
    DockerError,
    DockerStreamError,
    DockerTimeoutError,
    DockerVersionError,
    StreamCut,
    error_for_status,
)
from .models import Frame
from .operation import Request, Version, version_text
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
MAX_API_VERSION: Final = "1.55"
DEFAULT_TIMEOUT: Final = 60.0
CONNECT_TIMEOUT: Final = 10.0
# aiohttp would offer "gzip, deflate": dockerd then gzips archives (at a few tens of MB/s)
# and, as nothing here decompresses, callers would get gzip where they expect a tar.
_IDENTITY: Final = {"Accept-Encoding": "identity"}
# What Go's TLS server answers a plain HTTP request, and what OpenSSL reports when a server
# refused the handshake over the client's certificate.
_PLAIN_TO_TLS: Final = "HTTP request to an HTTPS server"
_NO_CLIENT_CERT: Final = re.compile(r"CERTIFICATE_REQUIRED|BAD_CERTIFICATE|certificate required")
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


def _version_or_invalid(text: str) -> Version:
    """The version `text` names, or (-1, -1) when it names none."""
    try:
        return _parse_version(text)
    except ValueError:
        return (-1, -1)


# What a daemon answers (400) a request whose API version it does not serve.
_REFUSED_VERSION: Final = re.compile(r"client version \S+ is too (old|new)", re.IGNORECASE)


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
        self._version: str | None = None
        self._version_t: Version = (0, 0)
        self._pinned = api_version is not None
        if api_version is not None:
            self._set_version(api_version, pinned=True)
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

    def _set_version(self, version: str, *, pinned: bool) -> None:
        parsed = _parse_version(version)
        if parsed < _parse_version(MIN_API_VERSION) and pinned:
            raise DockerVersionError(
                f"{self.host} was pinned to API {version}; aiodockerapi speaks "
                f"{MIN_API_VERSION} to {MAX_API_VERSION}"
            )
        self._version, self._version_t = version_text(parsed), parsed

    async def negotiated_version(self) -> str:
        """The API version, asking the daemon once (single-flight) if it was not pinned."""
        if self._version is None:
            async with self._lock:
                if self._version is None:
                    self._set_version(await self._negotiate(), pinned=False)
        assert self._version is not None
        return self._version

    async def _negotiate(self) -> str:
        """The newest version both sides speak: min(ours, the daemon's), refused when that is
        below our oldest or below the daemon's own minimum (from /version, asked only when
        the daemon is newer than we are, as only then can its minimum be above what we
        would speak)."""
        daemon: str | None = None
        for method in ("HEAD", "GET"):
            try:
                async with self._send(method, "/_ping", timeout=DEFAULT) as resp:
                    daemon = resp.headers.get("Api-Version")
                    break
            except DockerError as exc:
                if exc.status is None:
                    raise
        minimum: str | None = None
        if not daemon or _version_or_invalid(daemon) > _parse_version(MAX_API_VERSION):
            async with self._send("GET", "/version", timeout=DEFAULT) as resp:
                raw = await resp.read()
            try:
                answer = _VERSION_DECODER.decode(raw)
            except msgspec.DecodeError:
                raise DockerVersionError(
                    f"{self.host} answered /version with no API version: {raw[:100]!r}"
                ) from None
            daemon, minimum = daemon or answer.ApiVersion, answer.MinAPIVersion
        if not daemon:
            raise DockerVersionError(f"{self.host} did not say which API version it speaks")
        newest = _version_or_invalid(daemon)
        oldest = _version_or_invalid(minimum) if minimum else (0, 0)
        if newest == (-1, -1) or oldest == (-1, -1):
            bad = daemon if newest == (-1, -1) else minimum
            raise DockerVersionError(
                f"{self.host} says it speaks API {bad!r}, which is not a version"
            )
        spoken = min(newest, _parse_version(MAX_API_VERSION))
        if spoken < _parse_version(MIN_API_VERSION) or spoken < oldest:
            theirs = f"{minimum} to {daemon}" if minimum else f"up to {daemon}"
            raise DockerVersionError(
                f"{self.host} speaks API {theirs}; aiodockerapi speaks {MIN_API_VERSION} to "
                f"{MAX_API_VERSION}: no version in common"
            )
        return version_text(spoken)

    async def _renegotiated(self, exc: BadRequest, spoken: Version, data: Body) -> bool:
        """After the daemon refused `spoken` as too old or too new (it was upgraded or
        downgraded under us): negotiate again, and say whether the request may be retried
        (a version was not pinned, another one is now spoken, and the body can be sent
        again)."""
        if self._pinned or not _REFUSED_VERSION.search(exc.message):
            return False
        if data is not None and not isinstance(data, bytes):
            return False  # a body stream was consumed: it cannot be sent again
        async with self._lock:
            if self._version_t == spoken:
                self._set_version(await self._negotiate(), pinned=False)
        return self._version_t != spoken

    def _target(self, req: Request) -> str:
        """The request's versioned path and query, if the spoken version has what it needs."""
        needs = req.needs
        if needs is not None and needs > self._version_t:
            raise DockerVersionError(
                f"{req.needed_by} needs API {version_text(needs)}; {self.host} speaks "
                f"{self._version}"
            )
        return _with_query(f"/v{self._version}{req.path}", req.params)

    async def _versioned(self, req: Request) -> str:
        if self._version is None:
            await self.negotiated_version()
        return self._target(req)

    # -- requests ------------------------------------------------------------------------

    def _send(
        self,
        method: str,
        target: str,
        *,
        data: Body = None,
        headers: Mapping[str, str] | None = None,
        timeout: Timeout,
        stream: bool = False,
    ) -> _Exchange:
        """`async with` one request to `target` (versioned path and query): the response once
        its status says success (see _Exchange). Streams have no timeout unless one is given."""
        if timeout is DEFAULT:
            timeout = None if stream else self._timeout
        assert not isinstance(timeout, _Default)
        return _Exchange(self, method, target, timeout, data, headers)

    async def _enter(
        self,
        req: Request,
        data: Body,
        headers: Mapping[str, str] | None,
        timeout: Timeout,
        *,
        stream: bool = False,
        versioned: bool = True,
    ) -> _Exchange:
        """The entered exchange of `req`; a request refused for its API version is sent once
        more after negotiating again (see _renegotiated)."""
        if not versioned:
            target = _with_query(req.path, req.params)
        elif self._version is not None:
            target = self._target(req)
        else:
            target = await self._versioned(req)
        spoken = self._version_t
        exchange = self._send(
            req.method, target, data=data, headers=headers, timeout=timeout, stream=stream
        )
        try:
            await exchange.__aenter__()
        except BadRequest as exc:
            if not versioned or not await self._renegotiated(exc, spoken, data):
                raise
            exchange = self._send(
                req.method,
                self._target(req),
                data=data,
                headers=headers,
                timeout=timeout,
                stream=stream,
            )
            await exchange.__aenter__()
        return exchange

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
        req: Request,
        *,
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
            req,
            headers=upgrade,
            payload=encode(body) if body is not None else b"",
            timeout=self._timeout or DEFAULT_TIMEOUT,
        )
        if status not in (101, 200):
            writer.close()
            raise DockerError(
                status,
                f"{req.method} {req.path} on {self.host}: unexpected status {status} for an "
                "upgrade",
            )
        content_type = self._stream_type(headers)
        if tty is not None:
            content_type = streams.RAW if tty else streams.MULTIPLEXED
        return streams.AttachedStream(reader, writer, content_type, resize)

    def _stream_type(self, headers: Mapping[str, str]) -> str:
        """The media type of a logs or attach stream, trusted from API 1.42 on. Below it a
        daemon (Docker 23 and later, at least) says raw-stream for multiplexed output too,
        and dockerd 20.10 sends none on logs: "" lets the first bytes decide."""
        media_type = _media_type(headers.get("content-type") or headers.get("Content-Type", ""))
        return media_type if self._version_t >= (1, 42) else ""

    async def _exchange(
        self,
        req: Request,
        *,
        headers: Mapping[str, str],
        payload: bytes = b"",
        timeout: float | None,
    ) -> tuple[asyncio.StreamReader, asyncio.StreamWriter, int, dict[str, str]]:
        """Send a request on a socket of our own; its reader, writer, status and headers once
        the status says success (the body is left in the reader). A request refused for its
        API version is sent once more after negotiating again."""
        target = await self._versioned(req)
        spoken = self._version_t
        try:
            return await self._exchange_once(req, target, headers, payload, timeout)
        except BadRequest as exc:
            if not await self._renegotiated(exc, spoken, None):
                raise
        return await self._exchange_once(req, self._target(req), headers, payload, timeout)

    async def _exchange_once(
        self,
        req: Request,
        target: str,
        headers: Mapping[str, str],
        payload: bytes,
        timeout: float | None,
    ) -> tuple[asyncio.StreamReader, asyncio.StreamWriter, int, dict[str, str]]:
        for name, value in headers.items():
            paths.check_text(f"header {name!r}", value)
        if payload or req.method != "GET":
            headers = {**headers, "Content-Length": str(len(payload))}
        where = f"{req.method} {req.path} on {self.host}"
        reader, writer = await self._open_socket(where)
        try:
            writer.write(rawhttp.request_head(req.method, target, self._host.authority, headers))
            if payload:
                writer.write(payload)
            status, head = await asyncio.wait_for(rawhttp.read_head(reader), timeout)
            if status >= 400:
                message = await _read_error(reader, head)
                if _PLAIN_TO_TLS in message:
                    raise DockerConnectionError(self._tls_trouble(where, message))
                raise error_for_status(status, message)
        except BaseException as exc:
            writer.close()
            if isinstance(exc, asyncio.TimeoutError | TimeoutError):
                raise DockerTimeoutError(f"{where} got no answer within {timeout} s") from None
            if isinstance(exc, OSError | rawhttp.BodyError):
                text = str(exc) or type(exc).__name__
                if self._host.ssl is not None and isinstance(exc, OSError):
                    text = self._tls_trouble(where, text)
                else:
                    text = f"{where} failed: {text}"
                raise DockerConnectionError(text) from None
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
        if _PLAIN_TO_TLS in text or (
            self._host.ssl is not None
            and isinstance(exc, aiohttp.ServerDisconnectedError | aiohttp.ClientOSError)
        ):
            return DockerConnectionError(self._tls_trouble(where, text))
        return DockerConnectionError(f"{where} failed: {text}")

    def _tls_trouble(self, where: str, text: str) -> str:
        """One line for a connection that TLS broke: plain HTTP sent to a TLS port, or a
        handshake the daemon refused for want of a client certificate."""
        if _PLAIN_TO_TLS in text:
            return (
                f"{self.host} speaks TLS: pass tls=TLSConfig(...) (or tls=True to read "
                "DOCKER_CERT_PATH), or use an https:// URL"
            )
        if _NO_CLIENT_CERT.search(text):
            return (
                f"{where} failed: the daemon refused the TLS handshake for want of a valid "
                f"client certificate (TLSConfig(client_cert=(cert, key))): {text}"
            )
        return f"{where} failed: {text}{_TLS_HINT}"

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
        data, headers = _body(body, data, headers)
        async with await self._enter(req, data, headers, timeout) as resp:
            raw = await resp.read()
        if result is None:
            return None
        try:
            return decoder(result).decode(raw)
        except msgspec.DecodeError as exc:
            raise DockerError(
                resp.status,
                f"{req.method} {req.path}: undecodable response ({exc}): {raw[:200]!r}",
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
    ) -> AsyncIterator[aiohttp.ClientResponse]:
        """The response of a streaming request; its body has no timeout unless one is given."""
        data, headers = _body(body, data, headers)
        exchange = await self._enter(req, data, headers, timeout, stream=True, versioned=versioned)
        async with exchange as resp:
            yield resp

    @asynccontextmanager
    async def _streamed(
        self,
        req: Request,
        *,
        body: Any = None,
        data: Body = None,
        headers: Mapping[str, str] | None = None,
        timeout: Timeout = DEFAULT,
    ) -> AsyncIterator[tuple[str, AsyncIterator[bytes]]]:
        """A streamed response's media type (see _stream_type) and its body in chunks.

        A GET without a body (events, logs, stats, exports) goes over a socket of its own and
        is read in large blocks (see rawhttp), so a long stream neither pays aiohttp's cost
        per chunk nor holds one of the pool's connections. Through ssh, or with a timeout, it
        goes through the pool (which keeps count of ssh sessions, and times requests).
        """
        own_socket = (
            req.method == "GET" and body is None and data is None and timeout in (DEFAULT, None)
        )
        if not own_socket or self._tunnel is not None:
            async with self.open_stream(
                req, body=body, data=data, headers=headers, timeout=timeout
            ) as resp:
                yield self._stream_type(resp.headers), resp.content.iter_any()
            return
        reader, writer, _, head = await self._exchange(
            req, headers={**_IDENTITY, **(headers or {})}, timeout=None
        )
        try:
            chunks = _cut_is_stream_cut(
                rawhttp.body(reader, head), f"{req.method} {req.path} on {self.host}"
            )
            async with aclosing(chunks):
                yield self._stream_type(head), chunks
        finally:
            writer.close()

    async def stream_json(
        self,
        req: Request,
        item: type[T],
        *,
        in_band_errors: bool = False,
        end_on_cut: bool = False,
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
                req, body=body, data=data, headers=headers, timeout=timeout
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
        self, req: Request, *, timeout: Timeout = DEFAULT
    ) -> AsyncGenerator[Frame, None]:
        """Logs-style output, demuxed or raw as the response's Content-Type (or its first bytes)
        say."""
        async with self._streamed(req, timeout=timeout) as (kind, chunks):
            batches = streams.frame_batches(kind, chunks)
            async with aclosing(batches):
                async for batch in batches:
                    for frame in batch:
                        yield frame

    def download(self, req: Request, meta: type[M], meta_header: str) -> Download[M]:
        """A binary body with metadata in a base64 JSON header (get_archive)."""
        return Download(self.open_stream(req), meta, meta_header)

    async def header_json(self, req: Request, meta: type[M], meta_header: str) -> M:
        """Only the base64 JSON header of a response (HEAD of an archive)."""
        async with self.open_stream(req, timeout=DEFAULT) as resp:
            return _decode_header(resp, meta, meta_header)

    @asynccontextmanager
    async def websocket(self, req: Request) -> AsyncIterator[aiohttp.ClientWebSocketResponse[bool]]:
        """A websocket to the daemon (attach/ws), closed on exit."""
        session = await self._session_for_loop()
        target = await self._versioned(req)
        try:
            ws = await session.ws_connect(target)
        except aiohttp.WSServerHandshakeError as exc:
            raise error_for_status(exc.status, exc.message) from None
        except aiohttp.ClientError as exc:
            raise self._connection_error(f"websocket {req.path} on {self.host}", exc) from exc
        try:
            yield ws
        finally:
            await ws.close()

    async def stream_bytes(
        self, req: Request, *, timeout: Timeout = DEFAULT
    ) -> AsyncGenerator[bytes, None]:
        """A binary body (an archive, an export) in chunks, never whole in memory."""
        async with self._streamed(req, timeout=timeout) as (_, chunks):
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
        if self._resp is not None:
            return self._resp  # entered already (Transport._enter)
        t = self._t
        try:
            session = t._session or await t._session_for_loop()
            resp = self._resp = await session.request(
                self._method,
                self._path,
                data=self._data,
                headers=self._headers,
                timeout=_client_timeout(self._timeout),
                allow_redirects=False,
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
    MinAPIVersion: str | None = None


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
