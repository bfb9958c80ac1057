"""Run the benchmark suite and print the results table:

    python -m benchmarks                 # the full suite (several minutes)
    python -m benchmarks --quick         # tiny sizes, one run: proves it works

Workloads 1-4 and the fleet workloads 7-10 run against the canned server (benchmarks/canned.py,
replaying responses that benchmarks/capture.py recorded from a real dockerd; for a fleet, one
server process listens on a socket per host); workloads 5-6 against a real dockerd:
a private sandbox (tests/sandbox.py) unless --docker-host names one. Every client runs every
workload in a fresh process of its own (benchmarks/worker.py), one run of each client in
turn, so load that comes and goes on the machine falls on all of them alike; the table gives
medians. The "buildkit" workload (benchmarks/buildkit_trace.py) decodes a recorded BuildKit
build stream in this process, aiodockerapi alone against its JSON floor.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import importlib.metadata
import importlib.util
import json
import os
import platform
import shlex
import shutil
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
import uuid
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path

from . import buildkit_trace, imports
from .job import Job, Outcome
from .recorded import PAYLOADS

ROOT = Path(__file__).resolve().parent.parent
IMAGE = "aiodockerapi-bench/busybox"
CLIENTS = {
    "ours": "aiodockerapi",
    "aiodocker_peer": "aiodocker",
    "dockerpy_peer": "docker-py",
    "floor": "floor",
    "ours_serial": "one by one",  # fleets: aiodockerapi reading the hosts one after another
}
MAIN_COLUMNS = ("ours", "aiodocker_peer", "dockerpy_peer", "floor")
FLEET_KEYS = ("fleet10", "fleet200", "fleetrun")
WORKLOADS = (
    "events",
    "list",
    "inspect",
    "logs",
    "memory",
    "cycle",
    *FLEET_KEYS,
    "fleetidle",
    "import",
    "buildkit",
)
PEERS = ("aiodocker_peer", "dockerpy_peer")
MiB = 1 << 20


@dataclass(frozen=True)
class Sizes:
    events: int
    containers: int
    lists: int
    inspects: int
    in_flight: int
    logs_mib: float
    context_mib: int
    cycles: int
    cycle_in_flight: int
    runs: int
    logs_runs: int  # the logs ratios vary the most from round to round: more rounds
    fleet_events: int  # per host, 10 hosts
    fleet_hosts: int  # the large fleet
    fleet_host_events: int  # per host of the large fleet
    fleet_containers: int  # in each host's listing, for run()
    fleet_limit: int  # Fleet(limit=) of the large fleet's run()


FULL = Sizes(
    events=200_000,
    containers=500,
    lists=50,
    inspects=2000,
    in_flight=100,
    logs_mib=64,
    context_mib=1024,
    cycles=100,
    cycle_in_flight=50,
    runs=3,
    logs_runs=11,
    fleet_events=100_000,
    fleet_hosts=200,
    fleet_host_events=5000,
    fleet_containers=50,
    fleet_limit=32,
)
QUICK = Sizes(
    events=2000,
    containers=50,
    lists=3,
    inspects=100,
    in_flight=10,
    logs_mib=1,
    context_mib=4,
    cycles=2,
    cycle_in_flight=2,
    runs=1,
    logs_runs=1,
    fleet_events=2000,
    fleet_hosts=200,
    fleet_host_events=20,
    fleet_containers=5,
    fleet_limit=32,
)


@dataclass(frozen=True)
class Target:
    peer: str  # a client key
    ratio: float  # aiodockerapi's rate at least this multiple of the peer's


@dataclass
class Workload:
    key: str
    title: str
    unit: str  # of the rate
    clients: tuple[str, ...]
    targets: tuple[Target, ...] = ()
    amount: float = 0  # units of work per run, for the rate
    expected: dict[str, int] = field(default_factory=dict)  # units each client should report
    results: dict[str, list[Outcome]] = field(default_factory=dict)
    method: str = ""  # the clients' method, when not `key`

    def median(self, client: str, cpu: bool = False) -> float | None:
        runs = self.results.get(client)
        if not runs:
            return None
        return statistics.median(o.cpu_seconds if cpu else o.seconds for o in runs)

    def ratio(self, other: str, cpu: bool = False) -> float | None:
        """How many times faster ours ran than `other`: the median over the rounds of the
        ratio within each round (the two ran back to back, under the same load)."""
        ours, theirs = self.results.get("ours"), self.results.get(other)
        if not ours or not theirs:
            return None
        return statistics.median(
            (t.cpu_seconds if cpu else t.seconds) / max(o.cpu_seconds if cpu else o.seconds, 1e-9)
            for o, t in zip(ours, theirs, strict=False)
        )

    def spread(self, other: str) -> float | None:
        """How far the per-round ratios against `other` spread: their interquartile range
        over their median (None with fewer than four rounds)."""
        ours, theirs = self.results.get("ours"), self.results.get(other)
        if not ours or not theirs or min(len(ours), len(theirs)) < 4:
            return None
        ratios = [t.seconds / max(o.seconds, 1e-9) for o, t in zip(ours, theirs, strict=False)]
        q1, _, q3 = statistics.quantiles(ratios, n=4)
        return (q3 - q1) / statistics.median(ratios)

    def rate(self, client: str) -> float | None:
        seconds = self.median(client)
        return None if seconds is None else self.amount / seconds


# -- workers ------------------------------------------------------------------------------


# With two CPUs or more, the canned server and the client under test each get one of their
# own (the worker pins itself to BENCH_CPU): otherwise where the scheduler happens to put
# them moves a run's time by a tenth or more.
_CPUS = sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else []
CLIENT_CPU, SERVER_CPU = (_CPUS[0], _CPUS[1]) if len(_CPUS) >= 2 else (None, None)


def run_worker(client: str, workload: str, job: Job, timeout: float) -> Outcome:
    cmd = [sys.executable, "-m", "benchmarks.worker", client, workload, job.to_json()]
    env = {**os.environ, "BENCH_CPU": str(CLIENT_CPU)} if CLIENT_CPU is not None else None
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=timeout, env=env)
    if proc.returncode != 0:
        raise RuntimeError(
            f"{CLIENTS[client]} failed on {workload} (exit {proc.returncode}):\n{proc.stderr}"
        )
    return Outcome(**json.loads(proc.stdout.strip().splitlines()[-1]))


def run_interleaved(
    w: Workload, job: Job, runs: int, timeout: float, *, parallel: bool = False
) -> None:
    """`runs` rounds, each running every client once, in turn (all at once with `parallel`,
    for a quick run whose timings do not matter)."""
    for n in range(runs):
        with ThreadPoolExecutor(len(w.clients) if parallel else 1) as pool:
            outcomes = pool.map(lambda c: run_worker(c, w.method or w.key, job, timeout), w.clients)
            for client, outcome in zip(w.clients, outcomes, strict=True):
                w.results.setdefault(client, []).append(outcome)
                log(
                    f"  {w.key:8} {CLIENTS[client]:13} run {n + 1}/{runs}: "
                    f"{outcome.seconds:7.3f} s (cpu {outcome.cpu_seconds:.3f} s)"
                )


def run_memory(
    key: str, clients: Sequence[str], job: Job, timeout: float, parallel: bool
) -> dict[str, Outcome]:
    """One run of a memory workload per client, each in its own process (one at a time,
    unless `parallel`), after one untimed run: the first build a fresh daemon does is slower
    than the next, which would count against whichever client went first."""
    if not parallel:
        o = run_worker(clients[0], key, job, timeout)
        log(f"  {key:8} {'(warm-up)':13} {o.seconds:7.3f} s, not counted")
    with ThreadPoolExecutor(len(clients) if parallel else 1) as pool:
        outcomes = dict(
            zip(clients, pool.map(lambda c: run_worker(c, key, job, timeout), clients), strict=True)
        )
    for client, o in outcomes.items():
        grown = (o.rss_peak_kib - o.rss_base_kib) / 1024
        log(f"  {key:8} {CLIENTS[client]:13} {o.seconds:7.3f} s, peak RSS +{grown:.1f} MiB")
    return outcomes


def log(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


# -- the canned server --------------------------------------------------------------------


@contextlib.contextmanager
def canned_server(
    sizes: Sizes, tmp: Path, sockets: int = 1
) -> Iterator[tuple[str, dict[str, int]]]:
    """Start benchmarks/canned.py; yield its unix:// URL and the body sizes it serves (with
    several sockets, the URL of the first: the others end in .1, .2, ...)."""
    sock = tmp / f"canned-{sockets}.sock"
    cmd = [
        sys.executable,
        "-m",
        "benchmarks.canned",
        f"--socket={sock}",
        f"--sockets={sockets}",
        f"--events={sizes.events}",
        f"--containers={sizes.containers}",
        f"--logs-mib={sizes.logs_mib}",
    ]
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, text=True)
    if SERVER_CPU is not None:
        os.sched_setaffinity(proc.pid, {SERVER_CPU})
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        if not line.startswith("ready"):
            raise RuntimeError(f"the canned server did not start (exit {proc.wait()})")
        info = {k: int(v) for k, v in (item.split("=") for item in line.split()[1:])}
        yield f"unix://{sock}" if sockets == 1 else f"unix://{sock}.0", info
    finally:
        proc.terminate()
        proc.wait(10)


# -- real daemon preparation --------------------------------------------------------------

DOCKERFILE = """\
FROM scratch
COPY busybox /bin/busybox
RUN ["/bin/busybox", "--install", "-s", "/bin"]
"""


def write_context(directory: Path, image: str, mib: int) -> None:
    """A build context of `mib` MiB: a Dockerfile that only labels `image`, and data files
    under bench-data/ (the daemon receives them all; the build copies none)."""
    data = directory / "bench-data"
    data.mkdir(parents=True)
    (directory / "Dockerfile").write_text(f'FROM {image}\nLABEL aiodockerapi.bench="memory"\n')
    block = os.urandom(MiB)
    per_file = min(64, mib)
    remaining = mib
    n = 0
    while remaining > 0:
        count = min(per_file, remaining)
        with open(data / f"blob-{n:03d}", "wb") as f:
            for i in range(count):
                f.write(block[i % 7 :] + block[: i % 7])  # not one repeated block
        remaining -= count
        n += 1


async def prepare_daemon(host: str, tmp: Path, sizes: Sizes, label: str) -> dict[str, str]:
    """Build the busybox image, write the context directory (and its tar), and a container
    holding the context's data at /bench-data for get_archive."""
    from aiodockerapi import Docker

    tag = f"{IMAGE}:{label}"
    base = tmp / "busybox-context"
    base.mkdir()
    shutil.copy("/bin/busybox", base / "busybox")
    (base / "Dockerfile").write_text(DOCKERFILE)
    context = tmp / "context"
    await asyncio.to_thread(write_context, context, tag, sizes.context_mib)
    tar_path = tmp / "context.tar"

    def make_tar() -> None:
        with tarfile.open(tar_path, "w") as tar:
            for entry in sorted(context.iterdir()):
                tar.add(entry, arcname=entry.name)

    await asyncio.to_thread(make_tar)
    async with Docker(host) as docker:
        async for _ in docker.images.build(base, t=tag, labels={"aiodockerapi.bench": label}):
            pass
        created = await docker.containers.create(
            {
                "Image": tag,
                "Cmd": ["true"],
                "Labels": {"aiodockerapi.bench": label},
                "HostConfig": {"NetworkMode": "none"},
            }
        )
        assert created.id is not None
        await docker.containers.put_archive(created.id, context, path="/")
        version = await docker.system.version()
    # Write back the GiBs just written, so that no client's run competes with the writeback.
    await asyncio.to_thread(os.sync)
    return {
        "image": tag,
        "context_dir": str(context),
        "context_tar": str(tar_path),
        "archive_container": created.id,
        "archive_path": "/bench-data",
        "daemon": f"dockerd {version.version} (API {version.api_version})",
        "api_version": docker.api_version or "1.41",
    }


