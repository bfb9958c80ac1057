"""The ``aiodockerapi`` command: a small docker CLI built on the library, kept apart from it.

``parser`` has the flags, ``app`` runs a command and reports how it ended, ``listing`` has
the commands that run on many hosts at once (ps, images, events; ``info`` and ``system``'s
version and inspect too), ``containers`` the commands on containers by name (start, stop,
kill, restart, rm, exec), ``system`` also tag and rmi, ``commands`` logs, build, pull, push
and run (``runflags`` the flags that shape its container), ``prune`` prune. --format is
docker's Go template: ``template`` (with ``template_funcs``) interprets it, ``rows`` makes
ps's and images' rows, ``apidata`` the API's answers, ``output`` prints tables. ``formats``
has sizes, ages and errors; ``progress`` (with ``render``) the progress display.
"""

from __future__ import annotations

from collections.abc import Sequence

__all__ = ["main"]


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command (the console script and ``python -m aiodockerapi``); returns the exit
    status."""
    from .app import main as run

    return run(argv)
