"""Import time: a fresh interpreter imports one client's package, the clients taking turns.

What is timed is Python's own account of the import (`-X importtime`, the package's
cumulative line), so interpreter start-up is left out; each round runs every client once,
in a rotated order, and a client's ratio is the median of the per-round ratios.

Before the first round every package's bytecode is written (compile_package), so each is
read from it, as pip leaves an installed package: an editable checkout run with
PYTHONDONTWRITEBYTECODE=1 would otherwise compile its sources on every import (about 16 ms
of aiodockerapi's time, measured) while the peers' came compiled.
"""

from __future__ import annotations

import compileall
import importlib.util
import statistics
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

# What `import` each client means; the floor is bare aiohttp and msgspec.
MODULES = {
    "ours": "aiodockerapi",
    "aiodocker_peer": "aiodocker",
    "dockerpy_peer": "docker",
    "floor": "aiohttp, msgspec",
}


def import_seconds(modules: str) -> float:
    """Seconds a fresh interpreter takes to import `modules` (a comma-separated list)."""
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", f"import {modules}"],
        capture_output=True,
        text=True,
        check=True,
    )
    names = [m.strip() for m in modules.split(",")]
    total = 0
    for line in done.stderr.splitlines():
        parts = line.split("|")
        if len(parts) == 3 and parts[2].rstrip() in (f" {n}" for n in names):
            total += int(parts[1])
    return total / 1e6


def compile_package(name: str) -> None:
    """Write the bytecode of every module of package `name`, as pip does when installing it.

    Besides import time, whether a module came from its bytecode or was compiled from
    source in the process moves the speed of what it then runs, here by about 5% on the
    inspect workload (measured on 2026-12-02, both ways, old code and new): every worker
    should run the same kind of code as the peers, which pip installed compiled.
    """
    spec = importlib.util.find_spec(name)
    if spec is None or spec.origin is None:
        raise RuntimeError(f"{name} is not installed")
    compileall.compile_dir(Path(spec.origin).parent, quiet=1)


def measure(clients: Sequence[str], rounds: int) -> dict[str, list[float]]:
    chosen = [c for c in clients if c in MODULES]
    for client in chosen:
        for name in MODULES[client].split(","):
            compile_package(name.strip())
    samples: dict[str, list[float]] = {c: [] for c in chosen}
    for r in range(rounds):
        order = chosen[r % len(chosen) :] + chosen[: r % len(chosen)]
        for client in order:
            samples[client].append(import_seconds(MODULES[client]))
    return samples


def report(samples: dict[str, list[float]], names: dict[str, str]) -> tuple[str, bool]:
    """A Markdown table of median import times, and ours against the others'."""
    lines = [
        "Import time (`python -X importtime -c 'import ...'`, median of "
        f"{len(next(iter(samples.values())))} fresh interpreters, every package's bytecode "
        "cached; lower is better):",
        "",
        "| client | module | ms | aiodockerapi's time as a multiple of it |",
        "| --- | --- | ---: | ---: |",
    ]
    ours = samples.get("ours", [])
    held = True
    for client, times in samples.items():
        ratio = ""
        if ours and client != "ours":
            ratio = f"{statistics.median(a / b for a, b in zip(ours, times, strict=True)):.2f}x"
            if client == "aiodocker_peer":
                held = float(ratio[:-1]) <= 1.0
                ratio += " (target <= 1.0x: " + ("held)" if held else "missed)")
        ms = statistics.median(times) * 1000
        lines.append(f"| {names.get(client, client)} | `{MODULES[client]}` | {ms:.0f} | {ratio} |")
    return "\n".join(lines) + "\n", held
