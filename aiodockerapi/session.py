"""docker.session: BuildKit sessions."""

from __future__ import annotations

from .transport import Resource

__all__ = ["Session"]


class Session(Resource):
    """BuildKit sessions."""
