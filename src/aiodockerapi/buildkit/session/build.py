"""A build with its session: what `docker.images.build(context, version="2", secrets=...,
ssh=..., output=...)` runs. The session opens before `POST /build?session=<id>` and closes
once the build's stream ends, fails or is left (one session per build)."""

from __future__ import annotations

import hashlib
import os
from collections.abc import AsyncGenerator, Mapping
from contextlib import aclosing
from typing import TYPE_CHECKING, Any

import anyio.to_thread

from ...errors import DockerError
from ...models import BuildInfo
from .authservice import AuthService
from .connection import Servable, Session
from .deps import require_grpclib
from .secrets import Secrets, SecretsService
from .sshforward import SSHAgents, SSHService

if TYPE_CHECKING:
    from ...auth import AuthInput
    from ...http.base import Body
    from ...operation import Request
    from ...transport import Transport
    from .filesend import LocalExport, TarExport

__all__ = ["CLIENT_SESSION", "SessionOptions", "session_build"]

CLIENT_SESSION = "client-session"
"""The `remote` of a build whose context the daemon pulls over the session (FileSync)."""


class SessionOptions:
    """What a build serves over its session: secrets, ssh agents, registry credentials, a
    directory context, an export, and any further services. Types and values are checked
    when the build is made; files, sockets and the export's destination when its stream
    starts, off the event loop, before any request."""

    def __init__(
        self,
        *,
        secrets: Mapping[str, Any] | None = None,
        ssh: Mapping[str, Any] | None = None,
        auth_configs: Mapping[str, AuthInput] | None = None,
        output: Mapping[str, Any] | None = None,
        dockerfile: str | None = None,
        services: list[Servable] | None = None,
        shared_key: str | None = None,
    ) -> None:
        require_grpclib()
        self.secrets = secrets if isinstance(secrets, Secrets) else Secrets(secrets)
        self.ssh = ssh if isinstance(ssh, SSHAgents) else SSHAgents(ssh)
        self.auth = AuthService(auth_configs)
        self.services = list(services or ())
        self.shared_key = shared_key
        self.outputs: str | None = None
        self.export: LocalExport | TarExport | None = None
        if output is not None:
            from .outputs import export_of

            self.outputs, self.export = export_of(output)
        self.context: str | None = None
        self.dockerfile = dockerfile or "Dockerfile"

    def use_context(self, directory: str) -> None:
        """Serve `directory` (and its Dockerfile) as the build's context over FileSync."""
        self.context = os.path.abspath(directory)
        if self.shared_key is None:
            # The daemon keeps a synced directory by this key: the same directory again
            # sends only what changed, as the docker CLI's key (a hash of the path) does.
            self.shared_key = hashlib.sha256(self.context.encode()).hexdigest()[:32]

    def __repr__(self) -> str:
        return (
            f"SessionOptions(secrets={self.secrets!r}, ssh={self.ssh!r}, "
            f"context={self.context!r}, outputs={self.outputs!r})"
        )

    @property
    def dockerfile_name(self) -> str:
        """The Dockerfile's name in the directory synced as "dockerfile" (/build's dockerfile)."""
        return os.path.basename(self.dockerfile)

    def _prepare(self) -> list[Servable]:
        """Check files, sockets and the export's destination; the services that need them."""
        for key, path in self.secrets.files().items():
            if not path.is_file():
                raise ValueError(f"secret {key!r}: {path} is not a readable file")
        self.ssh.check()
        services: list[Servable] = []
        if self.export is not None:
            from .filesend import FileSendService

            self.export.check()
            services.append(FileSendService([self.export]))
        if self.context is not None:
            from .filesync import FileSyncService, context_dirs

            services.append(FileSyncService(context_dirs(self.context, self.dockerfile)))
        return services

    async def session(self) -> Session:
        """A session serving all of it (checks run off the event loop)."""
        services: list[Servable] = [self.auth, *self.services]
        services += await anyio.to_thread.run_sync(self._prepare)
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
    context: object = None,
    needed: bool = True,
) -> AsyncGenerator[BuildInfo, None]:
    """The build's messages, with its session open for as long as they come.

    A `context` that is a directory's path goes over the session (FileSync) instead of
    `data`. When the session is not `needed` for anything else, a context that is not a
    directory, or a session the transport or daemon cannot open (a mock, Podman), makes it a
    plain build with `data` as its body."""
    directory: str | None = None
    if isinstance(context, (str, os.PathLike)):
        path = os.fsdecode(os.fspath(context))
        if await anyio.to_thread.run_sync(os.path.isdir, path):
            directory = path
    session = None
    if directory is not None or needed:
        if directory is not None:
            options.use_context(directory)
        session = await options.session()
        try:
            await session.open(t)
        except BaseException as exc:
            await session.aclose()
            refused = isinstance(exc, NotImplementedError) or (
                isinstance(exc, DockerError) and exc.status is not None
            )
            if needed or not refused:
                raise
            session = None
    try:
        if session is not None:
            if directory is not None:
                if data is not None and hasattr(data, "aclose"):
                    await data.aclose()
                data = None
                params = [(k, v) for k, v in req.params or () if k != "dockerfile"]
                req = req._replace(params=params).with_param("remote", [CLIENT_SESSION])
                req = req.with_param("dockerfile", [options.dockerfile_name])
            req = req.with_param("session", [session.id])
        stream = t.stream_json(req, BuildInfo, in_band_errors=True, data=data, headers=headers)
        async with aclosing(stream):
            async for item in stream:
                yield item
    finally:
        if session is not None:
            await session.aclose()
