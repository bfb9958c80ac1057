"""docker.nodes: Swarm nodes."""

from __future__ import annotations

from .transport import Resource

__all__ = ["Nodes"]


class Nodes(Resource):
    """Swarm nodes."""