async def cleanup_daemon(host: str, label: str) -> None:
    from aiodockerapi import Docker

    async with Docker(host) as docker:
        selector = {"label": f"aiodockerapi.bench={label}"}
        for c in await docker.containers.list(all=True, filters=selector):
            assert c.id is not None
            await docker.containers.delete(c.id, force=True, v=True)
        for image in await docker.images.list(filters=selector):
            for tag in image.repo_tags or []:
                if tag.startswith(f"{IMAGE}:{label}"):
                    await docker.images.delete(tag, force=True)


@contextlib.contextmanager
def real_daemon(given: str | None) -> Iterator[str]:
    if given is not None:
        yield given
        return
    sys.path.insert(0, str(ROOT))
    from tests.sandbox import Sandbox

    with Sandbox(tls=False) as box:
        yield box.unix_url


# -- the report ---------------------------------------------------------------------------


def fmt_rate(value: float | None) -> str:
    if value is None:
        return "-"
    if value >= 100:
        return f"{value:,.0f}"
    return f"{value:,.1f}"


def version_of(dist: str) -> str:
    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return "not installed"


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    mem = ""
    with contextlib.suppress(OSError, ValueError, IndexError):
        kib = int(Path("/proc/meminfo").read_text().split()[1])
        mem = f", {kib / (1 << 20):.0f} GiB RAM"
    return f"{cpu}, {os.cpu_count()} cores{mem}; {platform.platform()}"


