"""What the library's log records say about hosts, connections and requests, kept free of
secrets (see docs/logging.md for every logger and record).

The loggers are `aiodockerapi.versions`, `aiodockerapi.http`, `aiodockerapi.ssh`,
`aiodockerapi.resources.events` and `aiodockerapi.auth`; the package logger has only a NullHandler.
Records are made on negotiation, connections opening and closing, retries, reconnects,
ssh tunnels and credential helpers: never once per plain request.
"""

from __future__ import annotations

import logging
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

if TYPE_CHECKING:
    import aiohttp

    from .hosts import Host

__all__ = ["connection_kind", "pool_traces", "shown_url", "target_path"]

HTTP = logging.getLogger("aiodockerapi.http")


def shown_url(url: str) -> str:
    """`url` without a password it may carry (https://user:secret@host)."""
    if "@" not in url:
        return url
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.rpartition("@")
    user = netloc[0].partition(":")[0]
    return parts._replace(netloc=f"{user}:***@{netloc[2]}").geturl()


def target_path(target: str) -> str:
    """A request target without its query (a build's buildargs may hold secrets)."""
    return target.partition("?")[0]


def connection_kind(host: Host, socket_path: str | None) -> str:
    """How a connection to `host` is made: "unix socket PATH", "ssh tunnel (socket PATH)",
    "tcp" or "tcp with TLS"."""
    if socket_path is None:
        return "tcp with TLS" if host.ssl is not None else "tcp"
    if host.ssh:
        return f"ssh tunnel (socket {socket_path})"
    return f"unix socket {socket_path}"


def pool_traces(host: Host, kind: str) -> list[aiohttp.TraceConfig] | None:
    """aiohttp trace hooks that record the pool's new connections and aiohttp's resending of
    a request whose pooled connection the daemon had closed; None (no hooks, no cost) unless
    `aiodockerapi.http` logs at DEBUG when the pool opens."""
    if not HTTP.isEnabledFor(logging.DEBUG):
        return None
    import aiohttp

    url = shown_url(host.url)

    async def started(_: Any, ctx: SimpleNamespace, params: Any) -> None:
        ctx.request = f"{params.method} {params.url.path}"
        ctx.connections = 0

    async def created(_: Any, ctx: SimpleNamespace, __: Any) -> None:
        HTTP.debug("pooled connection to %s opened (%s) for %s", url, kind, ctx.request)
        connected(ctx)

    def connected(ctx: SimpleNamespace) -> None:
        ctx.connections += 1
        if ctx.connections > 1:
            # aiohttp sends an idempotent request once more when the pooled connection it
            # took was closed by the daemon before the answer came.
            HTTP.debug(
                "%s to %s sent again: the pooled connection was closed before it was answered",
                ctx.request,
                url,
            )

    async def reused(_: Any, ctx: SimpleNamespace, __: Any) -> None:
        connected(ctx)

    trace = aiohttp.TraceConfig()
    trace.on_request_start.append(started)
    trace.on_connection_create_end.append(created)
    trace.on_connection_reuseconn.append(reused)
    return [trace]
