"""docker.services: swarm services, their updates, rollbacks and logs."""

from __future__ import annotations

import builtins
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, Literal

from .. import operations as ops
from ..bodies.streaming import Stream
from ..command_lists import check_service_spec
from ..models import (
    Frame,
    Service,
    ServiceCreateBody,
    ServiceCreateResponse,
    ServiceSpec,
    ServiceUpdateBody,
    ServiceUpdateResponse,
)
from ..params import Filters, Since
from .base import Resource
from .tasks import swarm_logs

if TYPE_CHECKING:
    from ..models import TaskProgress

__all__ = ["Services"]


def _auth(registry_auth: str | None) -> dict[str, str] | None:
    return None if registry_auth is None else {"X-Registry-Auth": registry_auth}


class Services(Resource):
    """Swarm services.

    A task's image is pulled by its node unless the spec names it by id (`sha256:...`): a
    tag makes the node ask the registry even when the image is already there.
    """

    async def list(
        self, *, filters: Filters | None = None, status: bool | None = None
    ) -> builtins.list[Service]:
        """GET /services: list services.

        Args:
            filters: keys `id`, `label`, `mode` ("replicated" or "global"), `name`.
            status: add each ServiceStatus (running and desired tasks).
        """
        req = ops.ServiceList(filters=filters, status=status)
        return await self._t.call(req, builtins.list[Service])

    async def create(
        self,
        spec: ServiceSpec | ServiceCreateBody | Mapping[str, Any],
        *,
        registry_auth: str | None = None,
    ) -> ServiceCreateResponse:
        """POST /services/create: create a service.

        Args:
            spec: a ServiceSpec, or a mapping in the API's names.
            registry_auth: the X-Registry-Auth header value, for pulling the service's image.
        """
        check_service_spec(spec)
        return await self._t.call(
            ops.ServiceCreate(), ServiceCreateResponse, body=spec, headers=_auth(registry_auth)
        )

    async def inspect(self, id: str, *, insert_defaults: bool = False) -> Service:
        """GET /services/{id}: a service's spec, version and state.

        Args:
            id: the service's id or name.
            insert_defaults: fill in the daemon's defaults for what the spec leaves out.
        """
        return await self._t.call(ops.ServiceInspect(id, insert_defaults=insert_defaults), Service)

    async def update(
        self,
        id: str,
        spec: ServiceSpec | ServiceUpdateBody | Mapping[str, Any],
        *,
        version: int,
        registry_auth_from: Literal["spec", "previous-spec"] | None = None,
        rollback: Literal["previous"] | None = None,
        registry_auth: str | None = None,
    ) -> ServiceUpdateResponse:
        """POST /services/{id}/update: replace the whole spec (fields left out are reset).

        Args:
            id: the service's id or name.
            spec: the new ServiceSpec, or a mapping in the API's names.
            version: `inspect(id).version.index`; a stale one is refused.
            registry_auth_from: where to take registry credentials from when `registry_auth` is
                not given: "spec" or "previous-spec".
            rollback: "previous" goes back to the previous spec instead.
            registry_auth: the X-Registry-Auth header value, for pulling the service's image.
        """
        check_service_spec(spec)
        req = ops.ServiceUpdate(
            id, version=version, registry_auth_from=registry_auth_from, rollback=rollback
        )
        return await self._t.call(
            req, ServiceUpdateResponse, body=spec, headers=_auth(registry_auth)
        )

    async def delete(self, id: str) -> None:
        """DELETE /services/{id}: its tasks are stopped and removed in the background.

        Args:
            id: the service's id or name.
        """
        await self._t.call(ops.ServiceDelete(id))

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
        """GET /services/{id}/logs: all its tasks' output as frames (stdout or stderr).

        Args:
            id: the service's id or name.
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
            ops.ServiceLogs,
            id,
            details=details,
            follow=follow,
            stdout=stdout,
            stderr=stderr,
            since=since,
            timestamps=timestamps,
            tail=tail,
        )

    async def scale(self, id: str, replicas: int) -> ServiceUpdateResponse:
        """Set a replicated service's replica count: inspect, then update at that version.

        The spec is sent back as the daemon gave it, fields this client has no model for
        included.

        Args:
            id: the service's id or name.
            replicas: the number of tasks to run.
        """
        if isinstance(replicas, bool) or not isinstance(replicas, int):
            raise TypeError(f"replicas must be an int, not {type(replicas).__name__}")
        if replicas < 0:
            raise ValueError(f"replicas must be 0 or more, not {replicas}")
        service = await self._t.call(ops.ServiceInspect(id), dict[str, Any])
        spec: dict[str, Any] = service.get("Spec") or {}
        mode: dict[str, Any] = spec.get("Mode") or {}
        if "Replicated" not in mode:
            kind = ", ".join(mode) or "unknown"
            raise ValueError(f"service {id!r} is not replicated (mode: {kind}); cannot scale it")
        mode["Replicated"] = {**(mode["Replicated"] or {}), "Replicas": replicas}
        version = (service.get("Version") or {}).get("Index")
        if not isinstance(version, int):
            raise ValueError(f"service {id!r} came back without a version")
        return await self.update(id, spec, version=version)

    async def wait_converged(
        self,
        id: str,
        *,
        timeout: float | None = None,
        on_progress: Callable[[builtins.list[TaskProgress]], object] | None = None,
        rollback: bool = False,
    ) -> Service:
        """Wait until the service's latest create, update or rollback has converged: its
        UpdateStatus "completed" (or none, for a fresh create or a change its tasks don't
        see) and its desired tasks running the current spec; for a job, its current
        iteration's completions done. Gives the service as it then is.

        Raises ServiceUpdateError when the update pauses ("paused", "rollback_paused") or
        rolls back ("rollback_completed", unless the rollback was asked for), naming the
        failing tasks' errors; DockerTimeoutError after `timeout`. It polls (5 times a
        second) and goes on through a 503 of managers electing a new leader; through a
        `Managers` client it also carries on past a lost manager.

        Args:
            id: the service's id or name.
            timeout: seconds to wait at most (None: no bound).
            on_progress: called with a TaskProgress per task slot (a node for a global
                service) whenever one changes.
            rollback: the awaited change is a rollback you asked for, so "rollback_completed"
                is its success (found out by itself while the rollback is still running).
        """
        from .service_rollouts import wait_converged

        return await wait_converged(
            self._t, id, timeout=timeout, on_progress=on_progress, rollback=rollback
        )
