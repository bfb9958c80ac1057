"""`aiodockerapi service create|update|rollback|ls|ps|logs`: swarm services, their rollouts
drawn a line per task slot as they converge (`--detach` to not wait).

Several --host (or --context) are a swarm's managers: the commands then go through a
`Managers` client, which moves on from a manager that can't be reached.
"""

from __future__ import annotations

import argparse
import shlex
import sys
from typing import Any, Literal

import msgspec

from ..client import Docker
from ..models import StreamType, TaskProgress
from .args import from_env, labels
from .formats import CliError, out
from .output import tabwrite

__all__ = ["cmd_service"]

NS = 1_000_000_000
# A task's states on its way to running, as swarm orders them.
_STEPS = ("new", "allocated", "pending", "assigned", "accepted", "preparing", "ready", "starting")
_BAR = 30


def table(headers: list[str], rows: list[list[str]]) -> None:
    for line in tabwrite(["\t".join(row) for row in [headers, *rows]]):
        out(line)


class SlotLines:
    """Draws a line per task slot; on a terminal the lines are redrawn in place, elsewhere
    only the lines that changed are printed again."""

    def __init__(self, tty: bool) -> None:
        self.tty = tty
        self.drawn: list[str] = []

    def __call__(self, slots: list[TaskProgress]) -> None:
        lines = [self.line(p, len(slots)) for p in slots]
        if self.tty:
            if self.drawn:
                sys.stdout.write(f"\x1b[{len(self.drawn)}A")
            for line in lines:
                sys.stdout.write(f"\x1b[2K{line}\n")
            sys.stdout.flush()
        else:
            for line in lines:
                if line not in self.drawn:
                    out(line)
        self.drawn = lines

    @staticmethod
    def line(p: TaskProgress, total: int) -> str:
        where = f"{p.slot}/{total}" if p.slot else (p.node_id or "?")[:12]
        if p.state in ("running", "complete"):
            done = _BAR
        elif p.state in _STEPS:
            done = _BAR * (_STEPS.index(p.state) + 1) // (len(_STEPS) + 1)
        else:
            done = 0
        bar = "[" + "=" * done + (">" if done < _BAR else "") + " " * (_BAR - done - 1) + "]"
        error = f"  {p.error}" if p.error else ""
        return f"{where}: {p.state:<9} {bar}{error}"


async def _wait(docker: Docker, id: str, args: argparse.Namespace, *, rollback: bool) -> int:
    out(id)
    if args.detach:
        return 0
    await docker.services.wait_converged(
        id, timeout=args.timeout, on_progress=SlotLines(sys.stdout.isatty()), rollback=rollback
    )
    out("verify: Service converged")
    return 0


def _create_spec(args: argparse.Namespace) -> dict[str, Any]:
    container: dict[str, Any] = {"Image": args.image}
    if args.command:
        # As docker does: the first word is the command, the rest its args (update --args).
        container["Command"] = args.command[:1]
        if args.command[1:]:
            container["Args"] = args.command[1:]
    if args.env:
        container["Env"] = [f"{k}={v}" for k, v in from_env(args.env).items()]
    if args.stop_grace_period is not None:
        container["StopGracePeriod"] = int(args.stop_grace_period * NS)
    mode: dict[str, Any] = {"Global": {}}
    if args.mode == "replicated":
        mode = {"Replicated": {"Replicas": 1 if args.replicas is None else args.replicas}}
    elif args.replicas is not None:
        raise CliError("--replicas is for a replicated service", status=2)
    spec: dict[str, Any] = {"TaskTemplate": {"ContainerSpec": container}, "Mode": mode}
    if args.name:
        spec["Name"] = args.name
    if args.label:
        spec["Labels"] = labels(args.label)
    update: dict[str, Any] = {}
    if args.update_failure_action:
        update["FailureAction"] = args.update_failure_action
    if args.update_monitor is not None:
        update["Monitor"] = int(args.update_monitor * NS)
    if update:
        spec["UpdateConfig"] = update
    return spec


