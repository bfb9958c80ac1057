"""aiodockerapi.auth: header encoding, Docker config files, credential helpers, redaction.

No daemon here: the credential helpers are shell scripts written into a temp dir on PATH.
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import stat
from pathlib import Path

import pytest

from aiodockerapi import Docker, DockerError, models
from aiodockerapi.auth import (
    DOCKER_HUB,
    AuthConfig,
    CredentialsError,
    DockerConfig,
    as_auth_config,
    encode_auth,
    encode_registry_config,
    load_config,
    registry_of,
    resolve_auth,
)

SECRET = "s3cr3t-?????>>>>>-pw"
TOKEN = "tok-abcdef-0123456789"


def decode_header(value: str) -> object:
    assert value.endswith("=") or len(value) % 4 == 0  # padded, as the daemon decodes it
    assert "+" not in value and "/" not in value
    return json.loads(base64.urlsafe_b64decode(value))


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def write_config(directory: Path, content: object) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / "config.json"
    path.write_text(json.dumps(content))
    return path


def write_helper(bin_dir: Path, name: str, script: str) -> Path:
    """A docker-credential-<name> shell script; it appends each server URL it is asked for
    to <bin_dir>/<name>.asked."""
    bin_dir.mkdir(parents=True, exist_ok=True)
    path = bin_dir / f"docker-credential-{name}"
    path.write_text(
        "#!/bin/sh\n"
        '[ "$1" = get ] || { echo "unexpected action $1"; exit 2; }\n'
        "url=$(cat)\n"
        f"printf '%s\\n' \"$url\" >> '{bin_dir / (name + '.asked')}'\n" + script
    )
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return path


@pytest.fixture
def helpers(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A directory put first on PATH for fake credential helpers."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}")
    return bin_dir


@pytest.fixture(autouse=True)
def docker_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """DOCKER_CONFIG points at an empty temp dir, so ~/.docker never leaks into a test."""
    directory = tmp_path / "docker-config"
    directory.mkdir()
    monkeypatch.setenv("DOCKER_CONFIG", str(directory))
    return directory


# -- encoding ----------------------------------------------------------------------------


def test_encode_auth_is_padded_base64url_json() -> None:
    header = encode_auth({"username": "u", "password": SECRET, "serveraddress": "127.0.0.1:5"})
    # The password's '?' and '>' runs come out as '/' and '+' in standard base64.
    assert "-" in header and "_" in header
    assert decode_header(header) == {
        "username": "u",
        "password": SECRET,
        "serveraddress": "127.0.0.1:5",
    }
    # Padding kept: JSON of a length that is not a multiple of 3.
    short = encode_auth({"username": "ab"})
    assert short.endswith("=")
    assert decode_header(short) == {"username": "ab"}


def test_encode_auth_accepts_every_form_and_drops_unset_fields() -> None:
    token = {"identitytoken": TOKEN}
    assert decode_header(encode_auth(token)) == token
    assert decode_header(encode_auth(AuthConfig(identitytoken=TOKEN))) == token
    spec = models.SpecAuthConfig(username="u", password="p", email="e@x")
    assert decode_header(encode_auth(spec)) == {"username": "u", "password": "p", "email": "e@x"}
    assert decode_header(encode_auth({"username": "u", "email": None})) == {"username": "u"}


def test_encode_registry_config() -> None:
    value = encode_registry_config(
        {
            "127.0.0.1:5000": {"username": "u", "password": SECRET},
            DOCKER_HUB: AuthConfig(identitytoken=TOKEN),
        }
    )
    assert decode_header(value) == {
        "127.0.0.1:5000": {"username": "u", "password": SECRET},
        DOCKER_HUB: {"identitytoken": TOKEN},
    }


@pytest.mark.parametrize(
    ("value", "error", "match"),
    [
        (
            {"user": "u", "password": SECRET},
            ValueError,
            "unknown registry credential field.*'user'",
        ),
        ({"username": "u", "password": 1234}, TypeError, "'password' must be a str, not int"),
        (["username", "u"], TypeError, "must be an AuthConfig or a mapping"),
    ],
)
def test_bad_credentials_are_refused_without_echoing_them(
    value: object, error: type[Exception], match: str
) -> None:
    with pytest.raises(error, match=match) as caught:
        encode_auth(value)  # type: ignore[arg-type]
    assert SECRET not in str(caught.value) and "1234" not in str(caught.value)


def test_bad_registry_config_is_refused() -> None:
    with pytest.raises(ValueError, match="registry names must be non-empty strings"):
        encode_registry_config({"": {"username": "u"}})
    with pytest.raises(TypeError, match="must map registry names"):
        encode_registry_config([("h", {"username": "u"})])  # type: ignore[arg-type]


async def test_bad_credentials_fail_before_any_request(tmp_path: Path) -> None:
    # Nothing listens on this socket: a request would be a DockerConnectionError.
    async with Docker(f"unix://{tmp_path / 'none.sock'}") as docker:
        with pytest.raises(ValueError, match="unknown registry credential field"):
            await docker.system.auth({"login": "u"})
        with pytest.raises(ValueError, match="unknown registry credential field"):
            docker.images.push("127.0.0.1:5000/x:1", auth={"pass": SECRET})
        with pytest.raises(TypeError, match="must be an AuthConfig"):
            docker.images.pull("127.0.0.1:5000/x:1", auth="user:pass")  # type: ignore[arg-type]
        with pytest.raises(ValueError, match="unknown registry credential field"):
            await docker.distribution.inspect("127.0.0.1:5000/x:1", auth={"token": TOKEN})
        with pytest.raises(ValueError, match="registry names must be non-empty"):
            docker.images.build(b"", auth_configs={"": {"username": "u"}})


# -- redaction ---------------------------------------------------------------------------


def test_secrets_are_redacted_from_repr_and_str() -> None:
    auth = AuthConfig(
        username="alice",
        password=SECRET,
        auth=b64(f"alice:{SECRET}"),
        identitytoken=TOKEN,
        registrytoken=TOKEN + "r",
        serveraddress="127.0.0.1:5000",
    )
    for text in (repr(auth), str(auth), f"{auth}", repr([auth]), repr({"a": auth})):
        assert SECRET not in text and TOKEN not in text and b64(f"alice:{SECRET}") not in text
        assert "alice" in text and "127.0.0.1:5000" in text and "password='***'" in text
    as_dict = dict(auth.__rich_repr__())
    assert as_dict["username"] == "alice"
    assert SECRET not in repr(as_dict) and TOKEN not in repr(as_dict)
    # Converted from the other forms, the result is the redacting class.
    assert SECRET not in repr(as_auth_config({"username": "u", "password": SECRET}))
    assert SECRET not in repr(as_auth_config(models.SpecAuthConfig(password=SECRET)))


def test_loaded_config_repr_hides_secrets(docker_config: Path) -> None:
    write_config(docker_config, {"auths": {"r.example:5000": {"auth": b64(f"bob:{SECRET}")}}})
    config = load_config()
    assert SECRET not in repr(config) and "bob" in repr(config)


# -- registries of image references ------------------------------------------------------


@pytest.mark.parametrize(
    ("ref", "registry"),
    [
        ("busybox", DOCKER_HUB),
        ("busybox:1.36", DOCKER_HUB),
        ("library/busybox@sha256:" + "a" * 64, DOCKER_HUB),
        ("someone/app:v1", DOCKER_HUB),
        ("docker.io/someone/app", DOCKER_HUB),
        ("index.docker.io/someone/app", DOCKER_HUB),
        ("localhost/app", "localhost"),
        ("localhost:5000/app:1", "localhost:5000"),
        ("127.0.0.1:5000/x", "127.0.0.1:5000"),
        ("127.0.0.1:5000/a/b/c:tag", "127.0.0.1:5000"),
        ("registry.example.com/team/app", "registry.example.com"),
        ("Registry/app", "Registry"),
        ("[::1]:5000/app", "[::1]:5000"),
    ],
)
def test_registry_of(ref: str, registry: str) -> None:
    assert registry_of(ref) == registry


@pytest.mark.parametrize("ref", ["", " busybox", "busybox\n"])
def test_registry_of_rejects_malformed(ref: str) -> None:
    with pytest.raises(ValueError, match="invalid image reference"):
        registry_of(ref)


# -- config.json -------------------------------------------------------------------------


async def test_auths_with_base64_auth_and_identity_tokens(docker_config: Path) -> None:
    write_config(
        docker_config,
        {
            "auths": {
                "127.0.0.1:5000": {"auth": b64(f"alice:{SECRET}"), "email": "a@example.com"},
                "https://registry.example.com/v1/": {"auth": b64("bob:pw:with:colons")},
                "tokens.example.com": {"identitytoken": TOKEN},
                "https://index.docker.io/v1/": {"auth": b64("hubuser:hubpw")},
                "placeholder.example.com": {},
                "email-only.example.com": {"email": "e@example.com"},
            }
        },
    )
    assert await resolve_auth("127.0.0.1:5000") == AuthConfig(
        username="alice", password=SECRET, email="a@example.com", serveraddress="127.0.0.1:5000"
    )
    # A key with a scheme and path still matches its host; only the first ':' splits.
    found = await resolve_auth("registry.example.com")
    assert found is not None and (found.username, found.password) == ("bob", "pw:with:colons")
    token = await resolve_auth("tokens.example.com")
    assert token is not None and token.identitytoken == TOKEN and token.username is None
    hub = await resolve_auth(registry_of("someone/app"))
    assert hub is not None and hub.username == "hubuser"
    assert await resolve_auth("127.0.0.1:5001") is None
    assert await resolve_auth("placeholder.example.com") is None
    assert await resolve_auth("email-only.example.com") is None


async def test_config_path_argument_and_loaded_config(tmp_path: Path) -> None:
    path = write_config(tmp_path / "elsewhere", {"auths": {"h:1": {"auth": b64("u:p")}}})
    found = await resolve_auth("h:1", path)
    assert found is not None and found.password == "p"
    config = load_config(path)
    assert config.path == path and config.creds_store is None
    assert await resolve_auth("h:1", config) == found
    # The default location, DOCKER_CONFIG, holds nothing here.
    assert await resolve_auth("h:1") is None


def test_missing_config_is_empty(tmp_path: Path) -> None:
    config = load_config(tmp_path / "nothing" / "config.json")
    assert config == DockerConfig(path=tmp_path / "nothing" / "config.json")


def test_default_path_without_docker_config(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("DOCKER_CONFIG")
    monkeypatch.setenv("HOME", str(tmp_path))
    write_config(tmp_path / ".docker", {"credsStore": "osxkeychain"})
    config = load_config()
    assert config.path == tmp_path / ".docker" / "config.json"
    assert config.creds_store == "osxkeychain"


@pytest.mark.parametrize(
    ("content", "match"),
    [
        ('{"auths": {"h": {"auth": "' + SECRET, "is not a valid config.json"),
        ('{"auths": {"h": {"auth": 5}}, "x": "' + SECRET + '"}', "is not a valid config.json"),
        ('{"auths": {"h": {"auth": "' + b64(SECRET) + '"}}}', "'auth' of 'h' is not base64"),
        ('{"auths": {"h": {"auth": "' + SECRET + '"}}}', "'auth' of 'h' is not base64"),
    ],
)
def test_malformed_config_names_the_file_not_the_secret(
    docker_config: Path, content: str, match: str
) -> None:
    (docker_config / "config.json").write_text(content)
    with pytest.raises(CredentialsError, match=match) as caught:
        load_config()
    assert str(docker_config / "config.json") in str(caught.value)
    assert SECRET not in str(caught.value) and b64(SECRET) not in str(caught.value)
    assert isinstance(caught.value, DockerError)


# -- credential helpers ------------------------------------------------------------------


def answering(url: str, username: str, secret: str) -> str:
    """A helper body: the credentials for `url`, 'not found' for anything else."""
    reply = json.dumps({"ServerURL": url, "Username": username, "Secret": secret})
    return (
        f'if [ "$url" = "{url}" ]; then\n'
        f"  printf '%s' '{reply}'\n"
        "else\n"
        "  echo 'credentials not found in native keychain'; exit 1\n"
        "fi\n"
    )


async def test_creds_store_helper(helpers: Path, docker_config: Path) -> None:
    write_helper(helpers, "test", answering("127.0.0.1:5000", "carol", SECRET))
    write_config(
        docker_config,
        {"credsStore": "test", "auths": {"127.0.0.1:5000": {"email": "c@example.com"}}},
    )
    found = await resolve_auth("127.0.0.1:5000")
    assert found == AuthConfig(
        username="carol", password=SECRET, email="c@example.com", serveraddress="127.0.0.1:5000"
    )
    # The helper has nothing for another registry: no credentials, no error.
    assert await resolve_auth("127.0.0.1:5001") is None
    assert (helpers / "test.asked").read_text().split() == ["127.0.0.1:5000", "127.0.0.1:5001"]


async def test_cred_helpers_take_precedence_and_tokens(helpers: Path, docker_config: Path) -> None:
    write_helper(helpers, "store", answering("127.0.0.1:5000", "from-store", "x"))
    write_helper(helpers, "special", answering("127.0.0.1:5000", "<token>", TOKEN))
    write_helper(helpers, "hub", answering(DOCKER_HUB, "hubby", SECRET))
    write_config(
        docker_config,
        {
            "credsStore": "store",
            "credHelpers": {"127.0.0.1:5000": "special", "docker.io": "hub"},
        },
    )
    token = await resolve_auth(registry_of("127.0.0.1:5000/app"))
    assert token == AuthConfig(identitytoken=TOKEN, serveraddress="127.0.0.1:5000")
    hub = await resolve_auth(registry_of("someone/app"))
    assert hub is not None and hub.username == "hubby" and hub.password == SECRET
    # The Hub's helper was asked with the Hub's canonical server URL.
    assert (helpers / "hub.asked").read_text().split() == [DOCKER_HUB]
    assert not (helpers / "store.asked").exists()


async def test_failing_helper_raises_without_secrets(helpers: Path, docker_config: Path) -> None:
    write_helper(helpers, "broken", "echo 'keychain is locked' >&2; exit 3\n")
    write_config(
        docker_config,
        {"credsStore": "broken", "auths": {"127.0.0.1:5000": {"auth": b64(f"u:{SECRET}")}}},
    )
    with pytest.raises(CredentialsError) as caught:
        await resolve_auth("127.0.0.1:5000")
    message = str(caught.value)
    assert "docker-credential-broken" in message and "exit status 3" in message
    assert "keychain is locked" in message and "127.0.0.1:5000" in message
    for text in (message, repr(caught.value), repr(caught.value.args)):
        assert SECRET not in text


async def test_helper_printing_garbage_is_not_echoed(helpers: Path, docker_config: Path) -> None:
    write_helper(helpers, "chatty", f"printf 'Secret={SECRET}'\n")
    write_config(docker_config, {"credsStore": "chatty"})
    with pytest.raises(CredentialsError, match="docker-credential-chatty answered") as caught:
        await resolve_auth("127.0.0.1:5000")
    assert SECRET not in str(caught.value) and SECRET not in repr(caught.value)


async def test_missing_helper_is_named(helpers: Path, docker_config: Path) -> None:
    write_config(docker_config, {"credHelpers": {"127.0.0.1:5000": "nothere"}})
    with pytest.raises(CredentialsError, match=r"docker-credential-nothere .*not on PATH"):
        await resolve_auth("127.0.0.1:5000")
    # A registry without a helper of its own does not run it.
    assert await resolve_auth("127.0.0.1:5001") is None


async def test_helper_name_with_a_path_is_refused(docker_config: Path) -> None:
    write_config(docker_config, {"credsStore": "../../bin/sh"})
    with pytest.raises(CredentialsError, match="invalid credential helper name"):
        await resolve_auth("127.0.0.1:5000")


async def test_helper_runs_without_blocking_the_loop(
    helpers: Path, docker_config: Path, tmp_path: Path
) -> None:
    started, go = tmp_path / "started", tmp_path / "go"
    # The helper waits (at most ~10 s) for a file only this test's event loop creates.
    write_helper(
        helpers,
        "slow",
        f": > '{started}'\n"
        "i=0\n"
        f"while [ ! -e '{go}' ]; do\n"
        "  i=$((i+1)); [ $i -gt 1000 ] && { echo 'never released'; exit 4; }\n"
        "  sleep 0.01\n"
        "done\n" + answering("127.0.0.1:5000", "dave", SECRET),
    )
    write_config(docker_config, {"credsStore": "slow"})
    task = asyncio.create_task(resolve_auth("127.0.0.1:5000"))
    for _ in range(1000):
        if started.exists() or task.done():
            break
        await asyncio.sleep(0.01)
    assert started.exists() and not task.done()
    go.touch()
    found = await task
    assert found is not None and found.username == "dave"
