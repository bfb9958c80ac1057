"""Registry credentials: the X-Registry-Auth / X-Registry-Config headers and the Docker CLI's
config file (``auths``, ``credsStore``, ``credHelpers``).

Secrets (passwords, tokens, the ``auth`` field) never show in a repr, a str or an exception
message raised here.
"""

from __future__ import annotations

import base64
import binascii
import logging
import os
from collections.abc import AsyncGenerator, Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final, TypeAlias, TypeVar

import anyio
import anyio.to_thread
import msgspec

from .errors import CredentialsError
from .hosts import config_dir
from .models import SpecAuthConfig

__all__ = [
    "DOCKER_HUB",
    "AuthConfig",
    "AuthInput",
    "CredentialsError",
    "DockerConfig",
    "as_auth_config",
    "encode_auth",
    "encode_registry_config",
    "load_config",
    "registry_auth_header",
    "registry_of",
    "resolve_auth",
]

T = TypeVar("T")

logger = logging.getLogger(__name__)

DOCKER_HUB: Final = "https://index.docker.io/v1/"
"""The key Docker Hub's credentials are stored under, as the Docker CLI spells it."""

_HUB_HOSTS: Final = frozenset({"index.docker.io", "docker.io", "registry-1.docker.io"})
_SECRET_FIELDS: Final = frozenset({"password", "auth", "identitytoken", "registrytoken"})
_TOKEN_USERNAME: Final = "<token>"
_NOT_FOUND: Final = "credentials not found in native keychain"
_HELPER_PREFIX: Final = "docker-credential-"


class AuthConfig(msgspec.Struct, kw_only=True, omit_defaults=True):
    """Credentials for one registry, in the API's own field names.

    The spec's AuthConfig (`models.SpecAuthConfig`) plus what the daemon also reads: `auth`
    (base64 "user:password"), `identitytoken` (from a login) and `registrytoken` (a bearer
    token). The secrets are redacted from repr() and str().
    """

    username: str | None = None
    password: str | None = None
    auth: str | None = None
    email: str | None = None
    serveraddress: str | None = None
    identitytoken: str | None = None
    registrytoken: str | None = None

    def _shown(self) -> list[tuple[str, object]]:
        return [
            (name, _REDACTED if name in _SECRET_FIELDS else value)
            for name in self.__struct_fields__
            if (value := getattr(self, name)) is not None
        ]

    def __repr__(self) -> str:
        return f"AuthConfig({', '.join(f'{k}={v!r}' for k, v in self._shown())})"

    def __rich_repr__(self) -> Any:
        yield from self._shown()


class _Redacted:
    def __repr__(self) -> str:
        return "'***'"


_REDACTED: Final = _Redacted()


AuthInput: TypeAlias = AuthConfig | SpecAuthConfig | Mapping[str, str | None]
"""Credentials as this module's AuthConfig, the spec's SpecAuthConfig or a mapping in API
names."""

_FIELDS: Final = frozenset(AuthConfig.__struct_fields__)


def as_auth_config(value: AuthInput) -> AuthConfig:
    """Check credentials given in any accepted form and return them as an AuthConfig."""
    if isinstance(value, AuthConfig):
        return value
    if isinstance(value, SpecAuthConfig):
        return AuthConfig(**msgspec.structs.asdict(value))
    if not isinstance(value, Mapping):
        raise TypeError(
            "registry credentials must be an AuthConfig or a mapping of its fields, "
            f"not {type(value).__name__}"
        )
    unknown = sorted(str(k) for k in value if k not in _FIELDS)
    if unknown:
        raise ValueError(
            f"unknown registry credential field(s) {', '.join(map(repr, unknown))}; "
            f"expected some of {', '.join(sorted(_FIELDS))}"
        )
    for name, item in value.items():
        if item is not None and not isinstance(item, str):
            raise TypeError(
                f"registry credential field {name!r} must be a str, not {type(item).__name__}"
            )
    return AuthConfig(**{k: v for k, v in value.items() if v is not None})


def _b64url_json(value: Any) -> str:
    # URL-safe alphabet, with padding: what the daemon's decoder (Go's base64.URLEncoding) reads.
    return base64.urlsafe_b64encode(msgspec.json.encode(value)).decode("ascii")


def encode_auth(auth: AuthInput) -> str:
    """The X-Registry-Auth header value: base64url (padded) of the credentials' JSON."""
    return _b64url_json(as_auth_config(auth))


