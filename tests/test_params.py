"""Unit tests for aiodockerapi.params: query strings, filters and timestamps."""

from __future__ import annotations

import datetime as dt
import json
import re
import time
from collections.abc import Iterator
from fractions import Fraction
from typing import Any
from urllib.parse import urlencode

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from aiodockerapi import operations as ops
from aiodockerapi.params import (
    filters_json,
    has_tag_or_digest,
    platform_json,
    platform_list,
    query,
    string_list,
    timestamp,
    with_query,
)

UTC = dt.timezone.utc
EPOCH = dt.datetime(1970, 1, 1, tzinfo=UTC)


def parse(text: str) -> dt.datetime:
    """Read a timestamp back as the daemon does: Go's time.Unix(seconds, nanoseconds)."""
    seconds, dot, nanos = text.partition(".")
    assert dot and len(nanos) == 9 and nanos.isdigit(), text
    return EPOCH + dt.timedelta(seconds=int(seconds), microseconds=int(nanos) / 1000)


def parse_seconds(text: str) -> Fraction:
    seconds, _, nanos = text.partition(".")
    return int(seconds) + Fraction(int(nanos), 10**9)


@pytest.fixture
def newfoundland(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Local time at UTC-3:30 (a POSIX TZ string, so no tz database is needed)."""
    monkeypatch.setenv("TZ", "NST+3:30")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


# -- query -----------------------------------------------------------------------------------


def test_query_encodes_each_kind() -> None:
    when = dt.datetime(2024, 1, 2, 3, 4, 5, 600000, tzinfo=UTC)
    assert query(
        dropped=None,
        all=True,
        size=False,
        limit=0,
        tail="all",
        since=when,
        until=1.5,
        buildargs={"A": "1", "B": "x y"},
        cachefrom=["a:1", "b"],
        extra=("c",),
    ) == {
        "all": "1",
        "size": "0",
        "limit": "0",
        "tail": "all",
        "since": "1704164645.600000000",
        "until": "1.500000000",
        "buildargs": '{"A":"1","B":"x y"}',
        "cachefrom": '["a:1","b"]',
        "extra": '["c"]',
    }


def test_query_filters() -> None:
    got = query(filters={"label": ["a=1", "b"], "status": "running"})
    assert json.loads(got["filters"]) == {"label": ["a=1", "b"], "status": ["running"]}
    assert query(filters={}) == {}
    assert query(filters=None) == {}
    with pytest.raises(ValueError, match="'label'"):
        query(filters={"label": 3.5})
    with pytest.raises(ValueError, match="mapping"):
        query(filters=[])  # an empty non-mapping is still wrong, not silently dropped


@pytest.mark.parametrize("value", [{1, 2}, object(), b"bytes"])
def test_query_rejects_what_it_cannot_send(value: Any) -> None:
    with pytest.raises(TypeError, match="'odd'"):
        query(odd=value)


# -- filters_json ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        ({"label": "a=b"}, {"label": ["a=b"]}),
        ({"label": ["b", "a", "b"]}, {"label": ["b", "a", "b"]}),
        ({"name": ("x",)}, {"name": ["x"]}),
        ({"label": {"b", "a", "c"}}, {"label": ["a", "b", "c"]}),
        ({"label": frozenset({"z", "y"})}, {"label": ["y", "z"]}),
        ({"dangling": True, "exited": 0}, {"dangling": ["true"], "exited": ["0"]}),
        ({"label": {"a=1": True, "b": False}}, {"label": {"a=1": True, "b": False}}),
        ({"until": dt.datetime(2001, 2, 3, tzinfo=UTC)}, {"until": ["981158400.000000000"]}),
        ({}, {}),
    ],
)
def test_filters_json(filters: Any, expected: Any) -> None:
    assert json.loads(filters_json(filters)) == expected


@pytest.mark.parametrize(
    ("filters", "named"),
    [
        ({"label": 3.5}, "'label'"),
        ({"label": [1]}, "'label'"),
        ({"label": ["a", None]}, "'label'"),
        ({"label": {"a": 1}}, "'label'"),
        ({"label": {1: True}}, "'label'"),
        ({"label": None}, "'label'"),
        ({"": "x"}, "''"),
        ({1: "x"}, "1"),
        ("label=x", "'label=x'"),
        ([("label", "x")], "label"),
    ],
)
def test_filters_json_rejects_malformed_filters(filters: Any, named: str) -> None:
    with pytest.raises(ValueError) as info:
        filters_json(filters)
    assert named in str(info.value)


# -- timestamp -------------------------------------------------------------------------------


def test_timestamp_aware_datetimes() -> None:
    assert timestamp(EPOCH) == "0.000000000"
    when = dt.datetime(2024, 1, 2, 3, 4, 5, 123456, tzinfo=UTC)
    assert timestamp(when) == "1704164645.123456000"
    east = dt.timezone(dt.timedelta(hours=5, minutes=30))
    assert timestamp(when.astimezone(east)) == "1704164645.123456000"
    assert timestamp(EPOCH - dt.timedelta(seconds=1.5)) == "-2.500000000"


def test_timestamp_naive_datetime_is_local_time(newfoundland: None) -> None:
    naive = dt.datetime(2024, 1, 2, 3, 4, 5, 250000)
    utc = dt.datetime(2024, 1, 2, 6, 34, 5, 250000, tzinfo=UTC)
    assert timestamp(naive) == timestamp(utc) == "1704177245.250000000"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (0, "0"),
        (1700000000, "1700000000"),
        (1.5, "1.500000000"),
        (0.1, "0.100000000"),
        (1700000000.25, "1700000000.250000000"),
        (2.9999999999, "3.000000000"),
        (-1.5, "-2.500000000"),  # time.Unix(-2, 5e8): the daemon adds the fraction
        ("2024-01-02T03:04:05Z", "1704164645.000000000"),
        ("2024-01-02T03:04:05.123456789+01:00", "1704161045.123456000"),
        ("1700000000.5", "1700000000.5"),
    ],
)
def test_timestamp_numbers_and_strings(value: Any, expected: str) -> None:
    assert timestamp(value) == expected


@pytest.mark.parametrize(("duration", "seconds"), [("10m", 600), ("1h30m", 5400), ("1.5s", 1.5)])
def test_timestamp_durations_are_that_long_ago(duration: str, seconds: float) -> None:
    before = time.time()
    value = float(timestamp(duration))
    assert before - seconds - 1 <= value <= time.time() - seconds


def test_timestamp_rejects_what_it_cannot_read() -> None:
    with pytest.raises(ValueError, match="'yesterday'"):
        timestamp("yesterday")


@pytest.mark.parametrize(
    ("value", "error"),
    [
        (True, TypeError),
        (False, TypeError),
        (None, TypeError),
        ([1], TypeError),
        ("", ValueError),
        (float("nan"), ValueError),
        (float("inf"), ValueError),
    ],
)
def test_timestamp_rejects(value: Any, error: type[Exception]) -> None:
    with pytest.raises(error):
        timestamp(value)


_offsets = st.timedeltas(
    min_value=dt.timedelta(hours=-23, minutes=-59), max_value=dt.timedelta(hours=23, minutes=59)
).map(dt.timezone)


@settings(max_examples=300, deadline=None)
@given(value=st.datetimes(timezones=_offsets))
def test_timestamp_round_trips_aware_datetimes(value: dt.datetime) -> None:
    assert abs(parse(timestamp(value)) - value) <= dt.timedelta(microseconds=1)


@settings(max_examples=100, deadline=None)
@given(
    value=st.datetimes(
        min_value=dt.datetime(1971, 1, 1), max_value=dt.datetime(2200, 1, 1), allow_imaginary=False
    )
)
def test_timestamp_round_trips_naive_datetimes(value: dt.datetime) -> None:
    assert abs(parse(timestamp(value)) - value.astimezone()) <= dt.timedelta(microseconds=1)


@settings(max_examples=300, deadline=None)
@given(value=st.floats(min_value=-(2.0**40), max_value=2.0**40))
def test_timestamp_round_trips_floats(value: float) -> None:
    text = timestamp(value)
    assert re.fullmatch(r"-?[0-9]+\.[0-9]{9}", text), text
    assert abs(parse_seconds(text) - Fraction(value)) <= Fraction(1, 10**9)


# -- string_list, platform_json, platform_list -----------------------------------------------


def test_string_list() -> None:
    assert string_list("t", None) == []
    assert string_list("t", "app:1") == ["app:1"]
    assert string_list("t", ("a", "b")) == ["a", "b"]
    assert string_list("t", []) == []
    with pytest.raises(TypeError, match="names must be strings, got 1"):
        string_list("names", ["a", 1])  # type: ignore[list-item]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("linux", {"os": "linux"}),
        ("linux/arm64", {"os": "linux", "architecture": "arm64"}),
        ("linux/arm/v7", {"os": "linux", "architecture": "arm", "variant": "v7"}),
        ({"os": "linux", "architecture": "amd64"}, {"os": "linux", "architecture": "amd64"}),
        (' {"os": "windows"}', {"os": "windows"}),
    ],
)
def test_platform_json(value: Any, expected: dict[str, str]) -> None:
    assert json.loads(platform_json(value)) == expected


def test_platform_json_sends_json_text_as_it_is() -> None:
    text = '{"os":"linux","architecture":"arm64"}'
    assert platform_json(text) is text


@pytest.mark.parametrize(
    ("value", "error"),
    [
        ("", TypeError),
        (None, TypeError),
        (["linux"], TypeError),
        ("linux//v7", ValueError),
        ("linux/", ValueError),
        ("linux/arm/v7/x", ValueError),
    ],
)
def test_platform_json_rejects(value: Any, error: type[Exception]) -> None:
    with pytest.raises(error, match="a platform is"):
        platform_json(value)


def test_platform_list() -> None:
    assert platform_list("platform", None) is None
    assert platform_list("platform", "linux/amd64") == ['{"os":"linux","architecture":"amd64"}']
    assert platform_list("platform", {"os": "linux"}) == ['{"os":"linux"}']
    both = platform_list("platforms", ["linux/arm64", {"os": "windows"}])
    assert both == ['{"os":"linux","architecture":"arm64"}', '{"os":"windows"}']
    with pytest.raises(ValueError, match="platforms must name at least one platform"):
        platform_list("platforms", [])


# -- has_tag_or_digest, Request.with_param -------------------------------------------------


@pytest.mark.parametrize(
    ("ref", "expected"),
    [
        ("app", False),
        ("app:1", True),
        ("team/app", False),
        ("localhost:5000/app", False),
        ("localhost:5000/team/app:1.2", True),
        ("app@sha256:" + "0" * 64, True),
        ("localhost:5000/app@sha256:" + "0" * 64, True),
    ],
)
def test_has_tag_or_digest(ref: str, expected: bool) -> None:
    assert has_tag_or_digest(ref) is expected


def test_with_param() -> None:
    req = ops.BuildPrune(all=True)
    added = req.with_param("keep-storage", ["1024"])
    assert added.params == [("all", "1"), ("keep-storage", "1024")]
    assert req.params == [("all", "1")]  # a new request: the old one is left as it was
    assert added._replace(params=req.params) == req
    bare = ops.BuildPrune()
    assert bare.with_param("x", ["a", "b"]).params == [("x", "a"), ("x", "b")]
    assert req.with_param("keep-storage", []) is req
    with pytest.raises(ValueError, match="CR, LF or NUL"):
        req.with_param("keep-storage", ["1\r\n"])


@given(st.lists(st.tuples(st.text(max_size=8), st.text(max_size=8)), min_size=1, max_size=4))
def test_with_query_is_urlencode(pairs: list[tuple[str, str]]) -> None:
    """The shortcut for plain names and values gives what urlencode gives, for any pairs."""
    assert with_query("/p", pairs) == "/p?" + urlencode(pairs)
