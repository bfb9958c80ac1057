"""docker.exec: Exec instances."""

from __future__ import annotations

from .transport import Resource

__all__ = ["Exec"]


class Exec(Resource):
    """Exec instances."""