def encode_registry_config(configs: Mapping[str, AuthInput]) -> str:
    """The X-Registry-Config header value (build): base64url of {registry: credentials}."""
    if not isinstance(configs, Mapping):
        raise TypeError(
            f"registry configs must map registry names to credentials, not {type(configs).__name__}"
        )
    out: dict[str, AuthConfig] = {}
    for registry, auth in configs.items():
        if not isinstance(registry, str) or not registry:
            raise ValueError(f"registry names must be non-empty strings, got {registry!r}")
        out[registry] = as_auth_config(auth)
    return _b64url_json(out)


def registry_of(image_ref: str) -> str:
    """The registry an image reference lives on: "host[:port]", or DOCKER_HUB.

    The first path component names a registry when it contains '.' or ':', is 'localhost',
    or has upper-case letters; otherwise the image is on Docker Hub.
    """
    if not isinstance(image_ref, str):
        raise TypeError(f"an image reference must be a str, not {type(image_ref).__name__}")
    if not image_ref or image_ref != image_ref.strip():
        raise ValueError(f"invalid image reference {image_ref!r}")
    first, slash, _ = image_ref.partition("/")
    if not slash or not first:
        return DOCKER_HUB
    if "." in first or ":" in first or first == "localhost" or first.lower() != first:
        return DOCKER_HUB if first in _HUB_HOSTS else first
    return DOCKER_HUB


def _normalize(registry: str) -> str:
    """A registry key as a host[:port] to compare ("https://h/v1/" -> "h"; Hub aliases unified)."""
    host = registry.strip()
    for scheme in ("https://", "http://"):
        if host.lower().startswith(scheme):
            host = host[len(scheme) :]
            break
    host = host.split("/", 1)[0].lower()
    return "index.docker.io" if host in _HUB_HOSTS else host


# -- the Docker CLI's config file --------------------------------------------------------


@dataclass(frozen=True)
class DockerConfig:
    """What aiodockerapi uses of a Docker CLI config.json (secrets stay redacted in repr)."""

    path: Path | None = None
    auths: Mapping[str, AuthConfig] = field(default_factory=dict)
    creds_store: str | None = None
    cred_helpers: Mapping[str, str] = field(default_factory=dict)

    def helper_for(self, registry: str) -> str | None:
        """The credential helper's name for `registry` (credHelpers first, then credsStore)."""
        wanted = _normalize(registry)
        for key, name in self.cred_helpers.items():
            if key == registry or _normalize(key) == wanted:
                return name
        return self.creds_store

    def stored_auth(self, registry: str) -> AuthConfig | None:
        """The `auths` entry for `registry` (an exact key first, then by host), if any."""
        found = self.auths.get(registry)
        if found is None:
            wanted = _normalize(registry)
            found = next((a for k, a in self.auths.items() if _normalize(k) == wanted), None)
        return found


def default_config_path() -> Path:
    """$DOCKER_CONFIG/config.json, else ~/.docker/config.json."""
    return config_dir() / "config.json"


class _AuthEntry(msgspec.Struct, kw_only=True):
    auth: str | None = None
    username: str | None = None
    password: str | None = None
    email: str | None = None
    identitytoken: str | None = None
    registrytoken: str | None = None


class _ConfigFile(msgspec.Struct, kw_only=True):
    auths: dict[str, _AuthEntry] | None = None
    credsStore: str | None = None
    credHelpers: dict[str, str] | None = None


def load_config(path: str | os.PathLike[str] | None = None) -> DockerConfig:
    """Read a Docker CLI config.json (default: default_config_path()).

    A missing file is an empty config; a malformed one raises CredentialsError naming the file
    (but none of its contents).
    """
    file = Path(path) if path is not None else default_config_path()
    try:
        raw = file.read_bytes()
    except FileNotFoundError:
        return DockerConfig(path=file)
    except OSError as exc:
        raise CredentialsError(f"cannot read Docker config {file}: {exc.strerror}") from None
    try:
        parsed = msgspec.json.decode(raw, type=_ConfigFile) if raw.strip() else _ConfigFile()
    except msgspec.DecodeError:
        # The decode error could quote a secret: say only where it is.
        raise CredentialsError(f"Docker config {file} is not a valid config.json") from None
    auths: dict[str, AuthConfig] = {}
    for registry, entry in (parsed.auths or {}).items():
        auths[registry] = _from_entry(file, registry, entry)
    return DockerConfig(
        path=file,
        auths=auths,
        creds_store=parsed.credsStore or None,
        cred_helpers=dict(parsed.credHelpers or {}),
    )


