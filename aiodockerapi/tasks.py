"""docker.tasks: Swarm tasks."""

from __future__ import annotations

from .transport import Resource

__all__ = ["Tasks"]


class Tasks(Resource):
    """Swarm tasks."""
