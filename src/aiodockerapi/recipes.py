"""Deprecated: the names this module gave have one home each now, and it goes in 0.3.0.

`recipes.run(docker.containers, ...)` and its kind are `docker.containers.run(...)`,
`running`, `wait_for_log`, `wait_healthy` and `docker.images.ensure(...)`;
`HealthcheckError` is in `aiodockerapi.errors`; `RunResult`, `Line` and `LogPattern` are in
`aiodockerapi.models`. Each name still works here, with a DeprecationWarning saying where it
went.
"""

from __future__ import annotations

import importlib
import warnings
from typing import Any

__all__: list[str] = []

_CONTAINERS = "resources.containers"
_MOVED = {
    "run": (_CONTAINERS, "Containers.run", "docker.containers.run"),
    "running": (_CONTAINERS, "Containers.running", "docker.containers.running"),
    "wait_for_log": (_CONTAINERS, "Containers.wait_for_log", "docker.containers.wait_for_log"),
    "wait_healthy": (_CONTAINERS, "Containers.wait_healthy", "docker.containers.wait_healthy"),
    "ensure_image": ("resources.images", "Images.ensure", "docker.images.ensure"),
    "HealthcheckError": ("errors", "HealthcheckError", "aiodockerapi.errors.HealthcheckError"),
    "RunResult": ("models", "RunResult", "aiodockerapi.models.RunResult"),
    "Line": ("models", "Line", "aiodockerapi.models.Line"),
    "LogPattern": ("models", "LogPattern", "aiodockerapi.models.LogPattern"),
}


def __getattr__(name: str) -> Any:
    moved = _MOVED.get(name)
    if moved is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    module, attribute, home = moved
    warnings.warn(
        f"aiodockerapi.recipes.{name} is deprecated and goes in 0.3.0: use {home}",
        DeprecationWarning,
        stacklevel=2,
    )
    value: Any = importlib.import_module(f".{module}", __package__)
    for part in attribute.split("."):
        value = getattr(value, part)
    return value
