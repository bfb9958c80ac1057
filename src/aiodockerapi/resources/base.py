"""The base of the resource classes (docker.containers, docker.images...)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..transport import Transport

__all__ = ["Resource"]


class Resource:
    """Base of the resource classes: each maps its methods to requests on one transport."""

    __slots__ = ("_t",)

    def __init__(self, transport: Transport) -> None:
        self._t = transport
