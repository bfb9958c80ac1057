"""Commands on containers by name: start, stop, kill, restart, rm, exec.

Each takes one or more containers as `docker` does: it prints each one it acted on, says on
stderr why one failed, goes on with the others, and exits 1 if any failed.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
import sys
from collections.abc import Awaitable, Callable, Iterator

from ..client import Docker
from ..errors import DockerError
from ..models import ContainerExecBody
from .args import PROG, Commands, from_env, key_maybe_value
from .formats import CliError, describe, out, write_frame


def add_parsers(command: Commands) -> None:
    """The flags of start, stop, kill, restart, rm and exec."""
    sub = command("start", "Start one or more stopped containers")
    sub.add_argument("containers", nargs="+", metavar="CONTAINER")

    for name, verb in (("stop", "Stop"), ("restart", "Restart")):
        sub = command(name, f"{verb} one or more running containers")
        sub.add_argument("containers", nargs="+", metavar="CONTAINER")
        sub.add_argument(
            "-t", "--time", type=int, metavar="SECONDS", help="seconds to wait before killing"
        )
        sub.add_argument("-s", "--signal", help="signal to send (default: the container's)")

    sub = command("kill", "Kill one or more running containers")
    sub.add_argument("containers", nargs="+", metavar="CONTAINER")
    sub.add_argument("-s", "--signal", help="signal to send (default: KILL)")

    sub = command("rm", "Remove one or more containers")
    sub.add_argument("containers", nargs="+", metavar="CONTAINER")
    sub.add_argument("-f", "--force", action="store_true", help="kill a running one first")
    sub.add_argument("-v", "--volumes", action="store_true", help="its anonymous volumes too")

    sub = command(
        "exec",
        "Run a command in a running container, print its output and exit with its status",
    )
    sub.add_argument("container", metavar="CONTAINER")
    sub.add_argument("command", nargs=argparse.REMAINDER, metavar="COMMAND [ARG...]")
    sub.add_argument("-d", "--detach", action="store_true", help="start it and return")
    sub.add_argument(
        "-e",
        "--env",
        action="append",
        type=key_maybe_value,
        metavar="KEY[=VALUE]",
        help="environment variable (repeatable; a bare KEY reads the environment)",
    )
    sub.add_argument("-w", "--workdir", help="working directory inside the container")
    sub.add_argument("-u", "--user", help="user[:group] to run as")
    sub.add_argument("--privileged", action="store_true", help="extended privileges")


async def _each(names: list[str], act: Callable[[str], Awaitable[object]]) -> int:
    failed = False
    for name in names:
        try:
            await act(name)
        except DockerError as exc:
            print(f"{PROG}: error: {describe(exc)}", file=sys.stderr, flush=True)
            failed = True
        else:
            out(name)
    return 1 if failed else 0


async def cmd_start(docker: Docker, args: argparse.Namespace) -> int:
    """start: each container given."""
    return await _each(args.containers, docker.containers.start)


async def cmd_stop(docker: Docker, args: argparse.Namespace) -> int:
    """stop: each container given (SIGTERM, then SIGKILL after --time)."""
    return await _each(
        args.containers,
        lambda name: docker.containers.stop(name, t=args.time, signal=args.signal),
    )


async def cmd_restart(docker: Docker, args: argparse.Namespace) -> int:
    """restart: each container given."""
    return await _each(
        args.containers,
        lambda name: docker.containers.restart(name, t=args.time, signal=args.signal),
    )


async def cmd_kill(docker: Docker, args: argparse.Namespace) -> int:
    """kill: each container given, with --signal (KILL by default)."""
    return await _each(
        args.containers, lambda name: docker.containers.kill(name, signal=args.signal)
    )


async def cmd_rm(docker: Docker, args: argparse.Namespace) -> int:
    """rm: each container given."""
    return await _each(
        args.containers,
        lambda name: docker.containers.delete(name, force=args.force, v=args.volumes),
    )


async def cmd_exec(docker: Docker, args: argparse.Namespace) -> int:
    """exec: a command in a running container; its stdout to stdout, its stderr to stderr,
    and its exit status as ours."""

    if not args.command:
        raise CliError("exec needs a command to run", status=125)
    env = from_env(args.env)
    body = ContainerExecBody(
        cmd=list(args.command),
        attach_stdout=not args.detach,
        attach_stderr=not args.detach,
        user=args.user,
        working_dir=args.workdir,
        env=[f"{k}={v}" for k, v in env.items()] or None,
        privileged=args.privileged,
    )
    created = await docker.exec.create(args.container, body)
    if created.id is None:
        raise CliError("the daemon created an exec without an id", status=125)
    if args.detach:
        await docker.exec.start(created.id, detach=True)
        return 0
    async with docker.exec.start(created.id) as stream:
        async for frame in stream:
            write_frame(frame.stream, frame.data)
    for _ in range(200):  # the exit code lands just after the output ends
        info = await docker.exec.inspect(created.id)
        if not info.running and info.exit_code is not None:
            return info.exit_code
        await asyncio.sleep(0.05)
    raise CliError("the command's output ended but it did not exit", status=125)


@contextlib.contextmanager
def proxy_signals(docker: Docker, cid: str) -> Iterator[None]:
    """While attached, SIGINT and SIGTERM go to the container (docker run's --sig-proxy):
    it decides whether to end, and `run` exits with its status."""
    loop = asyncio.get_running_loop()
    sent: set[asyncio.Task[None]] = set()

    def forward(sig: signal.Signals) -> None:
        task = loop.create_task(_kill_quietly(docker, cid, sig.name))
        sent.add(task)
        task.add_done_callback(sent.discard)

    caught = (signal.SIGINT, signal.SIGTERM)
    for sig in caught:
        loop.add_signal_handler(sig, forward, sig)
    try:
        yield
    finally:
        for sig in caught:
            loop.remove_signal_handler(sig)


async def _kill_quietly(docker: Docker, cid: str, name: str) -> None:
    with contextlib.suppress(DockerError):  # it may have ended meanwhile
        await docker.containers.kill(cid, signal=name)
