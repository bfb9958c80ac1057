"""Where a daemon is and how to reach it securely: host URLs, TLS, the config directory.

`parse_host` reads a host URL (unix://, tcp://, http://, https://, ssh://) into a `Host`;
`TLSConfig` is the TLS a tcp:// host is reached with; `config_dir` and `cert_files` are
the Docker CLI's config directory and the ca.pem/cert.pem/key.pem layout of a cert
directory (DOCKER_CERT_PATH, or a context's TLS directory).
"""

from __future__ import annotations

import os
import ssl
from collections.abc import Mapping
from pathlib import Path
from typing import Final
from urllib.parse import urlsplit

import msgspec

__all__ = [
    "DEFAULT_HOST",
    "Host",
    "TLSConfig",
    "TLSFiles",
    "cert_files",
    "config_dir",
    "parse_host",
    "tls_config",
]

DEFAULT_HOST: Final = "unix:///var/run/docker.sock"


def config_dir() -> Path:
    """The Docker CLI's config directory: DOCKER_CONFIG, else ~/.docker."""
    env = os.environ.get("DOCKER_CONFIG")
    return Path(env) if env else Path.home() / ".docker"


class TLSFiles(msgspec.Struct, frozen=True):
    """TLS material of an endpoint: paths, any of which may be absent."""

    ca_cert: Path | None
    client_cert: tuple[Path, Path] | None
    verify: bool = True


def cert_files(path: str | os.PathLike[str], verify: bool = True) -> TLSFiles:
    """ca.pem, cert.pem and key.pem from one directory (those that exist), as
    DOCKER_CERT_PATH and a context's TLS directory lay them out."""
    base = Path(path)
    ca, cert, key = base / "ca.pem", base / "cert.pem", base / "key.pem"
    return TLSFiles(
        ca_cert=ca if ca.exists() else None,
        client_cert=(cert, key) if cert.exists() and key.exists() else None,
        verify=verify,
    )


class TLSConfig(msgspec.Struct, frozen=True):
    """TLS for a tcp:// host: the CA to trust and the client certificate to present."""

    ca_cert: str | os.PathLike[str] | None = None
    client_cert: tuple[str | os.PathLike[str], str | os.PathLike[str]] | None = None
    verify: bool = True

    @classmethod
    def from_cert_path(cls, path: str | os.PathLike[str], *, verify: bool = True) -> TLSConfig:
        """ca.pem, cert.pem and key.pem from one directory, as DOCKER_CERT_PATH lays them out."""
        files = cert_files(path, verify)
        return cls(ca_cert=files.ca_cert, client_cert=files.client_cert, verify=verify)

    def ssl_context(self) -> ssl.SSLContext:
        """Build the SSLContext; a missing or unreadable file raises ValueError naming it."""
        try:
            ctx = ssl.create_default_context(cafile=self.ca_cert)
            if self.client_cert is not None:
                ctx.load_cert_chain(*self.client_cert)
        except (OSError, ssl.SSLError) as exc:
            raise ValueError(f"invalid TLS configuration {self!r}: {exc}") from None
        if not self.verify:
            ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE
        return ctx


def tls_config(
    tls: TLSConfig | bool | None, endpoint: TLSFiles | None, env: Mapping[str, str]
) -> TLSConfig | None:
    """The TLS to use: `tls` as given (True: read DOCKER_CERT_PATH, else the config
    directory; False: none), else the endpoint's files (a context's, DOCKER_TLS_VERIFY's)."""
    if tls is None and endpoint is not None:
        return TLSConfig(endpoint.ca_cert, endpoint.client_cert, verify=endpoint.verify)
    if tls is True:
        return TLSConfig.from_cert_path(env.get("DOCKER_CERT_PATH") or config_dir())
    return tls or None


class Host(msgspec.Struct, frozen=True):
    """A parsed Docker host URL."""

    url: str  # as the user gave it, for messages
    base_url: str  # what the pool is given
    socket_path: str | None
    ssl: ssl.SSLContext | None
    hostname: str = ""
    port: int = 0
    ssh: bool = False

    @property
    def authority(self) -> str:
        """What the Host header says."""
        return self.base_url.partition("://")[2]


def parse_host(url: str, tls: TLSConfig | None) -> Host:
    """Read a host URL; an unsupported or incomplete one raises ValueError naming it."""
    parts = urlsplit(url)
    scheme = parts.scheme
    if scheme == "unix":
        # unix:///abs/path, or unix://rel/path (relative, as the docker CLI reads it)
        path = parts.netloc + parts.path
        if not path:
            raise ValueError(f"Docker host {url!r} names no socket path")
        return Host(url, "http://localhost", path, None)
    if scheme == "ssh":
        return Host(url, "http://localhost", None, None, ssh=True)
    if scheme in ("tcp", "http", "https"):
        if not parts.hostname:
            raise ValueError(f"Docker host {url!r} names no host")
        secure = tls is not None or scheme == "https"
        try:
            port = parts.port or (2376 if secure else 2375)
        except ValueError:
            raise ValueError(f"Docker host {url!r} has an invalid port") from None
        host = f"[{parts.hostname}]" if ":" in parts.hostname else parts.hostname
        base = f"{'https' if secure else 'http'}://{host}:{port}"
        context = (tls or TLSConfig()).ssl_context() if secure else None
        return Host(url, base, None, context, parts.hostname, port)
    raise ValueError(
        f"unsupported Docker host {url!r}: use unix:///path/to/docker.sock, "
        "tcp://host:port, ssh://user@host, http:// or https://"
    )
