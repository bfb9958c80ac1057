"""What the command line's modules share of their arguments: the program's name, the type
of the function a module of commands adds its parsers with, the argument types and the
conversions of their values. It imports nothing of the command line, so every module of
commands can use it, and parser.py can import them all."""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable, Sequence

from ..params import timestamp

PROG = "aiodockerapi"
CONTAINER_FIELD_HELP = (
    ".ID .Image .Command .CreatedAt .RunningFor .Ports .State .Status .Size .Names .Labels "
    '.Label "KEY" .Mounts .LocalVolumes .Networks .Host'
)
IMAGE_FIELD_HELP = (
    ".ID .Repository .Tag .Digest .CreatedSince .CreatedAt .Size .Containers .SharedSize "
    ".UniqueSize .VirtualSize .Host"
)


# What a module of commands is given to add its own: command(name, help) -> its parser.
Commands = Callable[[str, str], argparse.ArgumentParser]

# `docker container ls`, `docker image rm`: the management commands' names of a command.
ALIASES = {
    "container": {
        "ls": "ps", "list": "ps", "ps": "ps", "rm": "rm", "remove": "rm", "start": "start",
        "stop": "stop", "kill": "kill", "restart": "restart", "exec": "exec", "run": "run",
        "logs": "logs", "inspect": "inspect", "prune": "prune",
    },
    "image": {
        "ls": "images", "list": "images", "rm": "rmi", "remove": "rmi", "tag": "tag",
        "inspect": "inspect", "pull": "pull", "push": "push", "build": "build",
    },
}  # fmt: skip


# -- argument types ----------------------------------------------------------------------


def key_value(text: str) -> tuple[str, str]:
    key, sep, value = text.partition("=")
    if not sep or not key:
        raise argparse.ArgumentTypeError(f"expected KEY=VALUE, got {text!r}")
    return key, value


def key_maybe_value(text: str) -> tuple[str, str | None]:
    key, sep, value = text.partition("=")
    if not key:
        raise argparse.ArgumentTypeError(f"expected KEY or KEY=VALUE, got {text!r}")
    return key, value if sep else None


def filters(pairs: Sequence[tuple[str, str]] | None) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for key, value in pairs or ():
        out.setdefault(key, []).append(value)
    return out


def from_env(pairs: Sequence[tuple[str, str | None]] | None) -> dict[str, str]:
    """KEY=VALUE pairs; a bare KEY takes its value from the environment (or is left out)."""
    out: dict[str, str] = {}
    for key, value in pairs or ():
        if value is None:
            value = os.environ.get(key)
            if value is None:
                continue
        out[key] = value
    return out


def labels(pairs: Sequence[tuple[str, str | None]] | None) -> dict[str, str]:
    return {key: value or "" for key, value in pairs or ()}


def point_in_time(text: str) -> str:
    """A --since/--until value as the docker CLI reads it: Unix seconds, an RFC 3339 date or
    time, or a duration before now like 10m or 1h30m (see params.timestamp)."""
    try:
        return timestamp(text.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected Unix seconds, an RFC 3339 time or a duration like 10m, got {text!r}"
        ) from None


def positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected a number >= 0, got {value}")
    return value
