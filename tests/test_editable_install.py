"""`pip install -e .` gives mypy a package it can follow: with the src layout setuptools
writes a plain .pth (no import hook mypy can't see), so a user's script type-checks against
the editable checkout."""

from __future__ import annotations

import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

USER_SCRIPT = """\
import asyncio

from aiodockerapi import Docker, NotFound
from aiodockerapi.editable_marker import WHERE  # only the copy installed here has it


async def main() -> None:
    async with Docker() as docker:
        info = await docker.system.info()
        running: int = info.containers_running
        names = [c.names for c in await docker.containers.list(all=True)]
        try:
            await docker.containers.inspect("nothing-here")
        except NotFound as exc:
            print(exc.status, exc.message, running, names, WHERE.upper())


asyncio.run(main())
"""

# A call mypy must reject: proof that it reads the package's types, not Any.
WRONG_SCRIPT = """\
from aiodockerapi import Docker


async def main(docker: Docker) -> None:
    await docker.containers.list(limit="ten")
"""


def _egg_infos() -> dict[Path, int]:
    """The checkout's egg-info files (its own dev install's) and their mtimes."""
    found = [*ROOT.glob("*.egg-info/*"), *ROOT.glob("src/*.egg-info/*")]
    return {path: path.stat().st_mtime_ns for path in found}


def _run(*args: str | Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(a) for a in args], cwd=cwd, capture_output=True, text=True, timeout=300
    )


@pytest.fixture(scope="module")
def fresh(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A new venv with a copy of the project installed editable (older setuptools leave an
    egg-info next to the sources: in the copy, never the checkout) and, through a .pth, this
    venv's site-packages for the dependencies (no index is reached)."""
    work = tmp_path_factory.mktemp("editable")
    copy = work / "project"
    copy.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, copy / name)
    shutil.copytree(
        ROOT / "src", copy / "src", ignore=shutil.ignore_patterns("__pycache__", "*.egg-info")
    )
    (copy / "src" / "aiodockerapi" / "editable_marker.py").write_text('WHERE: str = "copy"\n')

    # No pip of its own: this venv's pip and setuptools (>= 70.1, which builds editable
    # wheels without the wheel package) come through the .pth with the dependencies.
    venv = work / "fresh"
    made = _run(sys.executable, "-m", "venv", "--without-pip", venv, cwd=work)
    assert made.returncode == 0, made.stderr
    python = venv / "bin" / "python"
    site = _run(python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])", cwd=work)
    deps = sysconfig.get_paths()["purelib"]  # this venv's: aiohttp, msgspec, anyio
    (Path(site.stdout.strip()) / "project-deps.pth").write_text(deps + "\n")
    before = _egg_infos()
    installed = _run(
        python, "-m", "pip", "install", "--no-deps", "--no-build-isolation", "--no-index",
        "--disable-pip-version-check", "-e", copy, cwd=work,
    )  # fmt: skip
    assert installed.returncode == 0, installed.stdout + installed.stderr
    assert _egg_infos() == before, "pip wrote into the checkout"
    return work


def test_the_install_is_a_plain_path(fresh: Path) -> None:
    python = fresh / "fresh" / "bin" / "python"
    where = _run(python, "-c", "import aiodockerapi; print(aiodockerapi.__file__)", cwd=fresh)
    assert where.returncode == 0, where.stderr
    assert Path(where.stdout.strip()) == fresh / "project/src/aiodockerapi/__init__.py"
    pths = list((fresh / "fresh").glob("lib/python*/site-packages/__editable__*aiodockerapi*"))
    assert [p.suffix for p in pths] == [".pth"]
    assert pths[0].read_text().strip() == str(fresh / "project" / "src")


def test_a_user_script_type_checks_against_the_editable_install(fresh: Path) -> None:
    (fresh / "user_script.py").write_text(USER_SCRIPT)
    (fresh / "wrong_script.py").write_text(WRONG_SCRIPT)
    python = fresh / "fresh" / "bin" / "python"
    mypy = (sys.executable, "-m", "mypy", "--strict", "--no-incremental", "--python-executable")

    checked = _run(*mypy, python, "user_script.py", "wrong_script.py", cwd=fresh)
    assert "Cannot find implementation or library stub" not in checked.stdout, checked.stdout
    errors = [line for line in checked.stdout.splitlines() if ": error: " in line]
    assert len(errors) == 1, checked.stdout + checked.stderr
    assert errors[0].startswith("wrong_script.py:5: error: ")
    # mypy names the class that defines list: ContainerOps, under docker.containers.
    assert 'Argument "limit" to "list" of "ContainerOps"' in errors[0]
