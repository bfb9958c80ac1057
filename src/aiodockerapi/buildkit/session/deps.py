"""What a session needs beyond the core install: grpclib (with h2) and the protobuf runtime,
the `buildkit` extra."""

from __future__ import annotations

__all__ = ["SessionUnavailable", "require_grpclib", "session_available"]

_INSTALL = "install it with `pip install 'aiodockerapi[buildkit]'`"


class SessionUnavailable(ImportError):
    """A BuildKit session (secrets, ssh, a local context or export) needs the `buildkit`
    extra: `pip install 'aiodockerapi[buildkit]'`."""


def require_grpclib() -> None:
    """Raise SessionUnavailable, saying what to install, unless grpclib and protobuf import."""
    try:
        import google.protobuf  # noqa: F401
        import grpclib.server  # noqa: F401
    except ImportError as exc:
        raise SessionUnavailable(
            f"a BuildKit session needs grpclib and protobuf ({exc}); {_INSTALL}"
        ) from None


def session_available() -> bool:
    """Whether a session can be opened here (the `buildkit` extra is installed)."""
    try:
        require_grpclib()
    except SessionUnavailable:
        return False
    return True
