"""Hand-written models for what the spec leaves untyped."""

from __future__ import annotations

import msgspec

__all__ = ["PingResponse"]


class PingResponse(msgspec.Struct, kw_only=True, frozen=True):
    """What /_ping tells in its headers."""

    api_version: str | None = None
    os_type: str | None = None
    experimental: bool = False
    builder_version: str | None = None
    swarm: str | None = None
