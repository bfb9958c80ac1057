"""Typed results and request bodies: generated from the spec, plus a few written by hand.

The generated models are those of the newest API version merged with the older ones;
names older versions gave a definition (``SystemEventsResponse`` for ``EventMessage``,
``Image`` for ``ImageInspect``, ...) stay importable as aliases. They are imported on first
use: their few hundred classes take a while to make, and a script that only streams logs
needs none of them.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from .extra import *  # noqa: F403
from .extra import __all__ as _extra
from .frames import *  # noqa: F403
from .frames import __all__ as _frames

if TYPE_CHECKING:
    from .generated import *  # noqa: F403


def __getattr__(name: str) -> Any:
    if name == "generated":  # being imported: not a model's name
        raise AttributeError(name)
    generated = importlib.import_module(".generated", __name__)
    if name == "__all__":
        return [*generated.__all__, *_frames, *_extra]
    try:
        return getattr(generated, name)
    except AttributeError:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}") from None
