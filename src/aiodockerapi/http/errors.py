"""Every way an exchange with the daemon can fail, as the DockerError it is.

One mapper for both HTTP transports (the pool's aiohttp exceptions, the own sockets' OS
and framing errors), so that a refused connection, a timeout, a refused TLS handshake,
plain HTTP sent to a TLS port or a stream cut short reads the same whichever way a
request went; and one reading of an error status and its body (`status_error`).
"""

from __future__ import annotations

import asyncio
import re
import ssl
from typing import Final, TypeVar

import aiohttp
import msgspec

from ..errors import (
    ClientClosed,
    DockerConnectionError,
    DockerError,
    DockerStreamError,
    DockerTimeoutError,
    StreamCut,
    error_for_status,
)
from .base import CONNECT_TIMEOUT, BodyError

__all__ = [
    "BODY",
    "CONNECT",
    "FAILURES",
    "REQUEST",
    "STREAM",
    "closed_error",
    "failure",
    "message_of",
    "status_error",
]

# Where an exchange was when it failed: opening the connection, sending the request and
# waiting for the response's head, reading a plain call's body whole, or reading a
# streamed body (or a hijacked connection) piece by piece.
CONNECT: Final = "connect"
REQUEST: Final = "request"
BODY: Final = "body"
STREAM: Final = "stream"

# What a transport lets `failure` map (anything else passes through untouched).
FAILURES: Final = (aiohttp.ClientError, OSError, EOFError, BodyError, asyncio.TimeoutError)

# What Go's TLS server answers a plain HTTP request, and what OpenSSL reports when a server
# refused the handshake over the client's certificate.
_PLAIN_TO_TLS: Final = "HTTP request to an HTTPS server"
_NO_CLIENT_CERT: Final = re.compile(r"CERTIFICATE_REQUIRED|BAD_CERTIFICATE|certificate required")
_TLS_HINT: Final = (
    " (the daemon closed the connection; a daemon run with --tlsverify does this"
    " when no valid client certificate is presented)"
)
# aiohttp 3.10+ says which timeouts were connecting (3.9, still supported, does not).
_CONNECT_TIMEOUTS: Final[tuple[type[BaseException], ...]] = tuple(
    t for t in (getattr(aiohttp, "ConnectionTimeoutError", None),) if isinstance(t, type)
)
_VERSION_PREFIX: Final = re.compile(r"/v[0-9]+\.[0-9]+(?=/)")


def where(method: str, target: str, host: str) -> str:
    """The request, for messages: "GET /containers/json on unix:///var/run/docker.sock"
    (without its version prefix and query)."""
    path = _VERSION_PREFIX.sub("", target.partition("?")[0], count=1)
    return f"{method} {path} on {host}"


