"""Frames of logs, attach and exec streams."""

from __future__ import annotations

import enum

import msgspec

__all__ = ["Frame", "StreamType"]


class StreamType(enum.IntEnum):
    """Which stream a frame belongs to, as numbered in the multiplexed header."""

    STDIN = 0
    STDOUT = 1
    STDERR = 2
    SYSTEM_ERROR = 3


class Frame(msgspec.Struct, frozen=True, gc=False):
    """One frame of output: which stream, and its bytes."""

    stream: StreamType
    data: bytes
