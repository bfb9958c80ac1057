"""Count the Python-level calls the package itself makes while a piece of code runs.

`sys.setprofile` sees every call; only those of functions defined in aiodockerapi's own
files are counted (aiohttp's, asyncio's and the test's own vary with timing and versions,
ours do not), and `testing.py` is left out, being the stand-in for the wire. A generator or
coroutine counts once, when it first runs (the profiler also reports each resumption, and
how often a coroutine waits for the socket depends on timing, not on the code), unless
`resumptions` asks for those too: with chunks handed over in memory, they are as repeatable
as calls, and a stream's generators resume once or more per chunk.
"""

from __future__ import annotations

import inspect
import sys
from collections import Counter
from collections.abc import Awaitable
from pathlib import Path
from types import FrameType
from typing import Any, TypeVar

import aiodockerapi

PACKAGE = str(Path(aiodockerapi.__file__).parent)
_SKIP = str(Path(PACKAGE) / "testing.py")
T = TypeVar("T")
_RESUMABLE = (
    inspect.CO_GENERATOR
    | inspect.CO_COROUTINE
    | inspect.CO_ASYNC_GENERATOR
    | inspect.CO_ITERABLE_COROUTINE
)


class CallCounter:
    """Counts the package's calls, by function, while it is active."""

    def __init__(self, *, resumptions: bool = False) -> None:
        self.resumptions = resumptions
        self.calls: Counter[str] = Counter()
        self._cache: dict[str, bool] = {}
        # Started generators and coroutines, held so that no id is reused meanwhile.
        self._started: dict[int, FrameType] = {}

    def _profile(self, frame: FrameType, event: str, arg: Any) -> None:
        if event != "call":
            return
        code = frame.f_code
        filename = code.co_filename
        ours = self._cache.get(filename)
        if ours is None:
            ours = filename.startswith(PACKAGE) and filename != _SKIP
            self._cache[filename] = ours
        if ours:
            if code.co_flags & _RESUMABLE and not self.resumptions:
                if id(frame) in self._started:
                    return
                self._started[id(frame)] = frame
            rel = filename[len(PACKAGE) + 1 :]
            self.calls[f"{rel}:{code.co_name}"] += 1

    @property
    def total(self) -> int:
        return sum(self.calls.values())

    async def run(self, work: Awaitable[T]) -> T:
        """Await `work` with counting on (also across its suspensions, as one task)."""
        sys.setprofile(self._profile)
        try:
            return await work
        finally:
            sys.setprofile(None)
            self._started.clear()
