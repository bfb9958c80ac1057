"""Recipes: common sequences of operations, each one call.

`docker.containers.run`, `running`, `wait_for_log`, `wait_healthy` and `docker.images.ensure`
compose the resources' own methods (create, start, wait, logs, kill, stop, delete, inspect,
pull) and clean up after themselves: a container one created is removed on an error, a
timeout and a cancellation too, and a log stream one opened is closed. The cleanup is
shielded from anyio cancel scopes (which cancel again at every await) but not from a
second `Task.cancel()`.

They are methods the resources get from mixins, one module per job: container_runs.py
(run, running), container_waits.py (wait_for_log, wait_healthy) and images.py
(ensure). This module keeps their names, and each as a function of the resource:
`recipes.run(docker.containers, config)` is `docker.containers.run(config)`.
"""

from __future__ import annotations

from .container_runs import ContainerRuns, RunResult
from .container_waits import ContainerWaits, HealthcheckError, Line, LogPattern
from .images import Images

__all__ = [
    "HealthcheckError",
    "Line",
    "LogPattern",
    "RunResult",
    "ensure_image",
    "run",
    "running",
    "wait_for_log",
    "wait_healthy",
]

run = ContainerRuns.run
running = ContainerRuns.running
wait_for_log = ContainerWaits.wait_for_log
wait_healthy = ContainerWaits.wait_healthy
ensure_image = Images.ensure
