"""Ids and names from untrusted sources fill one path segment and nothing else.

Every operation with a path argument (from the generated operation table) is tried, against
the real daemon, with ids that would reach another endpoint if they were pasted into the
path as they are: each is refused with ValueError before any request, or sent as one literal
segment that the daemon answers with an error; an image made for the test survives all of it.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator

import pytest
from hypothesis import given
from hypothesis import strategies as st

from aiodockerapi import Docker, DockerError, NotFound
from aiodockerapi.operation import Operation
from aiodockerapi.operations import OPERATIONS
from aiodockerapi.params import encode_param

from .conftest import served_api_calls
from .sandbox import Sandbox
from .test_cli import assert_one_line_error, cli

pytestmark = pytest.mark.daemon

VICTIM = "aiodockerapi-test/victim:1"

# What a careless client would turn into another request: other endpoints through dot
# segments (raw or percent-encoded), header injection, truncation, and sheer length.
HOSTILE = [
    "../images/aiodockerapi-test/victim:1",
    "x/../../images/aiodockerapi-test/victim:1",
    "..",
    ".",
    "%2e%2e",
    "..%2Fimages%2Faiodockerapi-test%2Fvictim:1",
    "a/b",
    "a//b",
    "x\r\nX-Injected: 1",
    "x\nGET /images/json HTTP/1.1",
    "x\x00y",
    "has space",
    "q?force=1",
    "frag#x",
    "x" * 5000,
    "",
]
# Without a repository, newer daemons answer a tag request before looking the image up.
QUERY = {"ImageTag": {"repo": "aiodockerapi-test/tagged"}}
# Sent, a valid reference makes the daemon ask its registry (docker.io), or would if the
# image existed: never sent here (the network rule), their paths are checked all the same.
NOT_SENT = {"DistributionInspect", "ImagePush"}


def with_path_args() -> list[Operation]:
    return [op for op in OPERATIONS.values() if op.path_params]


@pytest.fixture
async def victim(docker: Docker, image: str) -> AsyncIterator[str]:
    await docker.images.tag(image, repo="aiodockerapi-test/victim", tag="1")
    yield VICTIM
    await docker.images.delete(VICTIM)


def test_every_operation_with_a_path_argument_is_covered() -> None:
    ops = with_path_args()
    assert len(ops) == 63  # all but the lists, creates, prunes and /system, /build, /swarm
    assert {"ContainerDelete", "ImageDelete", "ExecStart", "PluginDelete"} <= {op.id for op in ops}


async def test_hostile_ids_reach_no_other_endpoint(docker: Docker, victim: str) -> None:
    spoken = tuple(map(int, (await docker.transport.negotiated_version()).split(".")))
    refused = answered = 0
    for op in with_path_args():
        if op.since > spoken:
            continue  # tests/test_api_versions.py: refused before any request
        for bad in HOSTILE:
            args = [bad] + ["x"] * (len(op.path_params) - 1)
            try:
                req = op(*args, **QUERY.get(op.id, {}))
            except ValueError as exc:
                assert repr(op.path_params[0]) in str(exc), (op, bad, exc)
                refused += 1
                continue
            # Bound: then the id is one segment with nothing the daemon would read as a
            # separator, a dot segment or another line.
            segment = req.path.split("/")
            assert not {".", ".."} & set(segment), (op, bad, req.path)
            assert not re.search(r"[\x00-\x20?#]", req.path), (op, bad, req.path)
            if op.id in NOT_SENT:
                continue
            with pytest.raises(DockerError) as caught:
                await docker.transport.call(req)
            assert caught.value.status is not None and caught.value.status >= 400, (op, bad)
            answered += 1
    assert refused and answered
    assert (await docker.images.inspect(victim)).id  # still there


async def test_refused_ids_send_nothing(docker: Docker) -> None:
    await docker.system.ping()
    before = len(served_api_calls())
    for call in (
        docker.containers.delete("../images/aiodockerapi-test/victim:1"),
        docker.containers.inspect(".."),
        docker.images.delete("../x"),
        docker.volumes.delete("a\r\nb"),
        docker.networks.inspect(""),
    ):
        with pytest.raises(ValueError, match=r"must|not a valid"):
            await call
    with pytest.raises(ValueError, match="CR, LF or NUL"):
        docker.containers.logs("abc", tail="all\r\nX: 1")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="CR, LF or NUL"):
        await docker.containers.kill("abc", signal="KILL\nX: 1")
    assert len(served_api_calls()) == before


async def test_a_literal_segment_is_not_found(docker: Docker) -> None:
    for bad in ("%2e%2e", "a/b", "has space", "x" * 5000):
        with pytest.raises(NotFound):
            await docker.containers.inspect(bad)


@given(st.text(max_size=40))
def test_path_builder_never_writes_a_dot_segment_or_a_control_character(text: str) -> None:
    for op in (OPERATIONS["ContainerInspect"], OPERATIONS["ImageInspect"]):
        try:
            path = op(text).path
        except ValueError:
            continue
        assert not {".", ".."} & set(path.split("/")), path
        assert not re.search(r"[\x00-\x20\x7f?#]", path), path


@given(st.text(max_size=40))
def test_query_encoder_never_writes_cr_lf_or_nul(text: str) -> None:
    out: list[tuple[str, str]] = []
    try:
        encode_param(out, "tail", text)
        encode_param(out, "filters", {"name": [text]})
        encode_param(out, "buildargs", {"A": text})
    except ValueError:
        assert re.search(r"[\r\n\x00]", text)
        return
    assert not any(re.search(r"[\r\n\x00]", value) for _, value in out)


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["logs", "../images/aiodockerapi-test/victim:1"], "'.' or '..' path segments"),
        (["push", "../x"], "not a valid image or plugin reference"),
    ],
)
async def test_the_cli_refuses_a_bad_id_in_one_line(
    sandbox: Sandbox, args: list[str], fragment: str
) -> None:
    done = await cli("--host", sandbox.unix_url, *args)
    assert_one_line_error(done, 1, fragment)
