"""Record the raw POST /build?version=2 streams that tests/test_buildkit.py replays.

    AIODOCKERAPI_DAEMON=28.5 .venv/bin/python -m tests.data.buildkit.record
    .venv/bin/python -m tests.data.buildkit.record --lines

Starts a private sandbox dockerd of that flavour (default 20.10), sends each Dockerfile below
with the static busybox as a tar body over a plain HTTP request (no aiodockerapi involved),
and writes each response body as it came to <flavour>-<name>.jsonl beside this file.

With --lines it records only the LINES build instead, for the trace-decoding benchmark
(benchmarks/buildkit_trace.py): a RUN step printing 52,000 lines, one every millisecond or
so, which BuildKit sends as a trace message each, nearly (about 51,000 messages; printed all
at once, the lines come batched into a few dozen messages). That body is gzipped:
<flavour>-lines.jsonl.gz.
"""

from __future__ import annotations

import gzip
import io
import sys
import tarfile
from pathlib import Path
from urllib.parse import urlencode

from tests.sandbox import API_VERSION, FLAVOUR, Sandbox, unix_request

HERE = Path(__file__).resolve().parent

OK = """\
FROM scratch AS base
COPY busybox /bin/busybox
RUN ["/bin/busybox", "--install", "-s", "/bin"]

FROM base AS one
RUN echo hello-from-one && echo one > /one

FROM base AS two
ARG GREETING=hi
RUN --mount=type=cache,target=/cache sh -c 'echo $GREETING | tee /cache/g; echo to-stderr >&2'

FROM base
COPY --from=one /one /one
COPY --from=two /bin/busybox /two
LABEL stage=final
"""

FAIL = """\
FROM scratch AS base
COPY busybox /bin/busybox
RUN ["/bin/busybox", "--install", "-s", "/bin"]

FROM base AS stage-1
RUN echo before
RUN sh -c 'echo boom >&2; exit 3'
RUN touch /never
"""

LINES = """\
FROM scratch
COPY busybox /bin/busybox
RUN ["/bin/busybox", "--install", "-s", "/bin"]
RUN i=0; while [ $i -lt 52000 ]; do i=$((i+1)); echo line $i; read -t 0.001 x < /dev/zero || :; done
"""

BUILDS = {
    "ok": (OK, {"buildargs": '{"GREETING": "hey"}', "t": "record-ok"}),
    "fail": (FAIL, {"t": "record-fail"}),
}


def context_tar(dockerfile: str) -> bytes:
    """A tar body with the Dockerfile and /bin/busybox (ustar: no pax header for a float
    mtime, which BuildKit's context sniffing would take for a Dockerfile)."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.USTAR_FORMAT) as tar:
        tar.add("/bin/busybox", arcname="busybox")
        data = dockerfile.encode()
        info = tarfile.TarInfo("Dockerfile")
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def main() -> int:
    builds = BUILDS
    if sys.argv[1:] == ["--lines"]:
        builds = {"lines": (LINES, {"t": "record-lines"})}
    elif sys.argv[1:]:
        print("usage: python -m tests.data.buildkit.record [--lines]", file=sys.stderr)
        return 2
    with Sandbox(tls=False) as box:
        for name, (dockerfile, params) in builds.items():
            query = urlencode({"version": "2", "networkmode": "none", **params})
            status, body = unix_request(
                box.unix_socket,
                "POST",
                f"/v{API_VERSION}/build?{query}",
                body=context_tar(dockerfile),
                headers={"Content-Type": "application/x-tar"},
                timeout=600,
            )
            if status != 200:
                print(f"{name}: HTTP {status}: {body[:500]!r}", file=sys.stderr)
                return 1
            out = HERE / f"{FLAVOUR}-{name}.jsonl"
            if name == "lines":
                out = out.with_name(out.name + ".gz")
                body = gzip.compress(body, compresslevel=9, mtime=0)
            out.write_bytes(body)
            print(f"{out.name}: {len(body)} bytes")
    return 0


if __name__ == "__main__":
    sys.exit(main())
