"""Typed results and request bodies: generated from the spec, plus a few written by hand.

The generated models are those of the newest API version merged with the older ones;
names older versions gave a definition (``SystemEventsResponse`` for ``EventMessage``,
``Image`` for ``ImageInspect``, ...) stay importable as aliases.
"""

from __future__ import annotations

from .extra import *  # noqa: F403
from .extra import __all__ as _extra
from .frames import *  # noqa: F403
from .frames import __all__ as _frames
from .generated import *  # noqa: F403
from .generated import __all__ as _generated

__all__ = [*_generated, *_frames, *_extra]