def _changed(spec: dict[str, Any], args: argparse.Namespace) -> None:
    """Apply update's flags to the spec as the daemon gave it (unknown fields kept)."""
    template = spec.setdefault("TaskTemplate", {})
    container = template.setdefault("ContainerSpec", {})
    if args.image:
        container["Image"] = args.image
    if args.args is not None:
        container["Args"] = shlex.split(args.args)
    if args.env_add:
        env = {e.partition("=")[0]: e for e in container.get("Env") or []}
        env.update({k: f"{k}={v}" for k, v in from_env(args.env_add).items()})
        container["Env"] = list(env.values())
    if args.replicas is not None:
        mode = spec.get("Mode") or {}
        if "Replicated" not in mode:
            raise CliError("--replicas is for a replicated service", status=2)
        mode["Replicated"] = {**(mode["Replicated"] or {}), "Replicas": args.replicas}
    if args.force:
        template["ForceUpdate"] = int(template.get("ForceUpdate") or 0) + 1


async def cmd_service(docker: Docker, args: argparse.Namespace) -> int:
    """service SUBCOMMAND."""
    verb = args.service_verb
    if verb == "create":
        created = await docker.services.create(_create_spec(args))
        assert created.id is not None
        return await _wait(docker, created.id, args, rollback=False)
    if verb in ("update", "rollback"):
        service = await docker.services.inspect(args.service)
        spec: dict[str, Any] = msgspec.to_builtins(service.spec) if service.spec else {}
        if verb == "update":
            _changed(spec, args)
        rollback: Literal["previous"] | None = "previous" if verb == "rollback" else None
        await docker.services.update(
            service.id, spec, version=service.version.index, rollback=rollback
        )
        return await _wait(docker, service.id, args, rollback=verb == "rollback")
    if verb == "ls":
        rows = []
        for s in await docker.services.list(status=True):
            spec_ = s.spec
            mode = spec_.mode if spec_ else None
            kind = "global" if mode and mode.global_ is not None else "replicated"
            counts = s.service_status
            running = f"{counts.running_tasks}/{counts.desired_tasks}" if counts else "?"
            image = ""
            if spec_ and spec_.task_template and spec_.task_template.container_spec:
                image = spec_.task_template.container_spec.image or ""
            rows.append(
                [(s.id or "")[:12], spec_.name or "" if spec_ else "", kind, running, image]
            )
        table(["ID", "NAME", "MODE", "REPLICAS", "IMAGE"], rows)
        return 0
    if verb == "ps":
        service = await docker.services.inspect(args.service)
        name = service.spec.name if service.spec and service.spec.name else service.id
        tasks = await docker.tasks.list(filters={"service": service.id or args.service})
        rows = []
        for t in sorted(tasks, key=lambda t: (t.slot or 0, t.node_id or "")):
            st = t.status
            where = f".{t.slot}" if t.slot else f".{(t.node_id or '')[:12]}"
            rows.append(
                [
                    (t.id or "")[:12],
                    f"{name}{where}",
                    (t.node_id or "")[:12],
                    t.desired_state or "",
                    (st.state if st else "") or "",
                    (st.err if st else "") or "",
                ]
            )
        table(["ID", "NAME", "NODE", "DESIRED", "CURRENT", "ERROR"], rows)
        return 0
    if verb == "logs":
        frames = docker.services.logs(
            args.service, stdout=True, stderr=True, follow=args.follow, tail=args.tail
        )
        try:
            async for frame in frames:
                stream = sys.stderr if frame.stream == StreamType.STDERR else sys.stdout
                stream.buffer.write(frame.data)
                stream.buffer.flush()
        finally:
            await frames.aclose()
        return 0
    raise CliError(f"unknown service command {verb!r}", status=2)
