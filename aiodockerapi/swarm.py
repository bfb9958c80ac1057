"""docker.swarm: The swarm."""

from __future__ import annotations

from .transport import Resource

__all__ = ["Swarm"]


class Swarm(Resource):
    """The swarm."""
