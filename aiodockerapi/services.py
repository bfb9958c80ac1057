"""docker.services: Swarm services."""

from __future__ import annotations

from .transport import Resource

__all__ = ["Services"]


class Services(Resource):
    """Swarm services."""
