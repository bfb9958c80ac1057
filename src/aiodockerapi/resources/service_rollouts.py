"""Waiting for a swarm service's latest create, update or rollback to converge.

What swarm tells, and when (as found on dockerd 20.10 to 28.5):

* An update resets the service's UpdateStatus to none; the orchestrator sets "updating" once
  it starts replacing tasks, and "completed" only after the last new task has run for the
  update's Monitor period (5 s by default). Counting running tasks alone declares success
  too early, and an UpdateStatus of none right after an update means "not started yet".
* An update that changes nothing in the tasks (a new replica count) never gets an
  UpdateStatus: its tasks are then what tells.
* A failing update pauses ("paused"), or rolls back ("rollback_started", then
  "rollback_completed" or "rollback_paused") by its FailureAction. A rollback asked for
  (update with rollback="previous") starts at once as "rollback_started" with the message
  "manually requested rollback"; its "rollback_completed" is then success.
* GET /tasks takes a filter `_up-to-date` (the one `docker service update` waits with): only
  the tasks whose spec is the service's current one.
* While the managers elect a new leader (one was lost) they answer 503, or 500 for a raft
  request that timed out meanwhile: polls go on.
* An update that rolled back by its FailureAction says "rollback_completed" before all the
  rolled-back tasks run: the error is raised once they do.
* A global service's DesiredTasks is 0 until its tasks were made, right after its creation.
* A job (replicated-job, global-job) runs anew with each JobIteration; it is done when that
  iteration's tasks completed.
"""

from __future__ import annotations

import builtins
import datetime as dt
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

import anyio

from .. import operations as ops
from ..errors import DockerTimeoutError, ServerError, ServiceUpdateError
from ..models import Node, Service, Task, TaskProgress

if TYPE_CHECKING:
    from ..transport import Transport

__all__ = ["TaskProgress", "wait_converged"]

POLL_SECONDS = 0.2
_MANUAL_ROLLBACK = "manually requested rollback"
_FAILED = ("failed", "rejected", "orphaned")
_UNFINISHED = ("updating", "rollback_started")


def _when(stamp: str | None) -> dt.datetime | None:
    """An API timestamp (RFC 3339, nanoseconds) as a datetime; None if absent or odd."""
    if not stamp:
        return None
    text = stamp.replace("Z", "+00:00")
    head, dot, rest = text.partition(".")
    if dot:
        digits = "".join(c for c in rest if c.isdigit())
        text = f"{head}.{digits[:6]}{rest[len(digits) :]}"
    try:
        return dt.datetime.fromisoformat(text)
    except ValueError:
        return None


def _newest_per_slot(tasks: Sequence[Task]) -> builtins.list[TaskProgress]:
    newest: dict[tuple[int | None, str | None], Task] = {}
    for task in tasks:
        key = (task.slot, None) if task.slot else (None, task.node_id)
        seen = newest.get(key)
        if seen is None or (task.created_at or "") > (seen.created_at or ""):
            newest[key] = task
    out = []
    for (slot, _), task in sorted(newest.items(), key=lambda kv: (kv[0][0] or 0, kv[0][1] or "")):
        status = task.status
        out.append(
            TaskProgress(
                slot=slot,
                node_id=task.node_id,
                task_id=task.id or "",
                desired_state=task.desired_state or "",
                state=(status.state if status else None) or "",
                message=(status.message if status else None) or "",
                error=(status.err if status else None) or None,
            )
        )
    return out


