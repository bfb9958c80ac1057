"""What the fleet workloads share across clients."""

from __future__ import annotations

import gc

from ..job import rss_kib

IDLE_HOSTS = 200


def settled_rss_kib() -> int:
    """The RSS once garbage is collected, in KiB."""
    gc.collect()
    return rss_kib()
