"""Hand-written models for what the spec leaves untyped (gc=False, as the generated ones).

Fields are typed by the rule of docs/typing.md, from moby's container.StatsResponse and
swarm.SecretCreateResponse (tests/test_models.py checks the stats models against
tools/gotypes/nullability.json)."""

from __future__ import annotations

import re
from typing import TypeAlias, TypeVar

import msgspec

__all__ = [
    "BlkioEntry",
    "BlkioStats",
    "CPUStats",
    "CPUUsage",
    "ContainerStats",
    "ExecResult",
    "Line",
    "LogPattern",
    "MemoryStats",
    "NetworkStats",
    "PathStat",
    "PidsStats",
    "PingResponse",
    "RunResult",
    "SwarmIdResponse",
    "TaskProgress",
    "ThrottlingData",
]


class PingResponse(msgspec.Struct, kw_only=True, frozen=True, gc=False):
    """What /_ping tells in its headers."""

    api_version: str | None = None
    os_type: str | None = None
    experimental: bool = False
    builder_version: str | None = None
    swarm: str | None = None


class PathStat(msgspec.Struct, kw_only=True, frozen=True, gc=False):
    """A path inside a container, from the X-Docker-Container-Path-Stat header."""

    name: str = ""
    size: int = 0
    mode: int = 0
    mtime: str = ""
    link_target: str = msgspec.field(default="", name="linkTarget")


class ExecResult(msgspec.Struct, kw_only=True, frozen=True, gc=False):
    """What docker.exec.run collected: the exit code and both output streams."""

    exit_code: int
    stdout: bytes
    stderr: bytes


class CPUUsage(msgspec.Struct, kw_only=True, gc=False):
    """CPU time used, in nanoseconds."""

    total_usage: int = 0
    percpu_usage: list[int] = msgspec.field(default_factory=list)
    usage_in_kernelmode: int = 0
    usage_in_usermode: int = 0


class ThrottlingData(msgspec.Struct, kw_only=True, gc=False):
    """CFS throttling counters."""

    periods: int = 0
    throttled_periods: int = 0
    throttled_time: int = 0


class CPUStats(msgspec.Struct, kw_only=True, gc=False):
    """CPU usage of the container and of the whole system."""

    cpu_usage: CPUUsage = msgspec.field(default_factory=CPUUsage)
    system_cpu_usage: int = 0
    online_cpus: int = 0
    throttling_data: ThrottlingData = msgspec.field(default_factory=ThrottlingData)


class MemoryStats(msgspec.Struct, kw_only=True, gc=False):
    """Memory use and limits, in bytes."""

    usage: int = 0
    max_usage: int = 0
    limit: int = 0
    failcnt: int = 0
    stats: dict[str, int] = msgspec.field(default_factory=dict)


class PidsStats(msgspec.Struct, kw_only=True, gc=False):
    """How many processes run, and the limit."""

    current: int = 0
    limit: int = 0


class BlkioEntry(msgspec.Struct, kw_only=True, gc=False):
    """One block-device counter."""

    major: int = 0
    minor: int = 0
    op: str = ""
    value: int = 0


class BlkioStats(msgspec.Struct, kw_only=True, gc=False):
    """Block I/O counters."""

    io_service_bytes_recursive: list[BlkioEntry] | None = None
    io_serviced_recursive: list[BlkioEntry] | None = None


class NetworkStats(msgspec.Struct, kw_only=True, gc=False):
    """Counters of one network interface."""

    rx_bytes: int = 0
    rx_packets: int = 0
    rx_errors: int = 0
    rx_dropped: int = 0
    tx_bytes: int = 0
    tx_packets: int = 0
    tx_errors: int = 0
    tx_dropped: int = 0


class ContainerStats(msgspec.Struct, kw_only=True, gc=False):
    """One sample of GET /containers/{id}/stats (the spec leaves it untyped)."""

    id: str = ""
    name: str = ""
    read: str = ""
    preread: str = ""
    num_procs: int = 0
    pids_stats: PidsStats = msgspec.field(default_factory=PidsStats)
    cpu_stats: CPUStats = msgspec.field(default_factory=CPUStats)
    precpu_stats: CPUStats = msgspec.field(default_factory=CPUStats)
    memory_stats: MemoryStats = msgspec.field(default_factory=MemoryStats)
    blkio_stats: BlkioStats = msgspec.field(default_factory=BlkioStats)
    networks: dict[str, NetworkStats] = msgspec.field(default_factory=dict)


class SwarmIdResponse(msgspec.Struct, kw_only=True, frozen=True, gc=False):
    """The id of a created secret or config: the daemon sends {"ID": ...}, not the
    {"Id": ...} of the spec's IdResponse."""

    id: str = msgspec.field(default="", name="ID")


class RunResult(msgspec.Struct, kw_only=True, frozen=True, gc=False):
    """What docker.containers.run collected: the container's id, exit code and output."""

    id: str
    exit_code: int
    stdout: bytes
    stderr: bytes


Line = TypeVar("Line", str, bytes)
"""A log line: text for a text pattern, bytes for a bytes pattern."""

LogPattern: TypeAlias = Line | re.Pattern[Line]
"""What docker.containers.wait_for_log looks for in a line: a substring, or a compiled
regex (searched)."""


class TaskProgress(msgspec.Struct, frozen=True, kw_only=True, gc=False):
    """One task slot as a rollout goes (a replica's slot, or a node for a global service):
    its newest task's desired and current state, and its error if it failed."""

    slot: int | None
    node_id: str | None
    task_id: str
    desired_state: str
    state: str
    message: str = ""
    error: str | None = None
