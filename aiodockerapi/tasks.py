"""docker.tasks: the tasks that swarm services schedule, and their logs."""

from __future__ import annotations

import builtins
from collections.abc import AsyncGenerator
from typing import Literal

from .models import Frame, Task
from .params import Filters, Since, query, time_param
from .transport import Resource, q

__all__ = ["Tasks"]


class Tasks(Resource):
    """Swarm tasks: one per replica (and per attempt) of a service."""

    async def list(self, *, filters: Filters | None = None) -> builtins.list[Task]:
        """GET /tasks; filters: desired-state, id, label, name, node, service."""
        return await self._t.call(
            "GET", "/tasks", builtins.list[Task], params=query(filters=filters)
        )

    async def inspect(self, id: str) -> Task:
        """GET /tasks/{id}."""
        return await self._t.call("GET", f"/tasks/{q(id)}", Task)

    def logs(
        self,
        id: str,
        *,
        details: bool = False,
        follow: bool = False,
        stdout: bool = False,
        stderr: bool = False,
        since: Since | None = None,
        timestamps: bool = False,
        tail: int | Literal["all"] | None = None,
    ) -> AsyncGenerator[Frame, None]:
        """GET /tasks/{id}/logs as frames; frame.stream tells stdout from stderr."""
        params = query(
            details=details,
            follow=follow,
            stdout=stdout,
            stderr=stderr,
            since=time_param(since),
            timestamps=timestamps,
            tail=tail,
        )
        return self._t.stream_frames("GET", f"/tasks/{q(id)}/logs", params=params)
