"""A build with its session: what `docker.images.build(..., version="2", secrets=...,
ssh=..., output=...)` runs. The session opens before `POST /build?session=<id>` and closes
once the build's stream ends, fails or is left (one session per build)."""

from __future__ import annotations

from collections.abc import AsyncGenerator, Mapping
from contextlib import aclosing
from typing import TYPE_CHECKING, Any

import anyio.to_thread

from ...models import BuildInfo
from ...params import with_param
from .authservice import AuthService
from .connection import Servable, Session
from .outputs import exporter
from .secrets import Secrets, SecretsService
from .sshforward import SSHAgents, SSHService

if TYPE_CHECKING:
    from ...auth import AuthInput
    from ...http.base import Body
    from ...operation import Request
    from ...transport import Transport

__all__ = ["SessionOptions", "session_build"]


class SessionOptions:
    """What a build serves over its session, checked when the build is made (before any
    request): secrets, ssh agents, registry credentials and any further services."""

    def __init__(
        self,
        *,
        secrets: Mapping[str, Any] | None = None,
        ssh: Mapping[str, Any] | None = None,
        auth_configs: Mapping[str, AuthInput] | None = None,
        output: Mapping[str, Any] | None = None,
        services: list[Servable] | None = None,
        shared_key: str | None = None,
    ) -> None:
        self.secrets = secrets if isinstance(secrets, Secrets) else Secrets(secrets)
        self.ssh = ssh if isinstance(ssh, SSHAgents) else SSHAgents(ssh)
        self.auth = AuthService(auth_configs)
        self.services = list(services or ())
        self.shared_key = shared_key
        self.outputs: str | None = None
        if output is not None:
            self.outputs, export = exporter(output)
            self.services.append(export)

    def __repr__(self) -> str:
        return f"SessionOptions(secrets={self.secrets!r}, ssh={self.ssh!r})"

    def _check_files(self) -> None:
        for key, path in self.secrets.files().items():
            if not path.is_file():
                raise ValueError(f"secret {key!r}: {path} is not a readable file")
        self.ssh.check()

    async def check(self) -> None:
        """Raise ValueError naming a secret's missing file or an agent's missing socket."""
        await anyio.to_thread.run_sync(self._check_files)

    def session(self) -> Session:
        services: list[Servable] = [self.auth, *self.services]
        if self.secrets:
            services.append(SecretsService(self.secrets))
        if self.ssh:
            services.append(SSHService(self.ssh))
        return Session(services, shared_key=self.shared_key)


async def session_build(
    t: Transport,
    req: Request,
    options: SessionOptions,
    *,
    data: Body,
    headers: Mapping[str, str],
) -> AsyncGenerator[BuildInfo, None]:
    """The build's messages, with its session open for as long as they come."""
    await options.check()
    session = options.session()
    async with session.opened(t):
        req = with_param(req, "session", [session.id])
        stream = t.stream_json(req, BuildInfo, in_band_errors=True, data=data, headers=headers)
        async with aclosing(stream):
            async for item in stream:
                yield item