def _from_entry(file: Path, registry: str, entry: _AuthEntry) -> AuthConfig:
    username, password = entry.username, entry.password
    if entry.auth:
        try:
            decoded = base64.b64decode(entry.auth, validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            decoded = ""
        username, colon, password = decoded.partition(":")
        if not colon or not username:
            raise CredentialsError(
                f"Docker config {file}: the 'auth' of {registry!r} is not base64 of user:password"
            )
    return AuthConfig(
        username=username or None,
        password=password or None,
        email=entry.email or None,
        serveraddress=registry,
        identitytoken=entry.identitytoken or None,
        registrytoken=entry.registrytoken or None,
    )


# -- credential helpers ------------------------------------------------------------------


class _HelperReply(msgspec.Struct):
    ServerURL: str | None = None
    Username: str | None = None
    Secret: str | None = None


async def _run_helper(name: str, registry: str) -> AuthConfig | None:
    if not name or "/" in name or os.sep in name:
        raise CredentialsError(f"invalid credential helper name {name!r}")
    program = _HELPER_PREFIX + name
    logger.debug("running credential helper %s for %s", program, registry)
    try:
        done = await anyio.run_process([program, "get"], input=registry.encode(), check=False)
    except FileNotFoundError:
        raise CredentialsError(
            f"credential helper {program} (for {registry}) is not installed or not on PATH"
        ) from None
    except PermissionError:
        raise CredentialsError(f"credential helper {program} is not executable") from None
    # Never its output: it may hold the secret.
    logger.debug(
        "credential helper %s for %s exited with status %d", program, registry, done.returncode
    )
    if done.returncode != 0:
        said = (done.stdout or done.stderr).decode("utf-8", "replace").strip()
        if _NOT_FOUND in said:
            logger.debug("credential helper %s has no credentials for %s", program, registry)
            return None
        # What a helper prints on failure is its error text; keep the first line, briefly.
        first = said.splitlines()[0][:200] if said else "no message"
        raise CredentialsError(
            f"credential helper {program} failed for {registry} "
            f"(exit status {done.returncode}): {first}"
        )
    try:
        reply = msgspec.json.decode(done.stdout, type=_HelperReply)
    except msgspec.DecodeError:
        # Never echo the output: it may hold the secret.
        raise CredentialsError(
            f"credential helper {program} answered for {registry} with something that is not "
            "its JSON {ServerURL, Username, Secret}"
        ) from None
    if not reply.Secret:
        return None
    if reply.Username == _TOKEN_USERNAME:
        return AuthConfig(identitytoken=reply.Secret, serveraddress=registry)
    return AuthConfig(username=reply.Username, password=reply.Secret, serveraddress=registry)


async def resolve_auth(
    registry: str, config: DockerConfig | str | os.PathLike[str] | None = None
) -> AuthConfig | None:
    """The credentials the Docker CLI would use for `registry` ("host[:port]" or DOCKER_HUB).

    `config` is a loaded DockerConfig or a config.json path (default: default_config_path()).
    A credential helper (credHelpers, else credsStore) is run without blocking the loop; else
    the `auths` entry is used. None when there are no credentials for the registry.
    """
    if not isinstance(registry, str) or not registry:
        raise ValueError(f"a registry must be a non-empty string, got {registry!r}")
    if not isinstance(config, DockerConfig):
        config = await anyio.to_thread.run_sync(load_config, config)
    helper = config.helper_for(registry)
    if helper:
        found = await _run_helper(helper, registry)
        stored = config.stored_auth(registry)
        if found is not None and stored is not None and stored.email:
            found = msgspec.structs.replace(found, email=stored.email)
        return found
    stored = config.stored_auth(registry)
    if stored is None or not (stored.username or stored.identitytoken or stored.registrytoken):
        logger.debug("no credentials for %s in %s", registry, config.path)
        return None  # an entry without credentials (a credsStore's placeholder, an email)
    logger.debug("credentials for %s from the auths of %s", registry, config.path)
    return stored


async def registry_auth_header(
    image: str | None, auth: AuthConfig | None, *, required: bool = False
) -> dict[str, str]:
    """The X-Registry-Auth header for a request about `image`.

    `auth` if given; else the credentials resolved from the Docker config for the image's
    registry; else, when the endpoint `required` the header, empty credentials.
    """
    if auth is None and image is not None:
        auth = await resolve_auth(registry_of(image))
    if auth is None:
        return {"X-Registry-Auth": _b64url_json({})} if required else {}
    return {"X-Registry-Auth": encode_auth(auth)}


async def with_headers(
    headers: Callable[[], Awaitable[Mapping[str, str]]],
    open_stream: Callable[[Mapping[str, str]], AsyncGenerator[T, None]],
) -> AsyncGenerator[T, None]:
    """A stream whose request headers are computed (credentials resolved) on first iteration."""
    stream = open_stream(await headers())
    try:
        async for item in stream:
            yield item
    finally:
        await stream.aclose()
