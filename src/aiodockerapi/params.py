"""Query-string encoding: the API's parameter names, its boolean, time and filter forms."""

from __future__ import annotations

import datetime as dt
import math
import re
import time
from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import quote_plus

from .bodies.codec import encode

__all__ = [
    "Filters",
    "PlatformSpec",
    "Since",
    "encode_param",
    "has_tag_or_digest",
    "log_streams",
    "platform_json",
    "platform_list",
    "query",
    "string_list",
    "time_param",
    "timestamp",
    "with_query",
]

FilterValue = str | int | bool | dt.datetime | list[str] | tuple[str, ...] | set[str]
Filters = Mapping[str, Any]
Since = dt.datetime | int | float | str

PlatformSpec = str | Mapping[str, str]
"""An OCI platform for the parameters that take one as JSON (API 1.46 and later): a mapping
({"os": "linux", "architecture": "arm", "variant": "v7"}), its JSON text, or the short form
"os[/architecture[/variant]]"."""


_NUMBER = re.compile(r"-?[0-9]+(\.[0-9]+)?")
_DURATION = re.compile(r"(?:[0-9]+(?:\.[0-9]*)?(?:ns|us|µs|ms|s|m|h))+")
_DURATION_PART = re.compile(r"([0-9]+(?:\.[0-9]*)?)(ns|us|µs|ms|s|m|h)")
_UNIT_SECONDS = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}
_FRACTION = re.compile(r"\.([0-9]+)")


def _parse_time_string(value: str) -> str:
    """Unix seconds as a string, from what the docker CLI accepts: Unix seconds, a Go
    duration ("10m", "1h30m": that long ago) or an RFC 3339 / ISO 8601 time."""
    if _NUMBER.fullmatch(value):
        return value
    if _DURATION.fullmatch(value):
        seconds = sum(float(n) * _UNIT_SECONDS[u] for n, u in _DURATION_PART.findall(value))
        return timestamp(time.time() - seconds)
    try:
        # Python < 3.11 reads neither "Z" nor fractions other than 3 or 6 digits.
        iso = value[:-1] + "+00:00" if value[-1:] in ("Z", "z") else value
        iso = _FRACTION.sub(lambda m: "." + m.group(1)[:6].ljust(6, "0"), iso, count=1)
        parsed = dt.datetime.fromisoformat(iso)
    except ValueError:
        raise ValueError(
            f"cannot read {value!r} as a time: give a datetime, Unix seconds, a duration "
            "like '10m' or an RFC 3339 time"
        ) from None
    return timestamp(parsed)


def timestamp(value: Since) -> str:
    """A point in time as Unix seconds with nanoseconds, from a datetime, a number of Unix
    seconds, or a string: Unix seconds, a duration ("10m": ten minutes ago) or an RFC 3339
    time. The daemon reads only the first kind; the rest are converted here, as the docker
    CLI does."""
    if isinstance(value, dt.datetime):
        if value.tzinfo is None:
            value = value.astimezone()
        delta = value - dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)
        seconds = delta.days * 86400 + delta.seconds
        return f"{seconds}.{delta.microseconds * 1000:09d}"
    if isinstance(value, bool):
        raise TypeError(f"a time must be a datetime, Unix seconds or a string, not {value!r}")
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"a time must be a finite number of seconds, not {value!r}")
        # Seconds and a non-negative fraction, as the daemon (Go's time.Unix) reads them.
        seconds = math.floor(value)
        nanos = round((value - seconds) * 1e9)
        if nanos == 1_000_000_000:
            seconds, nanos = seconds + 1, 0
        return f"{seconds}.{nanos:09d}"
    if isinstance(value, str):
        if not value:
            raise ValueError("a time given as a string must not be empty")
        return _parse_time_string(value)
    raise TypeError(
        f"a time must be a datetime, Unix seconds or a string, not {type(value).__name__}"
    )


def time_param(value: Since | None) -> str | None:
    """`timestamp`, passing None through (for optional since/until parameters)."""
    return None if value is None else timestamp(value)


def _filter_values(name: str, value: Any) -> list[str] | dict[str, bool]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dt.datetime):
        return [timestamp(value)]
    if isinstance(value, bool):
        return ["true" if value else "false"]
    if isinstance(value, int):
        return [str(value)]
    if isinstance(value, list | tuple | set | frozenset):
        bad = [v for v in value if not isinstance(v, str)]
        if not bad:
            return sorted(value) if isinstance(value, set | frozenset) else list(value)
        raise ValueError(f"filter {name!r}: values must be strings, got {bad[0]!r}")
    if isinstance(value, Mapping):
        if all(isinstance(k, str) and isinstance(v, bool) for k, v in value.items()):
            return dict(value)
        raise ValueError(f"filter {name!r}: a mapping must map strings to booleans")
    raise ValueError(
        f"filter {name!r}: expected a string or a list of strings, got {type(value).__name__}"
    )


def filters_json(filters: Filters) -> str:
    """Filters as the JSON map of lists the daemon expects; malformed input is a ValueError."""
    if not isinstance(filters, Mapping):
        raise ValueError(f"filters must be a mapping of name to values, not {filters!r}")
    out: dict[str, list[str] | dict[str, bool]] = {}
    for name, value in filters.items():
        if not isinstance(name, str) or not name:
            raise ValueError(f"filter names must be non-empty strings, got {name!r}")
        out[name] = _filter_values(name, value)
    return encode(out).decode()