def report(
    workloads: Sequence[Workload],
    memory: dict[str, dict[str, Outcome]],
    context_mib: int,
    command: str,
    daemon: str | None,
) -> tuple[str, bool]:
    """The results as Markdown, and whether every target held."""
    out: list[str] = []
    add = out.append
    add(f"Command: `{command}`  ")
    add(f"Date: {dt.datetime.now(dt.timezone.utc):%Y-%m-%d %H:%M} UTC  ")
    add(f"Machine: {machine()}  ")
    add(f"Python {platform.python_version()}; load average at the end: {os.getloadavg()[0]:.2f}  ")
    versions = ", ".join(
        f"{d} {version_of(d)}"
        for d in ("aiodockerapi", "aiodocker", "docker", "aiohttp", "msgspec", "requests")
    )
    add(f"Versions: {versions}  ")
    if daemon:
        add(f"Daemon (workloads 5-6): {daemon}")
    main = [w for w in workloads if w.key not in FLEET_KEYS and w.results]
    if main:
        add("")
        add("Rates (median of the runs; higher is better):")
        add("")
        add("| workload | unit | aiodockerapi | aiodocker | docker-py | floor |")
        add("| --- | --- | ---: | ---: | ---: | ---: |")
        for w in main:
            cells = [fmt_rate(w.rate(c)) if c in w.clients else "" for c in MAIN_COLUMNS]
            add(f"| {w.title} | {w.unit} | {' | '.join(cells)} |")
        add("")
        add("aiodockerapi's speed as a multiple of each other client's: the median over the")
        add("rounds of the ratio within a round (wall clock; CPU time of the client process in")
        add("brackets, and the spread of the ratio over the rounds: interquartile range over")
        add("median, with four rounds or more), against the targets:")
        add("")
        add("| workload | vs aiodocker | vs docker-py | vs floor | targets |")
        add("| --- | ---: | ---: | ---: | --- |")
    all_held = True
    notes: list[str] = []
    fleet = [w for w in workloads if w.key in FLEET_KEYS and w.results]
    for w in [*main, *fleet]:
        if not w.results or "ours" not in w.results:
            continue
        if w is (fleet[0] if fleet else None):
            add("")
            add("Fleets: `Fleet.events()` over canned daemons (one server process, a socket per")
            add("host) against aiodockerapi reading the same hosts one after another, and against")
            add(
                "aiodocker by hand (a client per host, merged with an asyncio.Queue); `Fleet.run()`"
            )
            add(
                "against aiodocker by hand (a semaphore and asyncio.wait_for). Rates (median), then"
            )
            add("aiodockerapi's speed as a multiple of each (wall clock; CPU time in brackets):")
            add("")
            add("| workload | unit | Fleet | one by one | aiodocker by hand |")
            add("| --- | --- | ---: | ---: | ---: |")
            for f in fleet:
                cells = [
                    fmt_rate(f.rate(c)) if c in f.clients else ""
                    for c in ("ours", "ours_serial", "aiodocker_peer")
                ]
                add(f"| {f.title} | {f.unit} | {' | '.join(cells)} |")
            add("")
            add("| workload | vs one by one | vs aiodocker by hand | targets |")
            add("| --- | ---: | ---: | --- |")
        columns = (
            ("ours_serial", "aiodocker_peer")
            if w.key in FLEET_KEYS
            else ("aiodocker_peer", "dockerpy_peer", "floor")
        )
        cells = []
        for other in columns:
            ratio, cpu_ratio = w.ratio(other), w.ratio(other, cpu=True)
            if ratio is None or cpu_ratio is None:
                cells.append("")
                continue
            spread = w.spread(other)
            spread_text = f", spread {spread:.0%}" if spread is not None else ""
            cells.append(f"{ratio:.2f}x ({cpu_ratio:.2f}x{spread_text})")
        verdicts = []
        for t in w.targets:
            ratio = w.ratio(t.peer)
            if ratio is None:
                continue
            held = ratio >= t.ratio
            all_held &= held
            verdicts.append(f"{'held' if held else 'MISSED'}: >= {t.ratio:g}x {CLIENTS[t.peer]}")
        add(f"| {w.title} | {' | '.join(cells)} | {'; '.join(verdicts)} |")
        for client, runs in w.results.items():
            want = w.expected.get(client)
            got = {o.units for o in runs}
            if want is not None and got != {want}:
                notes.append(
                    f"{CLIENTS[client]} reported {', '.join(f'{g:,}' for g in sorted(got))} "
                    f"instead of {want:,} on {w.key}"
                )
    idle = memory.get("fleet_idle", {})
    if idle:
        add("")
        add("Memory per idle host of a fleet: the RSS a client and its one idle keep-alive")
        add("connection add (after a ping; garbage collected), over every host of the fleet:")
        add("")
        add("| hosts | aiodockerapi (Fleet) | aiodocker (a client per host) |")
        add("| ---: | ---: | ---: |")
        cells = [
            f"{idle[c].extra['rss_per_host_kib']:,.0f} KiB" if c in idle else "-"
            for c in ("ours", "aiodocker_peer")
        ]
        add(f"| {next(iter(idle.values())).units} | {' | '.join(cells)} |")
    if memory.keys() - {"fleet_idle"}:
        limit = 64
        add("")
        add(f"Peak memory with a {context_mib} MiB build context and a {context_mib} MiB")
        add("get_archive (peak RSS above the RSS before the call; MiB; and the rate):")
        add("")
        add("| workload | aiodockerapi | aiodocker | docker-py | target |")
        add("| --- | ---: | ---: | ---: | --- |")
        for key in ("build", "archive"):
            row = memory.get(key, {})
            cells = []
            for client in ("ours", "aiodocker_peer", "dockerpy_peer"):
                o = row.get(client)
                if o is None:
                    cells.append("-")
                    continue
                grown = (o.rss_peak_kib - o.rss_base_kib) / 1024
                cells.append(f"{grown:,.1f} MiB, {context_mib / o.seconds:,.0f} MiB/s")
            verdict = ""
            if "ours" in row:
                o = row["ours"]
                grown = (o.rss_peak_kib - o.rss_base_kib) / 1024
                held = grown < limit
                all_held &= held
                verdict = f"{'held' if held else 'MISSED'}: < {limit} MiB"
            add(f"| {key} | {' | '.join(cells)} | {verdict} |")
    if notes:
        add("")
        for note in notes:
            add(f"Note: {note}.")
    return "\n".join(out) + "\n", all_held


