"""The one rule for commands: a list of strings, never one string, checked before sending.

The daemon takes a string Cmd or Entrypoint as the name of one executable (so "echo hi"
fails only when the container starts) and refuses a string elsewhere with a decoding
error; a TypeError here says what to write instead.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

__all__ = ["check_command", "check_container_config", "check_exec_config", "check_service_spec"]


def check_command(field: str, value: object, *, healthcheck: bool = False) -> None:
    """Raise TypeError unless `value` (the `field` of a request) is None or a sequence of
    strings; a health check's Test suggests its "CMD" and "CMD-SHELL" forms."""
    if value is None:
        return
    if isinstance(value, str):
        import shlex  # only for the error message

        try:
            words = shlex.split(value)
        except ValueError:
            words = value.split()
        if healthcheck:
            hint = f"{_list(['CMD', *words])}, or {_list(['CMD-SHELL', value])} for a shell"
        else:
            hint = f"{_list(words)}, or {_list(['sh', '-c', value])} for a shell"
        raise TypeError(f"{field} must be a list of strings, not a str: write {hint}")
    if isinstance(value, (bytes, bytearray)) or not isinstance(value, Sequence):
        raise TypeError(f"{field} must be a list of strings, not {type(value).__name__}")
    for i, item in enumerate(value):
        if not isinstance(item, str):
            raise TypeError(
                f"{field} must be a list of strings: item {i} is {type(item).__name__} {item!r}"
            )


def _list(words: list[str]) -> str:
    import json

    return "[" + ", ".join(json.dumps(word) for word in words) + "]"


def _get(config: Any, attr: str, key: str) -> Any:
    """A field of a Struct (by attribute) or of a mapping in the API's names."""
    if isinstance(config, Mapping):
        return config.get(key)
    return getattr(config, attr, None)


def _check_healthcheck(field: str, health: Any) -> None:
    if health is not None:
        check_command(f"{field}.Test", _get(health, "test", "Test"), healthcheck=True)


def check_container_config(config: Any) -> None:
    """Cmd, Entrypoint and Healthcheck.Test of a container's create body (or config)."""
    check_command("Cmd", _get(config, "cmd", "Cmd"))
    check_command("Entrypoint", _get(config, "entrypoint", "Entrypoint"))
    _check_healthcheck("Healthcheck", _get(config, "healthcheck", "Healthcheck"))


def check_exec_config(config: Any) -> None:
    """Cmd of an exec's create body."""
    check_command("Cmd", _get(config, "cmd", "Cmd"))


def check_service_spec(spec: Any) -> None:
    """Command, Args and HealthCheck.Test of a service's ContainerSpec."""
    task = _get(spec, "task_template", "TaskTemplate")
    container = None if task is None else _get(task, "container_spec", "ContainerSpec")
    if container is None:
        return
    where = "TaskTemplate.ContainerSpec"
    check_command(f"{where}.Command", _get(container, "command", "Command"))
    check_command(f"{where}.Args", _get(container, "args", "Args"))
    _check_healthcheck(f"{where}.HealthCheck", _get(container, "health_check", "HealthCheck"))