class _Watch:
    """One wait: the service's id, and what it saw so far."""

    def __init__(self, transport: Transport, service_id: str, rollback: bool) -> None:
        self.t = transport
        self.id = service_id
        self.rollback_asked = rollback
        self.last: builtins.list[TaskProgress] | None = None
        self.state: str | None = None
        self.summary = "no poll yet"
        self.why_rollback: str | None = None  # rollback_started's message, lost after it

    async def service(self) -> Service:
        found = await self.t.call(
            ops.ServiceList(filters={"id": [self.id]}, status=True), builtins.list[Service]
        )
        for service in found:
            if service.id == self.id:
                return service
        # Deleted meanwhile: inspect says so as NotFound.
        return await self.t.call(ops.ServiceInspect(self.id), Service)

    async def tasks(self, *, up_to_date: bool) -> builtins.list[Task]:
        filters: dict[str, builtins.list[str]] = {"service": [self.id]}
        if up_to_date:
            filters["_up-to-date"] = ["true"]
        return await self.t.call(ops.TaskList(filters=filters), builtins.list[Task])

    async def failure(self, service: Service, state: str) -> ServiceUpdateError:
        """The error for an update that paused or rolled back, with its tasks' errors."""
        status = service.update_status
        started = _when(status.started_at if status else None)
        errors: builtins.list[str] = []
        for task in await self.tasks(up_to_date=False):
            st = task.status
            if st is None or st.state not in _FAILED:
                continue
            created = _when(task.created_at)
            if started is not None and created is not None and created < started:
                continue
            text = st.err or st.message or st.state or ""
            where = f"slot {task.slot}" if task.slot else f"node {task.node_id}"
            entry = f"{task.id} ({where}): {text}"
            if entry not in errors:
                errors.append(entry)
        message = (status.message if status else None) or state
        if state == "rollback_completed" and self.why_rollback:
            message = f"{message} ({self.why_rollback})"
        return ServiceUpdateError(self.id, state, message, errors)

    async def converged(self, on_progress: Callable[[list[TaskProgress]], object] | None) -> bool:
        """One poll: True when converged; raises ServiceUpdateError on a failed update."""
        service = await self.service()
        status = service.update_status
        state = status.state if status else None
        self.state = state
        if state == "rollback_started" and status and status.message:
            self.why_rollback = status.message
            self.rollback_asked = self.rollback_asked or status.message == _MANUAL_ROLLBACK
        mode = service.spec.mode if service.spec else None
        job = mode is not None and (mode.replicated_job is not None or mode.global_job is not None)
        # The tasks first, so that on_progress sees the failures the error then names.
        if job:
            done = await self._job_done(service, on_progress)
        else:
            done = await self._running(service, on_progress)
        if state in ("paused", "rollback_paused"):
            raise await self.failure(service, state or "")
        if state == "rollback_completed" and not self.rollback_asked:
            # Raised once the rolled-back tasks run: swarm says completed before they all do,
            # and the caller should find the service as it was.
            if done:
                raise await self.failure(service, state)
            return False
        return done and state not in _UNFINISHED

    def _report(
        self, progress: builtins.list[TaskProgress], on_progress: Callable[..., object] | None
    ) -> None:
        if on_progress is not None and progress != self.last:
            on_progress(progress)
        self.last = progress

    async def _running(self, service: Service, on_progress: Callable[..., object] | None) -> bool:
        current = await self.tasks(up_to_date=True)
        # A slot shows its newest task: one that failed too (with its error), until replaced.
        self._report(
            [
                p
                for p in _newest_per_slot(current)
                if p.desired_state == "running" or p.state in _FAILED
            ],
            on_progress,
        )
        tasks = [t for t in current if t.desired_state == "running"]
        counts = service.service_status
        desired = (counts.desired_tasks if counts else None) or 0
        mode = service.spec.mode if service.spec else None
        if mode is not None and mode.global_ is not None:
            desired = max(desired, await self._global_floor(service))
        running = sum(1 for t in tasks if t.status is not None and t.status.state == "running")
        self.summary = f"{running} of {desired} tasks running, update state {self.state}"
        return running >= desired

    async def _global_floor(self, service: Service) -> int:
        """How many tasks a global service needs at least: its DesiredTasks stays 0 until
        the orchestrator made them. One per ready, active node when nothing restricts the
        placement; else one (which nodes fit constraints is the scheduler's to say)."""
        template = service.spec.task_template if service.spec else None
        placement = template.placement if template else None
        if placement is not None and (placement.constraints or placement.platforms):
            return 1
        nodes = await self.t.call(ops.NodeList(), builtins.list[Node])
        return sum(
            1
            for n in nodes
            if n.status is not None
            and n.status.state == "ready"
            and n.spec is not None
            and n.spec.availability == "active"
        )

    async def _job_done(self, service: Service, on_progress: Callable[..., object] | None) -> bool:
        job = service.job_status
        iteration = job.job_iteration.index if job and job.job_iteration else None
        tasks = [
            t
            for t in await self.tasks(up_to_date=False)
            if (t.job_iteration.index if t.job_iteration else None) == iteration
        ]
        self._report(_newest_per_slot(tasks), on_progress)
        complete = sum(1 for t in tasks if t.status is not None and t.status.state == "complete")
        mode = service.spec.mode if service.spec else None
        if mode is not None and mode.replicated_job is not None:
            spec = mode.replicated_job
            wanted = spec.total_completions or spec.max_concurrent or 1
            self.summary = f"{complete} of {wanted} completions"
            return complete >= wanted
        # A global job: a task per eligible node, each to complete.
        self.summary = f"{complete} of {len(tasks)} tasks complete"
        return bool(tasks) and complete == len(tasks)


async def wait_converged(
    transport: Transport,
    service_id: str,
    *,
    timeout: float | None = None,  # noqa: ASYNC109 - its error says where the rollout was
    on_progress: Callable[[list[TaskProgress]], object] | None = None,
    rollback: bool = False,
) -> Service:
    """Poll until the service's latest create, update or rollback converged; give the
    service as it then is. See Services.wait_converged."""
    if not isinstance(service_id, str) or not service_id:
        raise ValueError(f"service_id must be a non-empty string, not {service_id!r}")
    if timeout is not None and (
        isinstance(timeout, bool) or not isinstance(timeout, int | float) or timeout <= 0
    ):
        raise ValueError(f"timeout must be a positive number of seconds or None, not {timeout!r}")
    if on_progress is not None and not callable(on_progress):
        raise TypeError(f"on_progress must be callable, not {type(on_progress).__name__}")
    watch: _Watch | None = None
    leaderless = ""
    with anyio.move_on_after(timeout) as scope:
        # Polled: swarm's events say nothing of a task's spec, and a stream would not
        # follow a client from a lost manager to the next.
        while True:
            try:
                if watch is None:
                    # A name is resolved once: polls then follow the service by its id.
                    service = await transport.call(ops.ServiceInspect(service_id), Service)
                    watch = _Watch(transport, service.id or service_id, rollback)
                if await watch.converged(on_progress):
                    return await watch.service()
            except ServerError as exc:
                if not _leaderless(exc):
                    raise
                leaderless = f"the swarm without a leader: {exc.message}"
                if watch is not None:
                    watch.summary = leaderless
            await anyio.sleep(POLL_SECONDS)
    assert scope.cancel_called
    summary = (
        watch.summary if watch is not None else leaderless or "the service was not found in time"
    )
    raise DockerTimeoutError(
        f"service {service_id} did not converge within {timeout:g} s ({summary})"
    )


def _leaderless(exc: ServerError) -> bool:
    """Whether a manager's error is the swarm between a lost leader and the next: 503 ("does
    not have a leader"), or a raft request that timed out meanwhile (500, "rpc error: code =
    DeadlineExceeded" or "Unavailable", as 20.10 answers under load)."""
    message = exc.message
    return (
        exc.status == 503
        or "leader" in message
        or "code = DeadlineExceeded" in message
        or "code = Unavailable" in message
    )
