"""Hand-written models for what the spec leaves untyped (gc=False, as the generated ones)."""

from __future__ import annotations

import msgspec

__all__ = [
    "BlkioEntry",
    "BlkioStats",
    "CPUStats",
    "CPUUsage",
    "ContainerStats",
    "ExecResult",
    "MemoryStats",
    "NetworkStats",
    "PathStat",
    "PidsStats",
    "PingResponse",
    "SwarmIdResponse",
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
    percpu_usage: list[int] | None = None
    usage_in_kernelmode: int = 0
    usage_in_usermode: int = 0


class ThrottlingData(msgspec.Struct, kw_only=True, gc=False):
    """CFS throttling counters."""

    periods: int = 0
    throttled_periods: int = 0
    throttled_time: int = 0


class CPUStats(msgspec.Struct, kw_only=True, gc=False):
    """CPU usage of the container and of the whole system."""

    cpu_usage: CPUUsage | None = None
    system_cpu_usage: int | None = None
    online_cpus: int | None = None
    throttling_data: ThrottlingData | None = None


class MemoryStats(msgspec.Struct, kw_only=True, gc=False):
    """Memory use and limits, in bytes."""

    usage: int | None = None
    max_usage: int | None = None
    limit: int | None = None
    failcnt: int | None = None
    stats: dict[str, int] | None = None


class PidsStats(msgspec.Struct, kw_only=True, gc=False):
    """How many processes run, and the limit."""

    current: int | None = None
    limit: int | None = None


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

    id: str | None = None
    name: str | None = None
    read: str | None = None
    preread: str | None = None
    num_procs: int | None = None
    pids_stats: PidsStats | None = None
    cpu_stats: CPUStats | None = None
    precpu_stats: CPUStats | None = None
    memory_stats: MemoryStats | None = None
    blkio_stats: BlkioStats | None = None
    networks: dict[str, NetworkStats] | None = None


class SwarmIdResponse(msgspec.Struct, kw_only=True, frozen=True, gc=False):
    """The id of a created secret or config: the daemon sends {"ID": ...}, not the
    {"Id": ...} of the spec's IdResponse."""

    id: str | None = msgspec.field(default=None, name="ID")
