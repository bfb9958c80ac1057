"""docker.networks: Networks."""

from __future__ import annotations

from .transport import Resource

__all__ = ["Networks"]


class Networks(Resource):
    """Networks."""
