"""One client, one workload, one timed run, in a process of its own:

    python -m benchmarks.worker CLIENT WORKLOAD JOB_JSON

imports only that client, opens it, warms it up, times the workload and prints an Outcome
as JSON on its last line of output.
"""

from __future__ import annotations

import asyncio
import importlib
import inspect
import json
import os
import sys
import time
from dataclasses import asdict
from typing import Any

from .job import Job, Outcome, peak_rss_kib, reset_peak_rss

CLIENTS = ("ours", "ours_serial", "aiodocker_peer", "dockerpy_peer", "floor")


async def _maybe(value: Any) -> Any:
    return await value if inspect.isawaitable(value) else value


async def run(client_name: str, workload: str, job: Job) -> Outcome:
    module = importlib.import_module(f"benchmarks.clients.{client_name}")
    client = module.Client(job)
    await _maybe(client.open())
    try:
        warmup = getattr(client, f"warmup_{workload}", None)
        if warmup is not None:
            await _maybe(warmup())
        base = reset_peak_rss()
        cpu = time.process_time()
        start = time.perf_counter()
        units = await _maybe(getattr(client, workload)())
        seconds = time.perf_counter() - start
        cpu = time.process_time() - cpu
        peak = peak_rss_kib()
    finally:
        await _maybe(client.close())
    extra: dict[str, Any] = {}
    if isinstance(units, tuple):  # (units, what else the workload measured)
        units, extra = units
    return Outcome(seconds, cpu, units, base, peak, extra)


def main(argv: list[str]) -> int:
    client_name, workload, job_json = argv
    cpu = os.environ.get("BENCH_CPU")
    if cpu is not None:
        os.sched_setaffinity(0, {int(cpu)})
    if client_name not in CLIENTS:
        raise SystemExit(f"unknown client {client_name!r}: one of {', '.join(CLIENTS)}")
    outcome = asyncio.run(run(client_name, workload, Job.from_json(job_json)))
    print(json.dumps(asdict(outcome)), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
