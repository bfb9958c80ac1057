"""The ``aiodockerapi`` command: a small docker CLI built on the library, kept apart from it.

``parser`` has the flags, ``app`` runs a command and reports how it ended, ``listing`` has
the commands that run on many hosts at once (info, ps, images, events), ``commands`` the
others, ``formats`` the tables and --format templates, and ``progress`` (with ``render``)
the progress display of pulls, pushes and builds.
"""

from __future__ import annotations

from collections.abc import Sequence

__all__ = ["main"]


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command (the console script and ``python -m aiodockerapi``); returns the exit
    status."""
    from .app import main as run

    return run(argv)
