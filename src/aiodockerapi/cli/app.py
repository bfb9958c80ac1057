"""Running one command: connecting to the host (or hosts), then reporting how it ended.

Every command runs in one ``asyncio.run``. Whatever goes wrong (the daemon is down, it
refuses the request, a file is missing) is one line on stderr, ``aiodockerapi: error:
...``, and exit status 1; a bad flag is exit status 2, Ctrl-C is 130, and ``run`` exits
with the container's own status (or 125, 126, 127 as ``docker run`` does).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from collections.abc import Awaitable, Callable, Sequence
from contextlib import AsyncExitStack
from typing import Any

from ..client import Docker
from ..errors import DockerError
from ..fleet import Fleet
from ..hosts import TLSConfig, config_dir
from . import commands, containers, info, listing, prune, services, system
from .args import PROG
from .formats import CliError, describe
from .parser import parse

Handler = Callable[[Any, argparse.Namespace], Awaitable[int]]

# The commands that run on every host given (through a Fleet), and those that take one.
MANY: dict[str, Handler] = {
    "info": info.cmd_info,
    "ps": listing.cmd_ps,
    "images": listing.cmd_images,
    "events": listing.cmd_events,
    "version": system.cmd_version,
    "inspect": system.cmd_inspect,
}
ONE: dict[str, Handler] = {
    "logs": commands.cmd_logs,
    "build": commands.cmd_build,
    "pull": commands.cmd_pull,
    "push": commands.cmd_push,
    "run": commands.cmd_run,
    "prune": prune.cmd_prune,
    "service": services.cmd_service,
    "start": containers.cmd_start,
    "stop": containers.cmd_stop,
    "restart": containers.cmd_restart,
    "kill": containers.cmd_kill,
    "rm": containers.cmd_rm,
    "exec": containers.cmd_exec,
    "tag": system.cmd_tag,
    "rmi": system.cmd_rmi,
}


def _tls(args: argparse.Namespace) -> TLSConfig | bool | None:
    flags = args.tls or args.tlsverify or args.tlscacert or args.tlscert or args.tlskey
    if not flags:
        # As the docker CLI does, DOCKER_TLS_VERIFY applies to --host too.
        return True if args.host and os.environ.get("DOCKER_TLS_VERIFY") else None
    if bool(args.tlscert) != bool(args.tlskey):
        raise CliError("--tlscert and --tlskey go together", status=125)
    verify = args.tlsverify or not args.tls
    defaults = TLSConfig.from_cert_path(
        os.environ.get("DOCKER_CERT_PATH") or config_dir(), verify=verify
    )
    client_cert = (args.tlscert, args.tlskey) if args.tlscert else defaults.client_cert
    return TLSConfig(
        ca_cert=args.tlscacert or defaults.ca_cert, client_cert=client_cert, verify=verify
    )


def clients(args: argparse.Namespace) -> list[Docker]:
    """A client for each --host or --context given (one for the default daemon without)."""
    if args.context and args.host:
        raise CliError("give --host or --context, not both", status=125)
    tls = _tls(args)
    if args.host:
        return [Docker(host, tls=tls) for host in dict.fromkeys(args.host)]
    if args.context:
        return [Docker(context=name, tls=tls) for name in dict.fromkeys(args.context)]
    return [Docker(tls=tls)]


def connect(args: argparse.Namespace) -> Docker:
    """The one client the global flags (--host or --context, TLS) ask for."""
    [docker] = clients(args)
    return docker


async def _run(args: argparse.Namespace) -> int:
    hosts = len(dict.fromkeys(args.host or args.context or [None]))
    if args.verb == "service" and hosts > 1:
        return await _on_managers(args)
    if args.verb not in MANY and hosts > 1:
        raise CliError(
            f"{args.verb} works on one host: give one --host or --context "
            "(info, version, ps, images, inspect and events take several)",
            status=125,
        )
    async with AsyncExitStack() as stack:
        made = clients(args)
        for docker in made:
            stack.push_async_callback(docker.close)
        if args.verb in MANY:
            fleet = await stack.enter_async_context(Fleet(made))
            return await MANY[args.verb](fleet, args)
        [docker] = made
        return await ONE[args.verb](docker, args)
    raise AssertionError("unreachable")


async def _on_managers(args: argparse.Namespace) -> int:
    """`service` given several hosts: they are a swarm's managers, one Managers client."""
    from ..managers import Managers

    if args.context:
        raise CliError("service takes several --host, not several --context", status=2)
    async with Managers(list(dict.fromkeys(args.host)), tls=_tls(args)) as managers:
        return await services.cmd_service(managers, args)


def _restore_pipe() -> None:
    # stdout's reader went away (| head): nothing more can be written there, quietly.
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    os.close(devnull)


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; returns the exit status."""
    args = parse(argv)
    try:
        if args.verb == "prune":
            prune.confirm_prune(args)
        status = asyncio.run(_run(args))
        sys.stdout.flush()
        return status
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        _restore_pipe()
        return 1
    except CliError as exc:
        print(f"{PROG}: error: {exc}", file=sys.stderr)
        return exc.status
    except (DockerError, ValueError, OSError, EOFError) as exc:
        print(f"{PROG}: error: {describe(exc)}", file=sys.stderr)
        return 1
