"""docker.secrets: Swarm secrets."""

from __future__ import annotations

from .transport import Resource

__all__ = ["Secrets"]


class Secrets(Resource):
    """Swarm secrets."""
