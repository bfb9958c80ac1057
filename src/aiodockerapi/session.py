"""docker.session: BuildKit sessions, which aiodockerapi does not implement."""

from __future__ import annotations

from typing import NoReturn

from .errors import SessionNotSupported
from .resource import Resource

__all__ = ["Session"]


class Session(Resource):
    """BuildKit's interactive sessions: not supported; builds use the classic builder."""

    async def start(self) -> NoReturn:
        """POST /session: always raises SessionNotSupported, without sending a request.

        The endpoint only works as an HTTP/1.1 upgrade to h2c, on which the client then
        serves BuildKit's gRPC services (build context sync, secrets, registry auth) to the
        daemon for the length of a build. aiodockerapi speaks no gRPC, and a plain request
        gets nothing useful: dockerd 20.10 (API 1.41) answers it with 400 "no upgrade proto
        in request". Builds go through the classic builder instead: `images.build`.
        """
        raise SessionNotSupported(
            "BuildKit sessions (POST /session) are not supported by aiodockerapi: the endpoint "
            "upgrades the connection to h2c for BuildKit's gRPC services; build images with "
            "the classic builder, docker.images.build"
        )