def query(**params: Any) -> dict[str, str]:
    """Query parameters named as the API names them. None is left out; booleans become 1/0;
    datetimes become timestamps; `filters` is encoded as filters; other mappings and lists
    are sent as JSON (buildargs, labels, cachefrom)."""
    out: dict[str, str] = {}
    for name, value in params.items():
        if value is None:
            continue
        if name == "filters":
            if value or not isinstance(value, Mapping):
                out[name] = filters_json(value)
        elif isinstance(value, bool):
            out[name] = "1" if value else "0"
        elif isinstance(value, int | str):
            out[name] = str(value)
        elif isinstance(value, float | dt.datetime):
            out[name] = timestamp(value)
        elif isinstance(value, Mapping | list | tuple):
            out[name] = encode(value).decode()
        else:
            raise TypeError(f"parameter {name!r}: cannot send {type(value).__name__}")
    return out


def encode_param(out: list[tuple[str, str]], wire: str, value: Any, multi: bool = False) -> None:
    """Append query parameter `wire` with `value` encoded as `query` does; a list of a
    `multi` parameter is sent as the parameter repeated. No CR, LF or NUL reaches the wire."""
    if multi and isinstance(value, list | tuple | set | frozenset):
        for item in sorted(value) if isinstance(value, set | frozenset) else value:
            encode_param(out, wire, item)
        return
    if wire == "filters":
        if value or not isinstance(value, Mapping):
            out.append((wire, filters_json(value)))
        return
    if isinstance(value, bool):
        out.append((wire, "1" if value else "0"))
    elif isinstance(value, int):
        out.append((wire, str(value)))
    elif isinstance(value, str):
        if _UNSAFE.search(value):
            raise ValueError(f"query parameter {wire!r} must not contain CR, LF or NUL: {value!r}")
        out.append((wire, value))
    elif isinstance(value, float | dt.datetime):
        out.append((wire, timestamp(value)))
    elif isinstance(value, Mapping | list | tuple):
        out.append((wire, encode(value).decode()))
    else:
        raise TypeError(f"query parameter {wire!r}: cannot send {type(value).__name__}")


_UNSAFE = re.compile(r"[\r\n\x00]")


def string_list(name: str, values: str | Sequence[str] | None) -> list[str]:
    """A parameter the daemon reads as a list (t, changes, names), as a list of strings: one
    string is a list of one; None, an empty list."""
    if values is None:
        return []
    items = [values] if isinstance(values, str) else list(values)
    bad = [v for v in items if not isinstance(v, str)]
    if bad:
        raise TypeError(f"{name} must be strings, got {bad[0]!r}")
    return items


def platform_json(value: PlatformSpec) -> str:
    """An PlatformSpec as the JSON text the daemon reads."""
    if isinstance(value, Mapping):
        return encode(dict(value)).decode()
    if not isinstance(value, str) or not value:
        raise TypeError(f"a platform is a mapping or a non-empty string, not {value!r}")
    if value.lstrip().startswith("{"):
        return value
    parts = value.split("/")
    if len(parts) > 3 or not all(parts):
        raise ValueError(f"a platform is 'os[/architecture[/variant]]' or JSON, not {value!r}")
    keys = ("os", "architecture", "variant")
    return encode(dict(zip(keys, parts, strict=False))).decode()


def platform_list(
    name: str, value: PlatformSpec | Sequence[PlatformSpec] | None
) -> list[str] | None:
    """One platform or several, for a parameter the daemon reads as a list of JSON platforms;
    None passes through, an empty sequence is a ValueError."""
    if value is None:
        return None
    if isinstance(value, str | Mapping):
        return [platform_json(value)]
    items = [platform_json(v) for v in value]
    if not items:
        raise ValueError(f"{name} must name at least one platform")
    return items


def log_streams(stdout: bool | None, stderr: bool | None) -> tuple[bool, bool]:
    """Which of stdout and stderr logs ask for: the ones named True, else both but those
    named False; neither is refused before sending."""
    unnamed = stdout is not True and stderr is not True
    out = unnamed if stdout is None else stdout
    err = unnamed if stderr is None else stderr
    if not (out or err):
        raise ValueError("logs need stdout, stderr or both: both are False")
    return out, err


def has_tag_or_digest(ref: str) -> bool:
    """Whether an image reference names a tag or a digest (a pull of one sends no tag)."""
    return "@" in ref or ":" in ref.rpartition("/")[2]


def with_query(path: str, params: Mapping[str, str] | Sequence[tuple[str, str]] | None) -> str:
    """`path` with `params` as its query string: what urlencode would make, at a fraction of
    its cost for the plain names and values most parameters are. Done here rather than by
    aiohttp (params=), whose URL building costs more again."""
    if not params:
        return path
    if type(params) is list:  # what a bound operation gives: no copy on the hot path
        pairs = params
    else:
        pairs = list(params.items() if isinstance(params, Mapping) else params)
    # Joined by C alone (no comprehension's frame); taken as it is when every name and value
    # is plain: one "=" a pair, and as many "&" as there are pairs less one.
    query = "&".join(map("=".join, pairs))
    if query.count("&") == len(pairs) - 1 and _PLAIN_QUERY.fullmatch(query):
        return path + "?" + query
    return path + "?" + "&".join([f"{_plus(k)}={_plus(v)}" for k, v in pairs])


def _plus(text: str) -> str:
    return text if _UNQUOTED_QUERY.fullmatch(text) else quote_plus(text)


# The characters quote_plus leaves alone; a query string of such names and values.
_UNQUOTED_QUERY = re.compile(r"[A-Za-z0-9_.~-]*")
_PAIR = r"[A-Za-z0-9_.~-]*=[A-Za-z0-9_.~-]*"
_PLAIN_QUERY = re.compile(rf"{_PAIR}(?:&{_PAIR})*")
