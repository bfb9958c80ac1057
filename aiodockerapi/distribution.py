"""docker.distribution: Registry distribution data."""

from __future__ import annotations

from .transport import Resource

__all__ = ["Distribution"]


class Distribution(Resource):
    """Registry distribution data."""
