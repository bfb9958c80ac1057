"""docker.tasks: the tasks that swarm services schedule, and their logs."""

from __future__ import annotations

import builtins
from collections.abc import AsyncGenerator
from typing import Literal

from . import operations as ops
from .models import Frame, Task
from .operation import Operation
from .params import Filters, Since, time_param
from .resource import Resource
from .transport import Transport

__all__ = ["Tasks"]


def swarm_logs(
    transport: Transport,
    op: Operation,
    id: str,
    *,
    details: bool,
    follow: bool,
    stdout: bool,
    stderr: bool,
    since: Since | None,
    timestamps: bool,
    tail: int | Literal["all"] | None,
) -> AsyncGenerator[Frame, None]:
    """The logs of a service or a task (`op` is ServiceLogs or TaskLogs), as frames."""
    req = op(
        id,
        details=details,
        follow=follow,
        stdout=stdout,
        stderr=stderr,
        since=time_param(since),
        timestamps=timestamps,
        tail=tail,
    )
    return transport.stream_frames(req)


class Tasks(Resource):
    """Swarm tasks: one per replica (and per attempt) of a service."""

    async def list(self, *, filters: Filters | None = None) -> builtins.list[Task]:
        """GET /tasks; filters: desired-state, id, label, name, node, service."""
        return await self._t.call(ops.TaskList(filters=filters), builtins.list[Task])

    async def inspect(self, id: str) -> Task:
        """GET /tasks/{id}."""
        return await self._t.call(ops.TaskInspect(id), Task)

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
        return swarm_logs(
            self._t,
            ops.TaskLogs,
            id,
            details=details,
            follow=follow,
            stdout=stdout,
            stderr=stderr,
            since=since,
            timestamps=timestamps,
            tail=tail,
        )
