"""docker.session: a bare BuildKit session, which aiodockerapi does not open on its own (a
BuildKit build opens its own: aiodockerapi.buildkit.session)."""

from __future__ import annotations

from typing import NoReturn

from ..errors import SessionNotSupported
from .base import Resource

__all__ = ["Session"]


class Session(Resource):
    """A bare BuildKit session: not supported; `images.build(..., version="2")` opens one."""

    async def start(self) -> NoReturn:
        """POST /session: always raises SessionNotSupported, without sending a request.

        The endpoint only works as an HTTP/1.1 upgrade to h2c, on which the client then
        serves BuildKit's gRPC services (build context sync, secrets, registry auth) to the
        daemon for the length of a build. A session on its own is of no use: a BuildKit
        build (`images.build(..., version="2", secrets=..., ssh=..., output=...)`) opens its
        own and closes it when the build ends (aiodockerapi.buildkit.session).
        """
        raise SessionNotSupported(
            "a bare BuildKit session (POST /session) is not offered: "
            'docker.images.build(..., version="2") opens one for its build '
            "(secrets=, ssh=, output=, a directory context)"
        )
