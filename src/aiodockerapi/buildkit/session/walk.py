"""Walking a local directory in fsutil's order, filtered as BuildKit filters a synced dir.

Blocking code: the async sender runs it on a worker thread, a batch at a time.
"""

from __future__ import annotations

import os
import posixpath
import stat as _stat
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from ...bodies.dockerignore import DockerIgnore
from .packets import MODE_DIR, Stat, go_mode

__all__ = ["TreeFilter", "resolve_followpaths", "walk_tree"]

# Symlink hops followed while resolving one followpath, as a guard against loops.
_MAX_HOPS = 255


@dataclass(frozen=True)
class TreeFilter:
    """Which entries of a directory are sent.

    ``ignore`` is the client's own ``.dockerignore`` (``keep`` names paths it never drops,
    such as the Dockerfile); ``include`` and ``exclude`` are the patterns the daemon asks
    with. A path is sent when every one of them lets it through.
    """

    ignore: DockerIgnore | None = None
    keep: frozenset[str] = frozenset()
    include: DockerIgnore | None = None
    exclude: DockerIgnore | None = None

    def sent(self, rel: str) -> bool:
        if self.include is not None and not self.include.excluded(rel):
            return False
        if self.exclude is not None and self.exclude.excluded(rel):
            return False
        return not (self.ignore is not None and rel not in self.keep and self.ignore.excluded(rel))

    def descend(self, rel: str) -> bool:
        """Whether something inside the unsent directory ``rel`` could still be sent."""
        if (
            self.include is not None
            and not self.include.excluded(rel)
            and not self.include.may_match_under(rel)
        ):
            return False
        if (
            self.exclude is not None
            and self.exclude.excluded(rel)
            and not self.exclude.may_reinclude_under(rel)
        ):
            return False
        if (
            self.ignore is not None
            and rel not in self.keep
            and self.ignore.excluded(rel)
            and not self.ignore.may_reinclude_under(rel)
        ):
            return any(k.startswith(rel + "/") for k in self.keep)
        return True


def walk_tree(root: str, tree_filter: TreeFilter, *, reset_owner: bool = True) -> Iterator[Stat]:
    """The ``Stat`` of every entry of ``root`` that ``tree_filter`` sends, in fsutil's order.

    Depth-first, names sorted bytewise, a directory before its contents; a directory left
    out by the filter still comes (just before its first sent entry) when something inside
    it is sent. Sockets, FIFOs and devices are skipped, as for a tar context. With
    ``reset_owner`` uid and gid are 0, as the docker CLI sends a context.
    """
    yield from _walk_dir(root, "", tree_filter, [], reset_owner)


def _walk_dir(
    root: str, prefix: str, flt: TreeFilter, pending: list[Stat], reset_owner: bool
) -> Iterator[Stat]:
    directory = os.path.join(root, prefix) if prefix else root
    try:
        names = sorted(os.listdir(directory), key=os.fsencode)
    except FileNotFoundError:  # removed during the walk
        return
    except PermissionError:
        if pending:  # a directory left out, only looked into for re-included paths
            return
        raise
    for name in names:
        rel = prefix + name
        full = os.path.join(root, rel)
        try:
            st = os.lstat(full)
        except FileNotFoundError:
            continue
        kind = _stat.S_IFMT(st.st_mode)
        if kind not in (_stat.S_IFDIR, _stat.S_IFREG, _stat.S_IFLNK):
            continue
        _check_name(full, rel)
        if kind == _stat.S_IFDIR:
            entry = _make_stat(rel, st, "", reset_owner)
            if flt.sent(rel):
                yield from pending
                pending.clear()
                yield entry
                yield from _walk_dir(root, rel + "/", flt, [], reset_owner)
            elif flt.descend(rel):
                pending.append(entry)
                yield from _walk_dir(root, rel + "/", flt, pending, reset_owner)
                if pending and pending[-1] is entry:
                    pending.pop()
            continue
        if not flt.sent(rel):
            continue
        linkname = ""
        if kind == _stat.S_IFLNK:
            try:
                linkname = os.readlink(full)
            except FileNotFoundError:
                continue
            _check_name(full, linkname)
        yield from pending
        pending.clear()
        yield _make_stat(rel, st, linkname, reset_owner)


def _check_name(full: str, text: str) -> None:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError(
            f"{full!r}: name is not valid UTF-8, which BuildKit's file stream cannot carry"
        ) from None


def _make_stat(rel: str, st: os.stat_result, linkname: str, reset_owner: bool) -> Stat:
    mode = go_mode(st.st_mode)
    return Stat(
        path=rel,
        mode=mode,
        uid=0 if reset_owner else st.st_uid,
        gid=0 if reset_owner else st.st_gid,
        size=0 if mode & MODE_DIR else st.st_size,
        modTime=st.st_mtime_ns,
        linkname=linkname,
    )


def resolve_followpaths(root: str, paths: Iterable[str]) -> list[str]:
    """``paths`` plus, for each symlink on the way to one, the paths it leads to.

    BuildKit asks for the Dockerfile (and its ignore file) by "followpaths": each becomes an
    include pattern, and a symlink among them also brings what it points at (an absolute
    target taken from ``root``). A base name with wildcards matches the entries of its
    directory.
    """
    resolved: set[str] = set()
    seen: set[tuple[str, str]] = set()
    for path in paths:
        _follow(root, path, resolved, seen, 0)
    return sorted(resolved)


def _follow(
    root: str, path: str, resolved: set[str], seen: set[tuple[str, str]], hops: int
) -> None:
    path = posixpath.normpath("/" + path).lstrip("/")
    if not path or hops > _MAX_HOPS:
        return
    parts = path.split("/")
    current = ""
    for i, part in enumerate(parts):
        rest = "/".join(parts[i + 1 :])
        if any(c in part for c in "*?[\\"):
            parent = current
            try:
                names = os.listdir(os.path.join(root, parent) if parent else root)
            except OSError:
                return
            pattern = DockerIgnore([part])
            for name in sorted(names):
                if pattern.excluded(name):
                    joined = posixpath.join(parent, name)
                    _follow(
                        root, posixpath.join(joined, rest) if rest else joined, resolved, seen, hops
                    )
            return
        current = posixpath.join(current, part) if current else part
        target = _readlink(os.path.join(root, current))
        if target is not None:
            if (current, rest) in seen:  # followed already (or a loop)
                return
            seen.add((current, rest))
            resolved.add(current)
            base = "" if target.startswith("/") else posixpath.dirname(current)
            follow = posixpath.join(base, target)
            _follow(
                root, posixpath.join(follow, rest) if rest else follow, resolved, seen, hops + 1
            )
            return
    resolved.add(current)


def _readlink(path: str) -> str | None:
    try:
        return os.readlink(path)
    except OSError:
        return None
