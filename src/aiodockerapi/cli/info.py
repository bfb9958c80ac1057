"""info: what each daemon says about itself, laid out as `docker info` lays it out."""

from __future__ import annotations

import argparse
import enum
import sys
from typing import Any

from .. import __version__
from ..client import Docker
from ..fleet import Fleet
from ..models import SystemInfo
from .apidata import api_dict, go_context
from .formats import CliError, json_line, out
from .output import Formatter
from .template import Context

# Go's names of SystemInfo's fields where the API's JSON spells them otherwise.
INFO_GO_NAMES = {
    "CpuCfsPeriod": "CPUCfsPeriod",
    "CpuCfsQuota": "CPUCfsQuota",
    "HttpProxy": "HTTPProxy",
    "HttpsProxy": "HTTPSProxy",
}


def binary_size(size: float) -> str:
    """Bytes as `docker info` prints memory: powers of 1024, 4 significant digits (23.54GiB)."""
    units = ("B", "KiB", "MiB", "GiB", "TiB", "PiB")
    unit = 0
    while size >= 1024 and unit < len(units) - 1:
        size /= 1024
        unit += 1
    return f"{size:.4g}{units[unit]}"


def go_value(value: object) -> str:
    if isinstance(value, enum.Enum):
        value = value.value
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value)


def info_context(docker: Docker, info: SystemInfo, host: str, many: bool) -> Context:
    client = {
        "Debug": False,
        "Version": __version__,
        "Host": docker.host,
        "APIVersion": docker.api_version or "",
    }
    data = api_dict(info)
    extra: dict[str, Any] = {"ClientInfo": client, **({"Host": host} if many else {})}
    return go_context("info", data, INFO_GO_NAMES, **extra)


def _lines(info: SystemInfo) -> list[str]:
    rows: list[str] = [
        f" Containers: {info.containers}",
        f"  Running: {info.containers_running}",
        f"  Paused: {info.containers_paused}",
        f"  Stopped: {info.containers_stopped}",
        f" Images: {info.images}",
        f" Server Version: {info.server_version}",
        f" Storage Driver: {info.driver}",
        *(f"  {k}: {v}" for k, v in info.driver_status or ()),
        f" Logging Driver: {go_value(info.logging_driver)}",
        f" Cgroup Driver: {go_value(info.cgroup_driver)}",
        f" Cgroup Version: {go_value(info.cgroup_version)}",
    ]
    if info.plugins is not None:
        rows.append(" Plugins:")
        for name, items in (
            ("Volume", info.plugins.volume),
            ("Network", info.plugins.network),
            ("Authorization", info.plugins.authorization),
            ("Log", info.plugins.log),
        ):
            if items:
                rows.append(f"  {name}: {' '.join(items)}")
    if info.swarm is not None:
        rows.append(f" Swarm: {go_value(info.swarm.local_node_state)}")
    if info.runtimes:
        rows.append(f" Runtimes: {' '.join(sorted(info.runtimes))}")
    rows.append(f" Default Runtime: {go_value(info.default_runtime)}")
    rows.append(f" Init Binary: {go_value(info.init_binary)}")
    for name, commit in (
        ("containerd", info.containerd_commit),
        ("runc", info.runc_commit),
        ("init", info.init_commit),
    ):
        rows.append(f" {name} version: {go_value(commit.id if commit else None)}")
    if info.security_options:
        rows.append(" Security Options:")
        for option in info.security_options:
            parts = dict(p.split("=", 1) for p in option.split(",") if "=" in p)
            rows.append(f"  {parts.pop('name', option)}")
            rows.extend(f"   {k.title()}: {v}" for k, v in parts.items())
    rows += [
        f" Kernel Version: {info.kernel_version}",
        f" Operating System: {info.operating_system}",
        f" OSType: {info.os_type}",
        f" Architecture: {info.architecture}",
        f" CPUs: {info.ncpu}",
        f" Total Memory: {binary_size(info.mem_total)}",
        f" Name: {info.name}",
        f" ID: {info.id}",
        f" Docker Root Dir: {info.docker_root_dir}",
        f" Debug Mode: {go_value(bool(info.debug))}",
        f" Experimental: {go_value(bool(info.experimental_build))}",
    ]
    if info.registry_config is not None and info.registry_config.insecure_registry_cidrs:
        rows.append(" Insecure Registries:")
        rows.extend(f"  {cidr}" for cidr in info.registry_config.insecure_registry_cidrs)
    rows.append(f" Live Restore Enabled: {go_value(bool(info.live_restore_enabled))}")
    return rows


async def cmd_info(fleet: Fleet, args: argparse.Namespace) -> int:
    """info: what each daemon says about itself."""
    from .listing import on_every_host

    if args.format is not None and args.json:
        raise CliError("--format goes without --json", status=125)
    formatter = None
    if args.format is not None:
        formatter = Formatter(args.format, "", Context("info", {}, []), check=False)
    many = len(fleet.clients) > 1

    async def ask(docker: Docker) -> tuple[Docker, SystemInfo]:
        return docker, await docker.system.info()

    answers, failed = await on_every_host(fleet, ask)
    for n, (host, (docker, info)) in enumerate(answers):
        if formatter is not None:
            formatter.write([info_context(docker, info, host, many)])
            continue
        if args.json:
            json_line(info, indent=0 if many else 2, host=host if many else None)
            continue
        if n:
            out()
        if n == 0:
            out("Client:")
            out(f" Version:     {__version__}")
            out(f" API Version: {docker.api_version}")
            out(" Debug Mode:  false")
        out()
        out("Server:")
        out(f" Host: {host}")
        for line in _lines(info):
            out(line)
        for warning in info.warnings or ():
            print(f"{host}: {warning}" if many else warning, file=sys.stderr)
    return 1 if failed else 0
