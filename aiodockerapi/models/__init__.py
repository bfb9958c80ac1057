"""Typed results and request bodies: generated from the spec, plus a few written by hand."""

from __future__ import annotations

from .extra import *  # noqa: F403
from .extra import __all__ as _extra
from .frames import *  # noqa: F403
from .frames import __all__ as _frames
from .generated import *  # noqa: F403
from .generated import SystemEventsResponse
from .generated import __all__ as _generated

EventMessage = SystemEventsResponse
"""One event of docker.system.events."""

__all__ = [*_generated, *_frames, *_extra, "EventMessage"]
