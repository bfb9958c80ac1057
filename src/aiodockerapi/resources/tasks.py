"""docker.tasks: the tasks that swarm services schedule, and their logs."""

from __future__ import annotations

import builtins
from typing import Literal

from .. import operations as ops
from ..bodies.streaming import Stream
from ..models import Frame, Task
from ..operation import Operation
from ..params import Filters, Since, log_streams, time_param
from ..transport import Transport
from .base import Resource

__all__ = ["Tasks"]


def swarm_logs(
    transport: Transport,
    op: Operation,
    id: str,
    *,
    details: bool,
    follow: bool,
    stdout: bool | None,
    stderr: bool | None,
    since: Since | None,
    timestamps: bool,
    tail: int | Literal["all"] | None,
) -> Stream[Frame]:
    """The logs of a service or a task (`op` is ServiceLogs or TaskLogs), as frames."""
    stdout, stderr = log_streams(stdout, stderr)
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
    return Stream(transport.stream_frames(req))


class Tasks(Resource):
    """Swarm tasks: one per replica (and per attempt) of a service."""

    async def list(self, *, filters: Filters | None = None) -> builtins.list[Task]:
        """GET /tasks: list swarm tasks.

        Args:
            filters: keys `desired-state` ("running", "shutdown" or "accepted"), `id`, `label`,
                `name`, `node`, `service`.
        """
        return await self._t.call(ops.TaskList(filters=filters), builtins.list[Task])

    async def inspect(self, id: str) -> Task:
        """GET /tasks/{id}: a task's spec, status and assigned node.

        Args:
            id: the task's id.
        """
        return await self._t.call(ops.TaskInspect(id), Task)

    def logs(
        self,
        id: str,
        *,
        details: bool = False,
        follow: bool = False,
        stdout: bool | None = None,
        stderr: bool | None = None,
        since: Since | None = None,
        timestamps: bool = False,
        tail: int | Literal["all"] | None = None,
    ) -> Stream[Frame]:
        """GET /tasks/{id}/logs as frames; frame.stream tells stdout from stderr.

        Args:
            id: the task's id.
            details: add the extra attributes given to the log driver to each line.
            follow: keep the stream open and yield new output as it comes.
            stdout: include standard output. Name neither stream for both, one True for that
                one alone, one False for the other alone; both False is a ValueError.
            stderr: include standard error.
            since: only output from this time on (a datetime, Unix seconds or a time string).
            timestamps: start each line with its timestamp.
            tail: only this many lines from the end ("all", the default, for every line).
        """
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
