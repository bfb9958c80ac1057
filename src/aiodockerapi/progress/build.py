"""A BuildKit build in the progress display (aiodockerapi.progress.display), shown the way
``docker buildx build`` shows it: on a terminal its steps redrawn in place, their clocks
moving, under a ``[+] Building 3.2s (5/7)`` header; elsewhere buildx's plain lines. What
is drawn comes from render.py; this decides when."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from ..buildkit.run import BuildFailed
from ..buildkit.state import BuildState
from ..buildkit.trace import decode_trace
from ..errors import DockerStreamError
from .render import ERROR_LINES, BuildView, live, render_build

if TYPE_CHECKING:
    from rich.console import Console
    from rich.live import Live

__all__ = ["BuildProgress"]


class BuildProgress:
    """Shows the traces of a BuildKit build fed to `feed`: redrawn on `console`, or without
    one as plain lines handed to `write_line`. `end_layers` is called before the steps are
    first drawn, so the layer lines above them stay as they are. `close` ends it."""

    def __init__(
        self,
        console: Console | None,
        *,
        write_line: Callable[[str], None],
        end_layers: Callable[[], None],
        interval: float,
    ) -> None:
        self.view = BuildView()
        self._console = console
        self._write_line = write_line
        self._end_layers = end_layers
        self._interval = interval
        self._live: Live | None = None
        self._ticking: asyncio.TimerHandle | None = None
        self._last_draw = 0.0

    @property
    def state(self) -> BuildState | None:
        """The build's steps as its traces told them so far (None when protobuf is missing)."""
        return self.view.state if self.view.decode else None

    def feed(self, aux: str | bytes) -> None:
        """Show one trace (a trace message's `aux`)."""
        view = self.view
        if not view.decode:
            if not view.said_why:
                view.said_why = True
                self._write_line(
                    "(BuildKit build: showing its steps needs protobuf, "
                    "pip install 'aiodockerapi[buildkit]')"
                )
            return
        trace = decode_trace(aux)
        changed = view.feed(trace)
        if self._console is None:
            for line in view.plain_trace(trace):
                self._write_line(line)
        elif self._live is None:
            self._end_layers()
            self._live = live(self._console)
            self._draw()
            self._tick()
        elif changed or time.monotonic() - self._last_draw >= self._interval:
            self._draw()  # a step appeared or moved; more output waits for the clock

    def failure(self, error: DockerStreamError) -> DockerStreamError:
        """What to raise for an error the stream reported during the build: a BuildFailed
        that names the failed step and carries its last lines of output."""
        view = self.view
        view.failed = True
        if error.detail is None and view.state.failed is None:
            return error  # not the build's own error: a stream that could not be decoded
        return BuildFailed(error.message, error.detail, view.state.failed, ERROR_LINES)

    def close(self) -> None:
        """Stop the clocks; the last state of the steps stays on the screen."""
        view = self.view
        view.stop()
        if self._ticking is not None:
            self._ticking.cancel()
            self._ticking = None
        if self._live is not None:
            self._draw(final=True)
            self._live.stop()  # draws the whole last frame, however tall
            self._live = None
        elif self._console is None and view.decode:
            for line in view.plain_close():
                self._write_line(line)

    def _draw(self, *, final: bool = False) -> None:
        if self._live is None or self._console is None:
            return
        height = None if final else self._console.size.height - 1
        self._live.update(render_build(self.view, final=final, height=height))
        if not final:
            self._live.refresh()
        self._last_draw = time.monotonic()

    def _tick(self) -> None:
        """Redraw the steps every refresh interval while the build runs: the clocks move."""
        self._ticking = None
        if self._live is None:
            return
        if time.monotonic() - self._last_draw >= self._interval * 0.9:
            self._draw()
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return  # used without a loop: each update draws
        self._ticking = loop.call_later(self._interval, self._tick)
