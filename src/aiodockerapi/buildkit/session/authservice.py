"""Registry credentials over the session: `/moby.filesync.v1.Auth/Credentials`, which the
daemon asks when a build pulls from (or pushes to) a registry, answered from the credentials
given to the build, else from the Docker config and its credential helpers (auth.py).

The token methods (`FetchToken`, `GetTokenAuthority`, `VerifyTokenAuthority`) answer
UNIMPLEMENTED: BuildKit then falls back to Credentials and fetches its tokens itself.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import partial
from typing import TYPE_CHECKING, Any

from ...auth import DOCKER_HUB, AuthConfig, AuthInput, DockerConfig, as_auth_config, resolve_auth
from ...errors import CredentialsError

if TYPE_CHECKING:
    import os

    from grpclib.server import Stream

    from .auth_pb2 import CredentialsRequest, CredentialsResponse

__all__ = ["AuthService", "credentials_of"]

_PACKAGE = "/moby.filesync.v1.Auth/"
_TOKEN_METHODS = ("FetchToken", "GetTokenAuthority", "VerifyTokenAuthority")
_HUB_NAMES = frozenset({"docker.io", "index.docker.io", "registry-1.docker.io"})


def credentials_of(auth: AuthConfig | None) -> tuple[str, str]:
    """(username, secret) as BuildKit wants them: a login's identity token goes alone."""
    if auth is None:
        return "", ""
    if auth.identitytoken:
        return "", auth.identitytoken
    if auth.registrytoken:
        return "", auth.registrytoken
    return auth.username or "", auth.password or ""


class AuthService:
    """The session's Auth service. `auth_configs` (registry -> credentials) come first; other
    hosts are resolved from `config` (a DockerConfig or config.json path; default: the
    Docker CLI's), running a credential helper off the event loop when one is set."""

    def __init__(
        self,
        auth_configs: Mapping[str, AuthInput] | None = None,
        config: DockerConfig | str | os.PathLike[str] | None = None,
    ) -> None:
        self._given = {
            _host_of(registry): as_auth_config(auth)
            for registry, auth in (auth_configs or {}).items()
        }
        self._config = config

    def __repr__(self) -> str:
        return f"AuthService(registries={sorted(self._given)!r})"

    async def lookup(self, host: str) -> AuthConfig | None:
        """The credentials for `host` ("docker.io" meaning Docker Hub), or None."""
        found = self._given.get(_host_of(host))
        if found is not None:
            return found
        registry = DOCKER_HUB if host in _HUB_NAMES else host
        return await resolve_auth(registry, self._config)

    async def credentials(self, stream: Stream[CredentialsRequest, CredentialsResponse]) -> None:
        from grpclib import GRPCError, Status

        from .auth_pb2 import CredentialsResponse

        request = await stream.recv_message()
        host = request.Host if request is not None else ""
        try:
            auth = await self.lookup(host) if host else None
        except CredentialsError as exc:  # its message never holds a secret
            raise GRPCError(Status.UNAVAILABLE, str(exc)) from None
        username, secret = credentials_of(auth)
        await stream.send_message(CredentialsResponse(Username=username, Secret=secret))

    async def unimplemented(self, name: str, stream: Stream[Any, Any]) -> None:
        from grpclib import GRPCError, Status

        raise GRPCError(Status.UNIMPLEMENTED, f"{name} is not implemented")

    def __mapping__(self) -> dict[str, Any]:
        from grpclib.const import Cardinality, Handler

        from .auth_pb2 import CredentialsRequest, CredentialsResponse

        mapping = {
            _PACKAGE + "Credentials": Handler(
                self.credentials, Cardinality.UNARY_UNARY, CredentialsRequest, CredentialsResponse
            )
        }
        for name in _TOKEN_METHODS:
            # The request is never read, so its type does not matter.
            mapping[_PACKAGE + name] = Handler(
                partial(self.unimplemented, name),
                Cardinality.UNARY_UNARY,
                CredentialsRequest,
                CredentialsResponse,
            )
        return mapping


def _host_of(registry: str) -> str:
    """A registry key as the host BuildKit asks about ("docker.io" for Docker Hub)."""
    host = registry.strip()
    for scheme in ("https://", "http://"):
        if host.lower().startswith(scheme):
            host = host[len(scheme) :]
    host = host.split("/", 1)[0].lower()
    return "docker.io" if host in _HUB_NAMES else host