# -- main ---------------------------------------------------------------------------------


def build_workloads(sizes: Sizes, clients: Sequence[str], info: dict[str, int]) -> list[Workload]:
    def pick(*names: str) -> tuple[str, ...]:
        return tuple(c for c in names if c in clients)

    every = pick("ours", "aiodocker_peer", "dockerpy_peer", "floor")

    def each(units: int) -> dict[str, int]:
        return dict.fromkeys(every, units)

    payload = info["logs_payload"]
    return [
        Workload(
            "events",
            f"1. /events, {sizes.events:,} events decoded",
            "events/s",
            every,
            (Target("aiodocker_peer", 4), Target("dockerpy_peer", 2)),
            amount=sizes.events,
            expected=each(sizes.events),
        ),
        Workload(
            "list",
            f"2. list {sizes.containers} containers, {sizes.lists} times",
            "lists/s",
            every,
            (Target("aiodocker_peer", 1.5),),
            amount=sizes.lists,
            expected=each(sizes.lists * sizes.containers),
        ),
        Workload(
            "inspect",
            f"3. {sizes.inspects:,} inspects, {sizes.in_flight} in flight",
            "inspects/s",
            every,
            (Target("aiodocker_peer", 1.2), Target("dockerpy_peer", 5), Target("floor", 0.95)),
            amount=sizes.inspects,
            expected=each(sizes.inspects),
        ),
        Workload(
            "logs",
            f"4. demux a {sizes.logs_mib:g} MiB multiplexed log stream",
            "MiB/s",
            every,
            (Target("aiodocker_peer", 1.5), Target("floor", 0.9)),
            amount=info["logs_body"] / MiB,
            # Bytes of payload; aiodocker counts characters; the floor, the whole body.
            expected={"ours": payload, "dockerpy_peer": payload, "floor": info["logs_body"]},
        ),
    ]


