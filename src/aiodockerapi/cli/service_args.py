"""The arguments of `aiodockerapi service ...` (the commands are in services.py)."""

from __future__ import annotations

import argparse
from typing import Any

from .args import key_maybe_value

__all__ = ["add_parser"]


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected seconds, got {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected seconds >= 0, got {text}")
    return value


def add_parser(commands: Any) -> None:
    """Add `service` and its subcommands to the command line's subparsers."""
    help = "Manage swarm services (several --host: the swarm's managers)"
    service = commands.add_parser("service", help=help, description=help)
    verbs = service.add_subparsers(dest="service_verb", metavar="SUBCOMMAND", required=True)

    def verb(name: str, help: str) -> argparse.ArgumentParser:
        sub: argparse.ArgumentParser = verbs.add_parser(name, help=help, description=help)
        return sub

    def waiting(sub: argparse.ArgumentParser) -> None:
        sub.add_argument("-d", "--detach", action="store_true", help="do not wait to converge")
        sub.add_argument("--timeout", type=_seconds, help="wait at most this many seconds")

    sub = verb("create", "Create a service and wait for its tasks to run")
    sub.add_argument("image", metavar="IMAGE")
    sub.add_argument("command", nargs=argparse.REMAINDER, metavar="COMMAND [ARG...]")
    sub.add_argument("--name", help="the service's name")
    sub.add_argument("--mode", choices=("replicated", "global"), default="replicated")
    sub.add_argument("--replicas", type=int, help="number of tasks (replicated)")
    sub.add_argument("-e", "--env", action="append", type=key_maybe_value, metavar="KEY[=VALUE]")
    sub.add_argument("-l", "--label", action="append", type=key_maybe_value, metavar="KEY[=VALUE]")
    sub.add_argument(
        "--update-failure-action", choices=("pause", "continue", "rollback"), default=None
    )
    sub.add_argument("--update-monitor", type=_seconds, metavar="SECONDS")
    sub.add_argument("--stop-grace-period", type=_seconds, metavar="SECONDS")
    waiting(sub)

    sub = verb("update", "Update a service and wait for the update to converge")
    sub.add_argument("service", metavar="SERVICE")
    sub.add_argument("--image", help="the new image")
    sub.add_argument("--args", help="the command's new arguments, as one shell-quoted string")
    sub.add_argument("--replicas", type=int, help="number of tasks (replicated)")
    sub.add_argument("--env-add", action="append", type=key_maybe_value, metavar="KEY[=VALUE]")
    sub.add_argument("--force", action="store_true", help="replace the tasks even if unchanged")
    waiting(sub)

    sub = verb("rollback", "Go back to a service's previous spec and wait")
    sub.add_argument("service", metavar="SERVICE")
    waiting(sub)

    verb("ls", "List services")
    sub = verb("ps", "List a service's tasks")
    sub.add_argument("service", metavar="SERVICE")
    sub = verb("logs", "Print a service's output (stderr to stderr)")
    sub.add_argument("service", metavar="SERVICE")
    sub.add_argument("-f", "--follow", action="store_true", help="keep following")
    sub.add_argument("-n", "--tail", type=int, metavar="N", help="only the last N lines")
