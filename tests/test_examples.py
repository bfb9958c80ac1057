"""The examples run as a user would run them, against the test daemon."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from .sandbox import Sandbox

pytestmark = pytest.mark.daemon

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def run(script: str, *args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(EXAMPLES / script), *args],
        env={**os.environ, "PYTHONPATH": str(EXAMPLES.parent), **env},
        capture_output=True,
        text=True,
        timeout=180,
    )


def test_tour(sandbox: Sandbox) -> None:
    done = run("tour.py", env={"DOCKER_HOST": sandbox.unix_url})
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert "building aiodockerapi-tour/busybox:latest" in out
    assert "exited with 0" in out
    assert "stdout: hello from stdout" in out and "stderr: and from stderr" in out
    assert "event container create" in out and "event container die" in out
    assert "pruned 1 container(s)" in out


def test_fleet_example_with_a_host_down(sandbox: Sandbox, image: str, tmp_path: Path) -> None:
    down = f"unix://{tmp_path}/down.sock"
    done = run("fleet.py", sandbox.unix_url, down, env={"FLEET_IMAGE": image})
    assert done.returncode == 0, done.stderr
    assert f"{down}: DOWN" in done.stdout
    assert f"{sandbox.unix_url}: exit 0: hello from" in done.stdout
    assert f"[{sandbox.unix_url}] create" in done.stdout
