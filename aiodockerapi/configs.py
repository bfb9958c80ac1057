"""docker.configs: Swarm configs."""

from __future__ import annotations

from .transport import Resource

__all__ = ["Configs"]


class Configs(Resource):
    """Swarm configs."""
