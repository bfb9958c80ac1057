"""BuildKit's session: what a `version="2"` build asks of the client while it runs.

`docker.images.build(context, version="2", secrets=..., ssh=..., output=...)` opens one
session per build (`POST /session`, upgraded to h2c, on which the daemon is the gRPC client
and this side serves), names it on `POST /build?session=<id>` and closes it once the build's
stream ends. Served: health, secrets, ssh agent forwarding, registry credentials, and the
file transfer services. Needs the `buildkit` extra (`pip install 'aiodockerapi[buildkit]'`);
see docs/buildkit.md.
"""

from .deps import SessionUnavailable, session_available

__all__ = ["SessionUnavailable", "session_available"]
