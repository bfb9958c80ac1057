"""What a worker is asked to do, and what it reports (stdlib only: workers import nothing
else before their client)."""

from __future__ import annotations

import asyncio
import hashlib
import json
from collections.abc import Awaitable, Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from typing import Any, TypeVar

T = TypeVar("T")

# What the peers are pinned to, so that every client sends the same requests: the canned
# server's daemon (20.10) speaks 1.41; for a real daemon, prepare_daemon puts what
# aiodockerapi negotiated with it into the job.
API_VERSION = "1.41"


@dataclass
class Job:
    """Sizes and targets of one workload run; the same for every client."""

    host: str  # unix:///path of the canned server or the sandbox dockerd
    events: int = 0  # events the canned /events stream carries
    lists: int = 0  # how many /containers/json calls
    containers: int = 0  # containers in each listing
    inspects: int = 0
    in_flight: int = 1
    logs_container: str = ""
    image: str = ""  # for build (FROM) and the cycle
    context_dir: str = ""  # the build context directory
    context_tar: str = ""  # the same context as a tar file, for clients that need one
    archive_container: str = ""
    archive_path: str = ""
    cycles: int = 0
    label: str = ""  # put on every container and image a workload creates
    api_version: str = API_VERSION
    hosts: list[str] = field(default_factory=list)  # a fleet's daemons (unix:// URLs)
    limit: int = 16  # of a fleet: hosts at work at once

    def to_json(self) -> str:
        return json.dumps(asdict(self))

    @classmethod
    def from_json(cls, text: str) -> Job:
        return cls(**json.loads(text))

    @property
    def socket_path(self) -> str:
        return self.host.removeprefix("unix://")

    def inspect_ids(self) -> list[str]:
        """Container ids to inspect: made up, the canned server answers for any id."""
        return [hashlib.sha256(b"%d" % i).hexdigest() for i in range(self.inspects)]

    def container_config(self) -> dict[str, Any]:
        """The create body of the cycle workload, in the API's names."""
        return {
            "Image": self.image,
            "Cmd": ["true"],
            "Labels": {"aiodockerapi.bench": self.label},
            "HostConfig": {"NetworkMode": "none"},
        }


@dataclass
class Outcome:
    """What one worker run reports: seconds of the timed part, units of work done (to check
    that every client did the same), the RSS just before it and the peak RSS after it."""

    seconds: float
    cpu_seconds: float  # user + system time of the whole worker process (all its threads)
    units: int
    rss_base_kib: int = 0
    rss_peak_kib: int = 0
    extra: dict[str, Any] = field(default_factory=dict)


def _status_kib(field: str) -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise LookupError(field)


def reset_peak_rss() -> int:
    """Restart peak-RSS accounting (Linux: clear_refs 5) and return the RSS now, in KiB."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
    except OSError:
        pass  # the peak then also covers what came before; it can only be overstated
    return _status_kib("VmRSS")


def rss_kib() -> int:
    """The RSS now, in KiB."""
    return _status_kib("VmRSS")


def peak_rss_kib() -> int:
    """The peak RSS since the last reset, in KiB."""
    return max(_status_kib("VmHWM"), _status_kib("VmRSS"))


async def in_flight(items: Iterable[T], limit: int, fn: Callable[[T], Awaitable[object]]) -> int:
    """Run fn over items with `limit` calls in flight; return how many ran."""
    it = iter(items)
    done = 0

    async def worker() -> None:
        nonlocal done
        for item in it:
            await fn(item)
            done += 1

    await asyncio.gather(*(worker() for _ in range(limit)))
    return done


def threaded(items: Iterable[T], limit: int, fn: Callable[[T], object]) -> int:
    """The same for a blocking client: `limit` threads."""
    with ThreadPoolExecutor(max_workers=limit) as pool:
        return sum(1 for _ in pool.map(fn, items))
