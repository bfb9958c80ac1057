"""docker.system: ping, version, info, events, disk usage."""

from __future__ import annotations

import builtins
from collections.abc import AsyncGenerator
from typing import TYPE_CHECKING, Literal

from .. import operations as ops
from ..bodies.streaming import Stream
from ..models import (
    EventMessage,
    PingResponse,
    SystemAuthResponse,
    SystemDataUsageResponse,
    SystemInfo,
    SystemVersion,
)
from ..params import Filters, Since, time_param
from .base import Resource
from .events import Headers, follow_events

if TYPE_CHECKING:
    from ..auth import AuthInput

__all__ = ["DataUsageType", "System"]

DataUsageType = Literal["container", "image", "volume", "build-cache"]


class System(Resource):
    """Daemon-wide operations."""

    async def ping(self) -> PingResponse:
        """GET /_ping: is the daemon up, and what does it speak."""
        return await self._ping("GET")

    async def ping_head(self) -> PingResponse:
        """HEAD /_ping: the same answer without a body."""
        return await self._ping("HEAD")

    async def _ping(self, method: str) -> PingResponse:
        req = ops.SystemPing() if method == "GET" else ops.SystemPingHead()
        async with self._t.open_stream(req, versioned=False) as resp:
            h = resp.headers
            await resp.read()
        return PingResponse(
            api_version=h.get("Api-Version"),
            os_type=h.get("OSType"),
            experimental=h.get("Docker-Experimental", "").lower() == "true",
            builder_version=h.get("Builder-Version"),
            swarm=h.get("Swarm"),
        )

    async def auth(self, auth_config: AuthInput) -> SystemAuthResponse:
        """POST /auth: check credentials with their registry; a refused login raises DockerError.

        Args:
            auth_config: the credentials, with serveraddress for the registry (Docker Hub when
                left out).
        """
        from ..auth import as_auth_config  # credentials load with the first login

        return await self._t.call(
            ops.SystemAuth(), SystemAuthResponse, body=as_auth_config(auth_config)
        )

    async def version(self) -> SystemVersion:
        """GET /version: the daemon's version, API versions, OS and components."""
        return await self._t.call(ops.SystemVersion(), SystemVersion)

    async def info(self) -> SystemInfo:
        """GET /info: the daemon's system-wide information and configuration."""
        return await self._t.call(ops.SystemInfo(), SystemInfo)

    async def data_usage(
        self, *, type: builtins.list[DataUsageType] | None = None, verbose: bool | None = None
    ) -> SystemDataUsageResponse:
        """GET /system/df: space used by images, containers, volumes and the build cache.

        Args:
            type: only these object types: "container", "image", "volume", "build-cache"
                (API 1.42+).
            verbose: list each object, not only the totals (API 1.52+).
        """
        req = ops.SystemDataUsage(type=type, verbose=verbose)
        return await self._t.call(req, SystemDataUsageResponse, timeout=None)

    def events(
        self,
        *,
        since: Since | None = None,
        until: Since | None = None,
        filters: Filters | None = None,
        resume: bool = False,
    ) -> Stream[EventMessage]:
        """GET /events: follow the daemon's events; the stream ends at `until`, or when the
        daemon ends it. A connection that breaks first raises StreamCut (unless `resume`).
        `async with` it to subscribe before the block runs (see Stream).

        Args:
            since: events from this time on (a datetime, Unix seconds or a time string).
            until: stop at this time; without it the stream goes on.
            filters: keys `config`, `container`, `daemon`, `event`, `image`, `label`, `network`,
                `node`, `plugin`, `scope`, `secret`, `service`, `type`, `volume`.
            resume: after a dropped connection or a daemon restart, reconnect from the last
                event's time (before the first event: from `since`, or from the daemon's time
                when the stream first connected), losing and repeating nothing that the
                daemon still holds (see docs/streams.md).
        """
        end = time_param(until)  # bad input fails here, not later
        if not resume:
            req = ops.SystemEvents(since=time_param(since), until=end, filters=filters)
            return Stream(self._t.stream_json(req, EventMessage))
        ops.SystemEvents(filters=filters)  # bad filters fail here, not later

        def open_stream(
            start: str | None, on_headers: Headers | None
        ) -> AsyncGenerator[EventMessage, None]:
            req = ops.SystemEvents(since=start, until=end, filters=filters)
            return self._t.stream_json(req, EventMessage, on_headers=on_headers)

        return Stream(follow_events(open_stream, since, until, host=self._t.host))

    def event_batches(
        self,
        *,
        since: Since | None = None,
        until: Since | None = None,
        filters: Filters | None = None,
    ) -> AsyncGenerator[builtins.list[EventMessage], None]:
        """`events` (without resume) in lists: the events each read of the connection
        completed, for a consumer that merges many daemons' events (Fleet.events)."""
        req = ops.SystemEvents(since=time_param(since), until=time_param(until), filters=filters)
        return self._t.stream_json_batches(req, EventMessage)
