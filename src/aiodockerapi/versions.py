"""API versions: parsing, negotiation with a daemon, renegotiation, and the check of a
request against the version spoken.

`Versions` holds one client's version (pinned, or negotiated on the first request and
again when the daemon refuses it); it asks the daemon through a callable it is given, so
it knows nothing of how requests travel.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable, Mapping
from typing import Final

import msgspec

from ._log import shown_url
from .errors import BadRequest, DockerError, DockerVersionError
from .flight import SingleFlight
from .operation import Request, Version, version_text
from .params import with_query

__all__ = ["MAX_API_VERSION", "MIN_API_VERSION", "Ask", "Versions", "parse_version"]

logger = logging.getLogger(__name__)

MIN_API_VERSION: Final = "1.41"
MAX_API_VERSION: Final = "1.55"

# What a daemon answers (400) a request whose API version it does not serve.
_REFUSED_VERSION: Final = re.compile(r"client version \S+ is too (old|new)", re.IGNORECASE)

# Ask(method, path): an unversioned request's headers and body; a refusal raises DockerError.
Ask = Callable[[str, str], Awaitable[tuple[Mapping[str, str], bytes]]]


def parse_version(text: str) -> Version:
    """(major, minor) from "1.41" (or "v1.41"); anything else raises ValueError."""
    try:
        major, minor = text.strip().lstrip("v").split(".")
        return int(major), int(minor)
    except ValueError:
        raise ValueError(f"invalid API version {text!r}: expected MAJOR.MINOR like 1.41") from None


def _version_or_invalid(text: str) -> Version:
    """The version `text` names, or (-1, -1) when it names none."""
    try:
        return parse_version(text)
    except ValueError:
        return (-1, -1)


class _Version(msgspec.Struct):
    ApiVersion: str | None = None
    MinAPIVersion: str | None = None


_VERSION_DECODER: Final = msgspec.json.Decoder(_Version)
_MIN: Final = parse_version(MIN_API_VERSION)
_MAX: Final = parse_version(MAX_API_VERSION)


async def negotiate(ask: Ask, host: str) -> str:
    """The newest version both sides speak: min(ours, the daemon's), refused when that is
    below our oldest or below the daemon's own minimum (from /version, asked only when
    the daemon is newer than we are, as only then can its minimum be above what we
    would speak)."""
    daemon: str | None = None
    for method in ("HEAD", "GET"):
        try:
            headers, _ = await ask(method, "/_ping")
            daemon = headers.get("Api-Version")
            break
        except DockerError as exc:
            if exc.status is None:
                raise
    minimum: str | None = None
    if not daemon or _version_or_invalid(daemon) > _MAX:
        _, raw = await ask("GET", "/version")
        try:
            answer = _VERSION_DECODER.decode(raw)
        except msgspec.DecodeError:
            raise DockerVersionError(
                f"{host} answered /version with no API version: {raw[:100]!r}"
            ) from None
        daemon, minimum = daemon or answer.ApiVersion, answer.MinAPIVersion
    if not daemon:
        raise DockerVersionError(f"{host} did not say which API version it speaks")
    newest = _version_or_invalid(daemon)
    oldest = _version_or_invalid(minimum) if minimum else (0, 0)
    if newest == (-1, -1) or oldest == (-1, -1):
        bad = daemon if newest == (-1, -1) else minimum
        raise DockerVersionError(f"{host} says it speaks API {bad!r}, which is not a version")
    spoken = min(newest, _MAX)
    if spoken < _MIN or spoken < oldest:
        theirs = f"{minimum} to {daemon}" if minimum else f"up to {daemon}"
        raise DockerVersionError(
            f"{host} speaks API {theirs}; aiodockerapi speaks {MIN_API_VERSION} to "
            f"{MAX_API_VERSION}: no version in common"
        )
    logger.debug(
        "%s speaks API %s (oldest %s); speaking %s, the newest %s",
        shown_url(host),
        daemon,
        minimum or "not asked",
        version_text(spoken),
        "aiodockerapi speaks" if newest > _MAX else "the daemon speaks",
    )
    return version_text(spoken)


class Versions:
    """The API version one client speaks to one daemon: pinned, or negotiated on the first
    request, and again when the daemon refuses it.

    Negotiation is single-flight: callers that need it while it runs share that one attempt
    and its outcome (a failure fails them all at once), and the next call after a failure
    tries again.
    """

    __slots__ = ("_ask", "_flight", "_host", "pinned", "spoken", "text")

    def __init__(self, host: str, ask: Ask, pinned: str | None) -> None:
        self._host = host
        self._ask = ask
        self._flight: SingleFlight[None] = SingleFlight()
        self.text: str | None = None  # "1.41", once known
        self.spoken: Version = (0, 0)  # the same as a tuple, (0, 0) until known
        self.pinned = pinned is not None
        if pinned is not None:
            self._set(pinned, pinned=True)
            logger.debug("API %s pinned for %s: not negotiated", self.text, shown_url(host))

    def _set(self, version: str, *, pinned: bool) -> None:
        parsed = parse_version(version)
        if parsed < _MIN and pinned:
            raise DockerVersionError(
                f"{self._host} was pinned to API {version}; aiodockerapi speaks "
                f"{MIN_API_VERSION} to {MAX_API_VERSION}"
            )
        self.text, self.spoken = version_text(parsed), parsed

    async def _negotiate(self) -> None:
        self._set(await negotiate(self._ask, self._host), pinned=False)

    async def negotiated(self) -> str:
        """The API version, asking the daemon (single-flight) if it was not pinned."""
        if self.text is None:
            await self._flight.run(self._negotiate)
        assert self.text is not None
        return self.text

    async def renegotiated(self, exc: BadRequest, spoken: Version, resendable: bool) -> bool:
        """After the daemon refused `spoken` as too old or too new (it was upgraded or
        downgraded under us): negotiate again, and say whether the request may be retried
        (a version was not pinned, another one is now spoken, and the body can be sent
        again)."""
        if self.pinned or not _REFUSED_VERSION.search(exc.message):
            return False
        if not resendable:
            logger.debug(
                "%s refused API %s (%s): the request is not sent again, its body stream "
                "was consumed",
                shown_url(self._host),
                version_text(spoken),
                exc.message,
            )
            return False  # a body stream was consumed: it cannot be sent again
        if self.spoken == spoken:  # nobody negotiated since `spoken` was refused
            if not self._flight.running:  # one record per negotiation, not per waiter
                logger.debug(
                    "%s refused API %s (%s): negotiating again",
                    shown_url(self._host),
                    version_text(spoken),
                    exc.message,
                )
            await self._flight.run(self._negotiate)
        return self.spoken != spoken

    def target(self, req: Request) -> str:
        """The request's versioned path and query, if the spoken version has what it needs."""
        needs = req.needs
        if needs is not None and needs > self.spoken:
            raise DockerVersionError(
                f"{req.needed_by} needs API {version_text(needs)}; {self._host} speaks {self.text}"
            )
        return with_query(f"/v{self.text}{req.path}", req.params)

    async def versioned(self, req: Request) -> str:
        """`target`, negotiating first if no version is known yet."""
        if self.text is None:
            await self.negotiated()
        return self.target(req)
