"""Path arguments made safe: each id or name fills exactly one place in a request's path.

Image and plugin references (which legitimately hold "/", ":" and "@") must match the
reference grammar; any other id or name is percent-encoded whole, after refusing what the
daemon would read as a different path (dot segments, empty segments) and what must never
reach the wire (control characters).
"""

from __future__ import annotations

import functools
import re
from typing import Any, Final
from urllib.parse import quote

__all__ = ["check_text", "plain_segment", "segment"]

# The reference grammar of the docker CLI and the daemon (distribution/reference): an
# optional registry host and port, lower-case path components, an optional tag and digest.
# An image id ("sha256:<hex>" or a hex prefix) is a reference of this form too.
_COMPONENT = r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*"
_DOMAIN = (
    r"(?:(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])"
    r"(?:\.(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9]))*"
    r"|\[[a-fA-F0-9:]+\])(?::[0-9]+)?"
)
_TAG = r"[\w][\w.-]{0,127}"
_DIGEST = r"[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}"


@functools.cache
def _reference() -> re.Pattern[str]:
    # Compiled on first use: a third of a millisecond no import should pay.
    return re.compile(
        rf"(?:{_DOMAIN}/)?{_COMPONENT}(?:/{_COMPONENT})*(?::{_TAG})?(?:@{_DIGEST})?", re.ASCII
    )


# The longest name the daemon accepts in a reference (distribution/reference's limit).
_MAX_NAME: Final = 255
_SAFE: Final = re.compile(r"[A-Za-z0-9_.~:@-]+")
_CONTROL: Final = re.compile(r"[\x00-\x1f\x7f]")
# What `segment` returns unchanged outside the reference paths, in one call the generated
# binding (operations.py) makes before any other: safe characters, not "." or "..", at most
# _MAX_NAME long. Anything else goes to `segment`.
plain_segment: Final = re.compile(r"(?!\.\.?\Z)[A-Za-z0-9_.~:@-]{1,255}").fullmatch
# Paths whose argument is an image or plugin reference.
_REFERENCE_ROOTS: Final = ("/images/", "/distribution/", "/plugins/")


def check_text(what: str, value: str) -> str:
    """`value`, if no control character (CR, LF, NUL, ...) is in it; else a ValueError."""
    if _CONTROL.search(value):
        raise ValueError(f"{what} must not contain control characters: {value!r}")
    return value


def segment(op: Any, name: str, value: object) -> str:
    """The path text for argument `name` of operation `op` (its `id` and `path` are read)."""
    reference = op.path.startswith(_REFERENCE_ROOTS)
    if type(value) is str and _SAFE.fullmatch(value) and len(value) <= _MAX_NAME:
        if value not in (".", "..") and (not reference or _reference().fullmatch(value)):
            return value
    what = f"{op.id}'s {name!r}"
    if not isinstance(value, str) or not value:
        raise ValueError(f"{what} must be a non-empty string, not {value!r}")
    if reference:
        if _reference().fullmatch(value) and len(value.partition("@")[0]) <= _MAX_NAME + 128:
            return value
        raise ValueError(
            f"{what} is not a valid image or plugin reference "
            f"([registry[:port]/]name[:tag][@digest], lower case): {value!r}"
        )
    check_text(what, value)
    if any(part in ("", ".", "..") for part in value.split("/")):
        raise ValueError(f"{what} must not hold empty, '.' or '..' path segments: {value!r}")
    return quote(value, safe="")