def failure(
    exc: BaseException,
    *,
    host: str,
    tls: bool,
    method: str,
    target: str,
    phase: str,
    timeout: float | None,
    closed: bool = False,
) -> BaseException:
    """The error to raise for `exc`, raised at `phase` of a request to `target` on `host`
    (reached over TLS if `tls`); `exc` itself when it is not a failure of the exchange
    (the caller's own timeout around a stream, a cancellation, a bug). Every broken
    connection is a DockerConnectionError: ClientClosed once the client is `closed`,
    StreamCut in a stream."""
    if closed and isinstance(exc, FAILURES) and not isinstance(exc, asyncio.TimeoutError):
        return closed_error(host, where(method, target, host))
    if isinstance(exc, aiohttp.ClientConnectorError):
        reason = (
            exc.certificate_error
            if isinstance(exc, aiohttp.ClientConnectorCertificateError)
            else exc.os_error
        )
        return _not_sent(
            DockerConnectionError(f"cannot connect to the Docker daemon at {host}: {reason}")
        )
    if isinstance(exc, _CONNECT_TIMEOUTS) or (
        phase == CONNECT and isinstance(exc, asyncio.TimeoutError)
    ):
        return _not_sent(
            DockerTimeoutError(
                f"cannot connect to the Docker daemon at {host}: no connection within "
                f"{CONNECT_TIMEOUT:g} s"
            )
        )
    if phase == CONNECT and isinstance(exc, OSError):
        return _not_sent(
            DockerConnectionError(f"cannot connect to the Docker daemon at {host}: {exc}")
        )
    at = where(method, target, host)
    if isinstance(exc, asyncio.TimeoutError):
        if phase in (BODY, STREAM) and timeout is None:
            return exc  # not ours: the caller's own timeout, around a stream
        return DockerTimeoutError(f"{at} timed out after {timeout:g} s" if timeout else at)
    if isinstance(exc, aiohttp.ClientError):
        cause = exc.__cause__
        if isinstance(cause, OSError) and not isinstance(cause, ConnectionError | ssl.SSLError):
            return cause  # aiohttp wraps what the request body raised (a missing file)
        if isinstance(exc, aiohttp.ClientPayloadError) and phase == REQUEST:
            phase = BODY
    if not isinstance(exc, FAILURES):
        return exc
    text = str(exc) or type(exc).__name__
    if phase == STREAM:
        if isinstance(exc, BodyError):
            return DockerStreamError(f"{at}: {text}")
        return StreamCut(f"{at}: the daemon closed the stream before its end ({text})")
    if phase == BODY:
        return DockerConnectionError(
            f"{at}: the connection broke before the end of the response ({text})"
        )
    if isinstance(exc, BodyError):
        return DockerConnectionError(f"{at} failed: {text}")
    if _PLAIN_TO_TLS in text or (
        tls and isinstance(exc, OSError | aiohttp.ServerDisconnectedError | EOFError)
    ):
        return DockerConnectionError(_tls_trouble(host, at, text))
    return DockerConnectionError(f"{at} failed: {text}")


def closed_error(host: str, at: str = "") -> ClientClosed:
    """What a request or a stream of a closed client raises."""
    return ClientClosed(f"{at or host}: the client was closed")


def status_error(status: int, body: bytes, reason: str, host: str) -> DockerError:
    """The error a response's status says, with the daemon's message from its body. A TLS
    port's answer to plain HTTP says so instead."""
    message = message_of(body, reason or f"HTTP {status}")
    if _PLAIN_TO_TLS in message:
        return DockerConnectionError(_tls_trouble(host, "", message))
    return error_for_status(status, message)


def _tls_trouble(host: str, at: str, text: str) -> str:
    """One line for a connection that TLS broke: plain HTTP sent to a TLS port, or a
    handshake the daemon refused for want of a client certificate."""
    if _PLAIN_TO_TLS in text:
        return (
            f"{host} speaks TLS: pass tls=TLSConfig(...) (or tls=True to read "
            "DOCKER_CERT_PATH), or use an https:// URL"
        )
    if _NO_CLIENT_CERT.search(text):
        return (
            f"{at} failed: the daemon refused the TLS handshake for want of a valid "
            f"client certificate (TLSConfig(client_cert=(cert, key))): {text}"
        )
    return f"{at} failed: {text}{_TLS_HINT}"


class _ErrorBody(msgspec.Struct):
    message: str | None = None


_ERROR_DECODER: Final = msgspec.json.Decoder(_ErrorBody)


def message_of(raw: bytes, fallback: str) -> str:
    """The daemon's {"message": ...}, else the body's text, else `fallback`."""
    try:
        message = _ERROR_DECODER.decode(raw).message
    except msgspec.DecodeError:
        message = None
    return message or raw.decode("utf-8", "replace").strip() or fallback


_Unsent = TypeVar("_Unsent", DockerConnectionError, DockerTimeoutError)


def _not_sent(error: _Unsent) -> _Unsent:
    """`error`, marked as a request that reached no daemon (no connection was made)."""
    error.sent = False
    return error
