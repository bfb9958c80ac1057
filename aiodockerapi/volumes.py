"""docker.volumes: Volumes."""

from __future__ import annotations

from .transport import Resource

__all__ = ["Volumes"]


class Volumes(Resource):
    """Volumes."""
