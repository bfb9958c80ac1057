"""The benchmark suite runs, in its quick mode: it proves the suite works, not how fast."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from benchmarks.canned import Canned
from benchmarks.recorded import PAYLOADS, load

from .sandbox import Sandbox

ROOT = Path(__file__).resolve().parent.parent


def test_payloads_are_recorded_daemon_responses() -> None:
    manifest = json.loads((PAYLOADS / "manifest.json").read_text())
    assert manifest["api_version"] == "1.41"
    events = load("events.http")
    assert events.header("Api-Version") == "1.41"
    assert events.chunks is not None and len(events.chunks) > 1000
    logs = load("logs.http")
    assert logs.chunks is not None and logs.body[:1] in (b"\x01", b"\x02")
    total = sum(p.stat().st_size for p in PAYLOADS.rglob("*") if p.is_file())
    assert total < 4_000_000  # small in the repository; the canned server scales them


def test_canned_server_scales_the_recordings() -> None:
    canned = Canned(PAYLOADS, events=5000, containers=700, logs_bytes=3 << 20)
    events = [line for line in canned.events.body.split(b"\r\n") if line.startswith(b"{")]
    assert len(events) == 5000
    ids = {json.loads(e).get("Actor", {}).get("ID") for e in events}
    assert len(ids) > 1000  # repetitions carry new ids
    times = [json.loads(e)["time"] for e in events]
    assert max(times) > times[0]
    listing = json.loads(canned.containers.body.split(b"\r\n", 1)[1].rsplit(b"\r\n0\r\n", 1)[0])
    assert len(listing) == 700 and len({c["Id"] for c in listing}) == 700
    assert canned.logs_body >= 3 << 20


def test_quick_run_prints_the_table(sandbox: Sandbox) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "benchmarks", "--quick", "--docker-host", sandbox.unix_url],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    out = proc.stdout
    assert "| workload | unit | aiodockerapi | aiodocker | docker-py | floor |" in out
    for row in ("1. /events", "2. list", "3. 100 inspects", "4. demux", "6. create/start"):
        assert out.count(f"| {row}") == 2, row  # a rate row and a ratio row
    assert "| build |" in out and "| archive |" in out
    assert "vs aiodocker" in out and ("held" in out or "MISSED" in out)
    assert "Command: `python -m benchmarks --quick" in out
    for leak in ("Unclosed", "ResourceWarning", "Traceback"):
        assert leak not in proc.stderr, proc.stderr[-3000:]


@pytest.mark.parametrize("bad", [["--clients", "nobody"], ["--workloads", "events", "--runs", "x"]])
def test_bad_arguments_are_refused(bad: list[str]) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "benchmarks", *bad], cwd=ROOT, capture_output=True, text=True
    )
    assert proc.returncode == 2
    assert "usage:" in proc.stderr
