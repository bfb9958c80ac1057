"""Docker: one daemon, its resources wired to one transport."""

from __future__ import annotations

import importlib
from collections.abc import Sequence
from types import TracebackType
from typing import TYPE_CHECKING, Any, Generic, TypeVar, overload

from .hosts import TLSConfig
from .http.base import HTTPTransport
from .transport import DEFAULT_TIMEOUT, Transport

if TYPE_CHECKING:
    from .resources.base import Resource
    from .resources.configs import Configs
    from .resources.containers import Containers
    from .resources.distribution import Distribution
    from .resources.exec import Exec
    from .resources.images import Images
    from .resources.networks import Networks
    from .resources.nodes import Nodes
    from .resources.plugins import Plugins
    from .resources.secrets import Secrets
    from .resources.services import Services
    from .resources.session import Session
    from .resources.swarm import Swarm
    from .resources.system import System
    from .resources.tasks import Tasks
    from .resources.volumes import Volumes

__all__ = ["Docker"]

R = TypeVar("R", bound="Resource")


class _OnFirstUse(Generic[R]):
    """A resource made on first use: its module, and the models it decodes into, are
    imported then, so `import aiodockerapi` pays only for what a script touches."""

    def __init__(self, module: str, name: str) -> None:
        self._module = module
        self._name = name
        self._attr = name.lower()

    def __set_name__(self, owner: type, attr: str) -> None:
        self._attr = attr

    @overload
    def __get__(self, docker: None, owner: type) -> _OnFirstUse[R]: ...
    @overload
    def __get__(self, docker: Docker, owner: type) -> R: ...
    def __get__(self, docker: Docker | None, owner: type) -> Any:
        if docker is None:
            return self
        cls = getattr(importlib.import_module(self._module, __package__), self._name)
        resource = cls(docker.transport)
        docker.__dict__[self._attr] = resource  # the instance's own attribute from now on
        return resource


class Docker:
    """A client for one Docker daemon.

    The daemon is `host` (unix://, tcp://, https:// or ssh://user@host), else the Docker
    context `context`, else DOCKER_HOST (with DOCKER_TLS_VERIFY and DOCKER_CERT_PATH), else
    DOCKER_CONTEXT or config.json's currentContext, else unix:///var/run/docker.sock. ssh://
    runs the system's ssh (so ~/.ssh/config, keys and agents apply, plus `ssh_options`) with
    `docker system dial-stdio` on the remote end, logging in once per client.
    DOCKER_API_VERSION or `api_version` pins the API version; otherwise it is negotiated on
    the first request. Creating a Docker needs no event loop;
    its connections are opened on first use and closed by `async with` or `close()`.
    `transport` replaces the HTTP layer (aiohttp's pool and sockets of its own) with any
    `aiodockerapi.http.HTTPTransport`, such as `aiodockerapi.testing.MockTransport`, which
    answers in memory.
    """

    system: _OnFirstUse[System] = _OnFirstUse(".resources.system", "System")
    containers: _OnFirstUse[Containers] = _OnFirstUse(".resources.containers", "Containers")
    images: _OnFirstUse[Images] = _OnFirstUse(".resources.images", "Images")
    exec: _OnFirstUse[Exec] = _OnFirstUse(".resources.exec", "Exec")
    networks: _OnFirstUse[Networks] = _OnFirstUse(".resources.networks", "Networks")
    volumes: _OnFirstUse[Volumes] = _OnFirstUse(".resources.volumes", "Volumes")
    swarm: _OnFirstUse[Swarm] = _OnFirstUse(".resources.swarm", "Swarm")
    services: _OnFirstUse[Services] = _OnFirstUse(".resources.services", "Services")
    tasks: _OnFirstUse[Tasks] = _OnFirstUse(".resources.tasks", "Tasks")
    nodes: _OnFirstUse[Nodes] = _OnFirstUse(".resources.nodes", "Nodes")
    secrets: _OnFirstUse[Secrets] = _OnFirstUse(".resources.secrets", "Secrets")
    configs: _OnFirstUse[Configs] = _OnFirstUse(".resources.configs", "Configs")
    plugins: _OnFirstUse[Plugins] = _OnFirstUse(".resources.plugins", "Plugins")
    distribution: _OnFirstUse[Distribution] = _OnFirstUse(".resources.distribution", "Distribution")
    session: _OnFirstUse[Session] = _OnFirstUse(".resources.session", "Session")

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
        transport: HTTPTransport | None = None,
    ) -> None:
        self.transport = Transport(
            host,
            context=context,
            tls=tls,
            api_version=api_version,
            timeout=timeout,
            pool_size=pool_size,
            ssh_options=ssh_options,
            http=transport,
        )

    @property
    def host(self) -> str:
        """The daemon's address, as given or resolved (a context's, DOCKER_HOST's...)."""
        return self.transport.host

    @property
    def api_version(self) -> str | None:
        """The API version in use, once pinned or negotiated."""
        return self.transport.api_version

    async def close(self) -> None:
        """Close every connection, streams included: a stream still running raises
        ClientClosed, as does any request made afterwards."""
        await self.transport.close()

    async def __aenter__(self) -> Docker:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    def __repr__(self) -> str:
        return f"Docker({self.host!r})"
