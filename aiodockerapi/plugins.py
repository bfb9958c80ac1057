"""docker.plugins: Plugins."""

from __future__ import annotations

from .transport import Resource

__all__ = ["Plugins"]


class Plugins(Resource):
    """Plugins."""
