"""Docker: one daemon, its resources wired to one transport."""

from __future__ import annotations

from collections.abc import Sequence
from types import TracebackType

from .configs import Configs
from .containers import Containers
from .distribution import Distribution
from .exec import Exec
from .hosts import TLSConfig
from .http.base import HTTPTransport
from .images import Images
from .networks import Networks
from .nodes import Nodes
from .plugins import Plugins
from .secrets import Secrets
from .services import Services
from .session import Session
from .swarm import Swarm
from .system import System
from .tasks import Tasks
from .transport import DEFAULT_TIMEOUT, Transport
from .volumes import Volumes

__all__ = ["Docker"]


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
        self.system = System(self.transport)
        self.containers = Containers(self.transport)
        self.images = Images(self.transport)
        self.exec = Exec(self.transport)
        self.networks = Networks(self.transport)
        self.volumes = Volumes(self.transport)
        self.swarm = Swarm(self.transport)
        self.services = Services(self.transport)
        self.tasks = Tasks(self.transport)
        self.nodes = Nodes(self.transport)
        self.secrets = Secrets(self.transport)
        self.configs = Configs(self.transport)
        self.plugins = Plugins(self.transport)
        self.distribution = Distribution(self.transport)
        self.session = Session(self.transport)

    @property
    def host(self) -> str:
        """The daemon's address, as given or resolved (a context's, DOCKER_HOST's...)."""
        return self.transport.host

    @property
    def api_version(self) -> str | None:
        """The API version in use, once pinned or negotiated."""
        return self.transport.api_version

    async def close(self) -> None:
        """Close every connection; the client can't be used afterwards."""
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
