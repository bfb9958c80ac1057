"""A client of a swarm through several of its managers: it carries on while one is lost."""

from __future__ import annotations

from collections.abc import Sequence

from .client import Docker
from .errors import DockerError
from .hosts import TLSConfig
from .http.base import DEFAULT_TIMEOUT
from .http.failover import FailoverTransport
from .models import Node

__all__ = ["Managers"]


class Managers(Docker):
    """A Docker client over several endpoints of one swarm's managers.

    Every resource works as with `Docker`; each request goes to the manager that answered
    last, and to the next one when that one cannot be reached: a refused connection moves
    any request on (it reached no daemon); a connection broken after sending moves a read
    (GET, HEAD) on, while a write raises DockerConnectionError (it may have been done), and
    the next request starts at the next manager. Error statuses are answers: a manager that
    answers 503 because the swarm has no leader yet is not skipped.

    `host` is the endpoint that answered the latest request; `members` holds a client of
    each endpoint on its own (sharing the connections). The API version is negotiated once,
    with the first manager that answers: the managers should run the same engine, or pin
    `api_version`.
    """

    def __init__(
        self,
        hosts: Sequence[str],
        *,
        tls: TLSConfig | bool | None = None,
        api_version: str | None = None,
        timeout: float | None = DEFAULT_TIMEOUT,
        pool_size: int = 100,
        ssh_options: Sequence[str] = (),
    ) -> None:
        if isinstance(hosts, str) or not hosts or not all(isinstance(h, str) and h for h in hosts):
            raise ValueError(f"hosts must be a non-empty list of daemon addresses, not {hosts!r}")
        self.members: list[Docker] = [
            Docker(
                host,
                tls=tls,
                api_version=api_version,
                timeout=timeout,
                pool_size=pool_size,
                ssh_options=ssh_options,
            )
            for host in hosts
        ]
        self._failover = FailoverTransport(
            [m.transport.http for m in self.members], [m.host for m in self.members]
        )
        super().__init__(
            self.members[0].host,
            tls=tls,
            api_version=api_version,
            timeout=timeout,
            transport=self._failover,
        )

    @property
    def host(self) -> str:
        """The endpoint that answered the latest request (the first one before any)."""
        return self._failover.answered

    async def leader(self) -> Node:
        """The node that leads the swarm's managers now (its ManagerStatus.Leader)."""
        for node in await self.nodes.list(filters={"role": "manager"}):
            if node.manager_status is not None and node.manager_status.leader:
                return node
        raise DockerError(None, "the swarm has no leader right now")

    async def leader_member(self) -> Docker | None:
        """The member client whose daemon is the leader (None if none of them is)."""
        leader = await self.leader()
        for member in self.members:
            try:
                info = await member.system.info()
            except DockerError:
                continue
            if info.swarm is not None and info.swarm.node_id == leader.id:
                return member
        return None

    async def close(self) -> None:
        await super().close()
        for member in self.members:
            await member.close()

    async def __aenter__(self) -> Managers:
        return self

    def __repr__(self) -> str:
        return f"Managers({[m.host for m in self.members]!r})"
