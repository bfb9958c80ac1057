"""docker.containers: the container operations (container_ops.py), their files as archives
(container_archives.py), and the recipes built on them: run and running (container_runs.py),
wait_for_log and wait_healthy (container_waits.py)."""

from __future__ import annotations

from .container_runs import ContainerRuns
from .container_waits import ContainerWaits

__all__ = ["Containers"]


class Containers(ContainerRuns, ContainerWaits):
    """Create, run, inspect and remove containers."""
