"""The command line's BuildKit session flags (--secret, --ssh, --output): parsed as buildx
takes them, and real builds with them."""

from __future__ import annotations

import argparse
import asyncio
import io
import sys
import tarfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from aiodockerapi.cli import build_flags
from aiodockerapi.cli.build_flags import SecretSpec
from aiodockerapi.cli.formats import CliError
from aiodockerapi.cli.parser import build_parser

from .sandbox import ENGINE, Sandbox
from .session_kit import (
    BUILD_TIMEOUT,
    EXPORTED_SECRET,
    Agent,
    copy_with_libs,
    dockerfile,
    new_context_dir,
    two_agents,
)
from .test_cli import cli, cli_env

pytestmark = [
    pytest.mark.daemon,
    pytest.mark.skipif(ENGINE == "podman", reason="Podman has no BuildKit session"),
]


@pytest.fixture
def context_dir(tmp_path: Path, image: str) -> Path:
    """An empty build context; the test image (its FROM) is built first."""
    return new_context_dir(tmp_path)


@pytest.fixture
def agents(tmp_path: Path) -> Iterator[tuple[Agent, Agent]]:
    with two_agents(tmp_path) as pair:
        yield pair


# --- the command line ------------------------------------------------------------------------


def build_args(*flags: str) -> argparse.Namespace:
    return build_parser().parse_args(["build", *flags, "."])


def test_cli_secret_flags_parse_as_buildx_takes_them(monkeypatch: pytest.MonkeyPatch) -> None:
    args = build_args(
        "--secret",
        "id=tok,src=/run/tok.txt",
        "--secret",
        "id=api,env=API_KEY",
        "--secret",
        "id=other,type=env,source=OTHER",
        "--secret",
        "id=BARE",
    )
    assert args.secret == [
        SecretSpec("tok", "/run/tok.txt", None),
        SecretSpec("api", None, "API_KEY"),
        SecretSpec("other", None, "OTHER"),
        SecretSpec("BARE", None, "BARE"),
    ]
    monkeypatch.setenv("API_KEY", "k1")
    monkeypatch.setenv("OTHER", "k2")
    monkeypatch.setenv("BARE", "k3")
    assert build_flags.secrets_of(args.secret) == {
        "tok": Path("/run/tok.txt"),
        "api": "k1",
        "other": "k2",
        "BARE": "k3",
    }
    monkeypatch.delenv("BARE")
    with pytest.raises(CliError, match="id=BARE: environment variable BARE is not set"):
        build_flags.secrets_of(args.secret)


@pytest.mark.parametrize(
    ("flag", "fragment"),
    [
        ("--secret=src=/x", "an id is needed"),
        ("--secret=id=a,src=/x,env=Y", "src or env, not both"),
        ("--secret=id=a,mode=0400", "unexpected key 'mode'"),
        ("--secret=id=a,type=ssh", "type is file or env"),
        ("--ssh=default=/a.sock,/b.sock", "one agent socket per id"),
        ("--ssh==/a.sock", "expected ID[=SOCKET]"),
        ("--output=type=image", "type is local or tar"),
        ("--output=type=local", "a dest is needed"),
        ("--output=type=local,dest=-", "only type=tar"),
        ("--output=type=tar,dest=x,compression=gzip", "unexpected key 'compression'"),
    ],
)
def test_cli_bad_session_flags_are_usage_errors(
    flag: str, fragment: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exited:
        build_args(flag)
    assert exited.value.code == 125  # docker exits 125 on a usage error
    assert fragment in capsys.readouterr().err


def test_cli_ssh_and_output_flags() -> None:
    args = build_args("--ssh", "default", "--ssh", "work=/run/agent.sock", "-o", "out")
    assert build_flags.ssh_of(args.ssh) == {"default": None, "work": "/run/agent.sock"}
    assert args.output == {"type": "local", "dest": "out"}
    assert build_args("--output", "type=tar,dest=img.tar").output == {
        "type": "tar",
        "dest": "img.tar",
    }
    assert build_args("--output", "type=local,dest=dir").output == {
        "type": "local",
        "dest": "dir",
    }
    assert build_args("-o", "-").output == {"type": "tar", "dest": sys.stdout.buffer}
    assert build_args("-o", "type=tar,dest=-").output == {"type": "tar", "dest": sys.stdout.buffer}


async def test_cli_build_with_a_secret_and_an_agent(
    sandbox: Sandbox, context_dir: Path, agents: tuple[Agent, Agent], tmp_path: Path
) -> None:
    copy_with_libs("/usr/bin/ssh-add", context_dir / "root")
    dockerfile(
        context_dir,
        "COPY root/ /",
        'RUN --mount=type=secret,id=tok test "$(cat /run/secrets/tok)" = from-env',
        'RUN --mount=type=secret,id=file test "$(cat /run/secrets/file)" = from-file',
        "RUN --mount=type=ssh,id=work ssh-add -l | grep -q key-two",
    )
    (tmp_path / "secret.txt").write_text("from-file")
    done = await cli(
        "-H",
        sandbox.unix_url,
        "build",
        "-q",
        "--no-cache",
        "--network",
        "none",
        "--secret",
        "id=tok,env=THE_TOKEN",
        "--secret",
        f"id=file,src={tmp_path / 'secret.txt'}",
        "--ssh",
        f"work={agents[1].socket}",
        str(context_dir),
        env=cli_env(THE_TOKEN="from-env"),
        timeout=BUILD_TIMEOUT,
    )
    assert done.status == 0, done
    assert done.out.strip().startswith("sha256:")


async def test_cli_exports_locally_and_as_a_tar_on_stdout(
    sandbox: Sandbox, context_dir: Path, tmp_path: Path
) -> None:
    (context_dir / "Dockerfile").write_text(EXPORTED_SECRET)
    # Secrets are not part of BuildKit's cache keys: without --no-cache the step could come
    # from another test's build of the same Dockerfile, with that test's secret.
    common = [
        "-H",
        sandbox.unix_url,
        "build",
        "--no-cache",
        "--network",
        "none",
        "--secret",
        "id=tok",
    ]
    env = cli_env(tok="exported-by-cli")
    dest = tmp_path / "out"
    done = await cli(*common, "-o", f"type=local,dest={dest}", str(context_dir), env=env)
    assert done.status == 0, done
    assert (dest / "out").read_text() == "exported-by-cli"
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "aiodockerapi",
        *common,
        "-o",
        "-",
        str(context_dir),
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    stdout, stderr = await asyncio.wait_for(process.communicate(), BUILD_TIMEOUT)
    assert process.returncode == 0, stderr
    with tarfile.open(fileobj=io.BytesIO(stdout)) as tar:
        member = tar.extractfile("out")
        assert member is not None and member.read() == b"exported-by-cli"
    assert b"DONE" in stderr  # the progress went to standard error