def run_fleets(
    sizes: Sizes,
    clients: Sequence[str],
    chosen: set[str],
    tmp: Path,
    timeout: float,
    quick: bool,
    workloads: list[Workload],
    memory: dict[str, dict[str, Outcome]],
) -> None:
    """The fleet workloads: 10 hosts with many events each, then a large fleet (its merged
    events, run() over it, and the memory an idle host takes), each against one canned
    server process listening on a socket per host."""
    fleet_clients = [c for c in ("ours", "ours_serial", "aiodocker_peer") if c in clients]
    if "ours" in clients and "ours_serial" not in fleet_clients:
        fleet_clients.insert(1, "ours_serial")  # what the merge is held to
    by_hand = [c for c in ("ours", "aiodocker_peer") if c in clients]
    if "fleet10" in chosen:
        hosts, events = 10, sizes.fleet_events
        served = replace(sizes, events=events, logs_mib=0, containers=1)
        log(f"starting the canned server: {hosts} hosts, {events:,} events each")
        with canned_server(served, tmp, sockets=hosts) as (url, _):
            job = Job(url, hosts=[f"{url[:-2]}.{i}" for i in range(hosts)])
            w = Workload(
                "fleet10",
                f"7. Fleet.events(), {hosts} hosts, {events:,} events each",
                "events/s",
                tuple(fleet_clients),
                (Target("ours_serial", 0.8),),
                amount=hosts * events,
                expected=dict.fromkeys(fleet_clients, hosts * events),
                method="fleet_events",
            )
            workloads.append(w)
            run_interleaved(w, job, sizes.runs, timeout, parallel=quick)
    large = {"fleet200", "fleetrun", "fleetidle"} & chosen
    if not large:
        return
    hosts, events = sizes.fleet_hosts, sizes.fleet_host_events
    served = replace(
        sizes,
        events=events if "fleet200" in chosen else 0,
        logs_mib=0,
        containers=sizes.fleet_containers,
    )
    log(f"starting the canned server: {hosts} hosts, {events:,} events each")
    with canned_server(served, tmp, sockets=hosts) as (url, _):
        job = Job(url, hosts=[f"{url[:-2]}.{i}" for i in range(hosts)], limit=sizes.fleet_limit)
        if "fleet200" in chosen:
            w = Workload(
                "fleet200",
                f"8. Fleet.events(), {hosts} hosts, {events:,} events each",
                "events/s",
                tuple(fleet_clients),
                (Target("ours_serial", 0.8),),
                amount=hosts * events,
                expected=dict.fromkeys(fleet_clients, hosts * events),
                method="fleet_events",
            )
            workloads.append(w)
            run_interleaved(w, job, sizes.runs, timeout, parallel=quick)
        if "fleetrun" in chosen:
            w = Workload(
                "fleetrun",
                f"9. Fleet.run(): list {sizes.fleet_containers} containers on {hosts} hosts, "
                f"limit {sizes.fleet_limit}",
                "hosts/s",
                tuple(by_hand),
                amount=hosts,
                expected=dict.fromkeys(by_hand, hosts * sizes.fleet_containers),
                method="fleet_run",
            )
            workloads.append(w)
            run_interleaved(w, job, sizes.runs, timeout, parallel=quick)
        if "fleetidle" in chosen:
            memory["fleet_idle"] = {c: run_worker(c, "fleet_idle", job, timeout) for c in by_hand}
            for c, o in memory["fleet_idle"].items():
                log(f"  fleetidle {CLIENTS[c]:13} {o.extra['rss_per_host_kib']:,.0f} KiB per host")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="tiny sizes, one run each")
    parser.add_argument(
        "--runs", type=int, help="runs per client and workload (list and inspect: 4N+1)"
    )
    parser.add_argument(
        "--clients", default=",".join(CLIENTS), help=f"subset of {','.join(CLIENTS)}"
    )
    parser.add_argument(
        "--workloads",
        default=",".join(WORKLOADS),
        help=f"subset of {','.join(WORKLOADS)}",
    )
    parser.add_argument("--docker-host", help="unix:// socket of the dockerd for workloads 5-6")
    parser.add_argument("--report", type=Path, help="also write the Markdown report here")
    args = parser.parse_args(argv)
    sizes = QUICK if args.quick else FULL
    if args.runs is not None:
        sizes = replace(sizes, runs=args.runs)
    clients = [c for c in args.clients.split(",") if c]
    chosen = set(args.workloads.split(","))
    for bad in [c for c in clients if c not in CLIENTS]:
        parser.error(f"unknown client {bad!r}")
    for bad in sorted(chosen - set(WORKLOADS)):
        parser.error(f"unknown workload {bad!r}")
    for module, dist in (("aiodocker", "aiodocker"), ("docker", "docker")):
        if importlib.util.find_spec(module) is None:
            parser.error(f"{dist} is not installed: pip install -e '.[bench]'")
    if not (PAYLOADS / "manifest.json").exists():
        parser.error(f"no payloads in {PAYLOADS}: run python -m benchmarks.capture")
    manifest = json.loads((PAYLOADS / "manifest.json").read_text())
    command = shlex.join(["python", "-m", "benchmarks", *(argv or sys.argv[1:])])
    timeout = 120 if args.quick else 1200
    workloads: list[Workload] = []
    memory: dict[str, dict[str, Outcome]] = {}
    daemon: str | None = None
    imports.compile_package("aiodockerapi")  # as the peers, installed by pip, are
    with tempfile.TemporaryDirectory(prefix="aiodockerapi-bench-") as tmpdir:
        tmp = Path(tmpdir)
        canned_keys = {"events", "list", "inspect", "logs"} & chosen
        if canned_keys:
            log(
                f"starting the canned server ({sizes.events:,} events, {sizes.logs_mib:g} MiB logs)"
            )
            served = replace(
                sizes,
                events=sizes.events if "events" in chosen else 0,
                logs_mib=sizes.logs_mib if "logs" in chosen else 0,
            )
            with canned_server(served, tmp) as (url, info):
                job = Job(
                    url,
                    events=sizes.events,
                    lists=sizes.lists,
                    containers=sizes.containers,
                    inspects=sizes.inspects,
                    in_flight=sizes.in_flight,
                    logs_container=manifest["logs_container"],
                )
                for w in build_workloads(sizes, clients, info):
                    workloads.append(w)
                    # The short workloads get more runs: their medians need them more.
                    short = w.key in ("list", "inspect") and not args.quick
                    runs = sizes.runs * 4 + 1 if short else sizes.runs
                    if w.key == "logs" and args.runs is None:
                        runs = sizes.logs_runs
                    if w.key in canned_keys:
                        run_interleaved(w, job, runs, timeout, parallel=args.quick)
        run_fleets(sizes, clients, chosen, tmp, timeout, args.quick, workloads, memory)
        daemon_keys = {"memory", "cycle"} & chosen
        if daemon_keys:
            label = uuid.uuid4().hex[:12]
            with real_daemon(args.docker_host) as host:
                try:
                    log(f"preparing {host}: image, {sizes.context_mib} MiB context and archive")
                    prepared = asyncio.run(prepare_daemon(host, tmp, sizes, label))
                    daemon = prepared["daemon"]
                    job = Job(
                        host,
                        cycles=sizes.cycles,
                        in_flight=sizes.cycle_in_flight,
                        label=label,
                        image=prepared["image"],
                        context_dir=prepared["context_dir"],
                        context_tar=prepared["context_tar"],
                        archive_container=prepared["archive_container"],
                        archive_path=prepared["archive_path"],
                        api_version=prepared["api_version"],
                    )
                    peers = [c for c in clients if c in ("ours", *PEERS)]
                    if "memory" in daemon_keys:
                        for key in ("build", "archive"):
                            memory[key] = run_memory(key, peers, job, timeout, args.quick)
                    if "cycle" in daemon_keys:
                        w = Workload(
                            "cycle",
                            f"6. create/start/wait/delete on dockerd, {sizes.cycles} cycles, "
                            f"{sizes.cycle_in_flight} in flight",
                            "cycles/s",
                            tuple(peers),
                            amount=sizes.cycles,
                            expected=dict.fromkeys(peers, sizes.cycles),
                        )
                        workloads.append(w)
                        runs = max(1, min(sizes.runs, 3))
                        run_interleaved(w, job, runs, timeout, parallel=args.quick)
                finally:
                    asyncio.run(cleanup_daemon(host, label))
    text, held = report(workloads, memory, sizes.context_mib, command, daemon)
    if "import" in chosen:
        log("import time: fresh interpreters, taking turns")
        samples = imports.measure(clients, 3 if args.quick else 21)
        imported, import_held = imports.report(samples, CLIENTS)
        text += "\n" + imported
        held = held and import_held
    if "buildkit" in chosen:
        log("BuildKit traces: decoding a recorded build stream, in this process")
        traced = buildkit_trace.measure(2_000 if args.quick else 50_000, 1 if args.quick else 9)
        traced_text, traced_held = buildkit_trace.report(traced)
        text += "\n" + traced_text
        held = held and traced_held
    print(text)
    if args.report is not None:
        args.report.write_text(text)
    print("all targets held" if held else "some targets were missed")
    return 0


if __name__ == "__main__":
    started = time.monotonic()
    status = main()
    log(f"done in {time.monotonic() - started:.0f} s")
    sys.exit(status)
