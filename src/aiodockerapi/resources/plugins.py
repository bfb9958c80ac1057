"""docker.plugins: install, configure, enable and share managed plugins."""

from __future__ import annotations

import builtins
from collections.abc import AsyncGenerator, Mapping, Sequence
from typing import Any

from .. import operations as ops
from ..auth import AuthInput, as_auth_config, registry_auth_header, with_headers
from ..bodies.build_context import BuildContext, open_context
from ..models import (
    CreateImageInfo,
    Plugin,
    PluginPrivilegeItem,
    PluginPullBodyItem,
    PluginUpgradeBodyItem,
    PushImageInfo,
)
from ..params import Filters
from .base import Resource

__all__ = ["Plugins", "Privileges"]

Privileges = Sequence[
    PluginPrivilegeItem | PluginPullBodyItem | PluginUpgradeBodyItem | Mapping[str, Any]
]
"""The privileges a plugin asks for, as `privileges()` returns them, accepted by the user."""


class Plugins(Resource):
    """Managed plugins: a rootfs and a config.json that the daemon runs as a service.

    Pulls, upgrades, pushes and privilege queries send `auth`, or else the Docker config's
    credentials for the registry the reference names (`auth={}` sends none).
    """

    async def list(self, *, filters: Filters | None = None) -> builtins.list[Plugin]:
        """GET /plugins: the installed plugins.

        Args:
            filters: keys `capability` and `enabled` (true or false).
        """
        return await self._t.call(ops.PluginList(filters=filters), builtins.list[Plugin])

    async def privileges(
        self, *, remote: str, auth: AuthInput | None = None
    ) -> builtins.list[PluginPrivilegeItem]:
        """GET /plugins/privileges: what a plugin asks for, read from its registry.

        dockerd 20.10 answers an empty list, not an error, when it cannot read the plugin
        (an unreachable registry, refused credentials, no such plugin).

        Args:
            remote: the plugin's reference, such as "vieux/sshfs:latest".
            auth: credentials for its registry.
        """
        credentials = None if auth is None else as_auth_config(auth)
        headers = await registry_auth_header(remote, credentials)
        return await self._t.call(
            ops.GetPluginPrivileges(remote=remote),
            builtins.list[PluginPrivilegeItem],
            headers=headers,
            timeout=None,
        )

    def pull(
        self,
        privileges: Privileges = (),
        *,
        remote: str,
        name: str | None = None,
        auth: AuthInput | None = None,
    ) -> AsyncGenerator[CreateImageInfo, None]:
        """POST /plugins/pull: install a plugin, disabled; yields progress. A failure
        reported mid-stream raises DockerStreamError.

        Args:
            privileges: what `privileges(remote=...)` returns; anything else is refused.
            remote: the plugin's reference, such as "vieux/sshfs:latest".
            name: the local name to install it as.
            auth: credentials for its registry.
        """
        credentials = None if auth is None else as_auth_config(auth)
        body = _privileges(privileges)
        req = ops.PluginPull(remote=remote, name=name)
        return with_headers(
            lambda: registry_auth_header(remote, credentials),
            lambda headers: self._t.stream_json(
                req, CreateImageInfo, in_band_errors=True, body=body, headers=headers
            ),
        )

    async def inspect(self, name: str) -> Plugin:
        """GET /plugins/{name}/json: a plugin's settings, config and state.

        Args:
            name: the plugin's name; ":latest" is assumed without a tag.
        """
        return await self._t.call(ops.PluginInspect(name), Plugin)

    async def delete(self, name: str, *, force: bool = False) -> None:
        """DELETE /plugins/{name}: remove a plugin.

        Args:
            name: the plugin's name.
            force: remove it even while enabled, which is otherwise a Conflict.
        """
        await self._t.call(ops.PluginDelete(name, force=force), timeout=None)

    async def enable(self, name: str, *, timeout: int = 0) -> None:
        """POST /plugins/{name}/enable: start it; the daemon waits until its socket listens.

        Args:
            name: the plugin's name.
            timeout: the daemon's timeout, in seconds, for its own requests to the plugin (0:
                none); the daemon refuses a request without it, so it is always sent.
        """
        await self._t.call(ops.PluginEnable(name, timeout=timeout), timeout=None)

    async def disable(self, name: str, *, force: bool = False) -> None:
        """POST /plugins/{name}/disable: stop a plugin.

        Args:
            name: the plugin's name.
            force: disable it even while in use (API 1.42+).
        """
        # The specs list `force` from API 1.42 on, but the daemon reads it on 1.41 too
        # (`docker plugin disable -f`): it is sent on any version.
        req = ops.PluginDisable(name)._replace(params=[("force", "1" if force else "0")])
        await self._t.call(req, timeout=None)

    def upgrade(
        self,
        name: str,
        privileges: Privileges = (),
        *,
        remote: str,
        auth: AuthInput | None = None,
    ) -> AsyncGenerator[CreateImageInfo, None]:
        """POST /plugins/{name}/upgrade: replace a disabled plugin by another version; its
        settings are kept; yields progress.

        Args:
            name: the installed plugin's name.
            privileges: the new version's, from `privileges(remote=...)`, as for `pull`.
            remote: the reference to upgrade to.
            auth: credentials for its registry.
        """
        credentials = None if auth is None else as_auth_config(auth)
        body = _privileges(privileges)
        req = ops.PluginUpgrade(name, remote=remote)
        return with_headers(
            lambda: registry_auth_header(remote, credentials),
            lambda headers: self._t.stream_json(
                req, CreateImageInfo, in_band_errors=True, body=body, headers=headers
            ),
        )

    async def create(self, source: BuildContext, *, name: str) -> None:
        """POST /plugins/create: install a plugin, disabled, from a tar of config.json and rootfs/.

        Args:
            source: the tar as bytes, a tar file's path, a plugin directory (tarred on the fly,
                like a build context), a binary file object or an async iterable of bytes.
            name: the plugin's name (and tag).
        """
        await self._t.call(
            ops.PluginCreate(name=name),
            data=open_context(source),
            headers={"Content-Type": "application/x-tar"},
            timeout=None,
        )

    def push(
        self, name: str, *, auth: AuthInput | None = None
    ) -> AsyncGenerator[PushImageInfo, None]:
        """POST /plugins/{name}/push: upload to the registry its name points at; yields
        progress. The last message's `aux` holds the pushed tag, digest and size.

        Args:
            name: the plugin's name.
            auth: credentials for the registry.
        """
        credentials = None if auth is None else as_auth_config(auth)
        req = ops.PluginPush(name)
        return with_headers(
            lambda: registry_auth_header(name, credentials),
            lambda headers: self._t.stream_json(
                req, PushImageInfo, in_band_errors=True, headers=headers
            ),
        )

    async def set(self, name: str, settings: Sequence[str]) -> None:
        """POST /plugins/{name}/set: change a disabled plugin's settable values.

        Args:
            name: the plugin's name.
            settings: each "VAR=value" (an env variable), "args=a b" (its arguments),
                "MOUNT.source=/path" or "DEVICE.path=/dev/x".
        """
        if isinstance(settings, str) or not isinstance(settings, Sequence):
            raise TypeError(f"settings must be a list of 'key=value' strings, not {settings!r}")
        for setting in settings:
            if not isinstance(setting, str) or "=" not in setting:
                raise ValueError(f"plugin setting {setting!r} is not a 'key=value' string")
        await self._t.call(ops.PluginSet(name), body=builtins.list(settings))


def _privileges(privileges: Privileges) -> list[Any]:
    if isinstance(privileges, str | bytes | Mapping) or not isinstance(privileges, Sequence):
        raise TypeError(f"privileges must be a list of privileges, not {privileges!r}")
    return list(privileges)
