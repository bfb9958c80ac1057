"""An API operation as data (its method, path template, query parameters and the API
version that brought each), and the request one call of it makes.

The table of all operations, `operations.py`, is generated from the specs by
tools/genops.py; resource methods bind an operation to their arguments, and the transport
checks the bound request against the API version it speaks.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from operator import attrgetter
from typing import TYPE_CHECKING, Any, Final, NamedTuple

from .params import encode_param
from .paths import segment

__all__ = ["BASE_VERSION", "Operation", "Param", "Request", "version_text"]

Version = tuple[int, int]

# The oldest API version the client speaks: what nothing needs to be checked against.
BASE_VERSION: Final[Version] = (1, 41)


def version_text(version: Version) -> str:
    return f"{version[0]}.{version[1]}"


class Param(NamedTuple):
    """A query parameter: its Python keyword, its wire name, the API version that brought it,
    whether a list is sent as the parameter repeated (collectionFormat multi), and the value
    the daemon takes when it is left out (a value equal to it is not sent; None: none)."""

    name: str
    wire: str
    since: Version = BASE_VERSION
    multi: bool = False
    default: bool | str | None = None


class Request(NamedTuple):
    """One bound call: what the transport sends (the path has no version prefix yet) and the
    API version it needs, with what needs it, when that is newer than BASE_VERSION."""

    method: str
    path: str
    params: list[tuple[str, str]] | None
    needs: Version | None = None
    needed_by: str = ""

    def with_param(self, wire: str, values: Sequence[str]) -> Request:
        """This request with the query parameter `wire` added once per value (for a parameter
        the operation table no longer has, such as build prune's keep-storage)."""
        if not values:
            return self
        params = list(self.params or ())
        for value in values:
            encode_param(params, wire, value)
        return self._replace(params=params)


class Operation:
    """One operation of the Engine API, as the generated table describes it. Calling it binds
    a call's arguments into a Request: with the function tools/genops.py generated for it
    (`bind`), else with the generic `bind_any`."""

    __slots__ = (
        "_bind",
        "_needs",
        "_parts",
        "_query",
        "body",
        "id",
        "method",
        "path",
        "path_params",
        "python",
        "query",
        "result",
        "since",
    )

    def __init__(
        self,
        id: str,
        method: str,
        path: str,
        since: Version = BASE_VERSION,
        query: Sequence[Param] = (),
        *,
        body: str | None = None,
        result: str | None = None,
        python: str = "",
        bind: Callable[..., Request] | None = None,
    ) -> None:
        self.id = id
        self.method = method
        self.path = path
        self.since = since
        self.query = tuple(query)
        self.body = body
        self.result = result
        self.python = python
        self._query: dict[str, Param] = {p.name: p for p in self.query}
        self._needs: Version | None = since if since > BASE_VERSION else None
        # "/containers/{id}/json" -> ["/containers/", "id", "/json"]
        parts: list[str] = []
        rest = path
        while "{" in rest:
            head, _, tail = rest.partition("{")
            name, _, rest = tail.partition("}")
            parts += [head, name]
        parts.append(rest)
        self._parts = parts
        self.path_params = tuple(parts[1::2])
        self._bind = self.bind_any if bind is None else bind

    if TYPE_CHECKING:

        def __call__(self, *path_args: str, **query: Any) -> Request: ...

    else:
        # The generated function itself, called with no frame of ours in between (a method
        # would add one per call): the property's getter is C, not Python.
        __call__ = property(attrgetter("_bind"))

    def __repr__(self) -> str:
        return f"<Operation {self.id}: {self.method} {self.path}>"

    def bind_any(self, *path_args: str, **query: Any) -> Request:
        """Bind the path's arguments (in template order) and the query's keywords (None, and a
        value equal to the parameter's default, are left out). A keyword the operation lacks
        is a TypeError."""
        parts = self._parts
        if len(path_args) != len(self.path_params):
            raise TypeError(f"{self.id} takes {len(self.path_params)} path arguments")
        if len(path_args) == 1:  # the common case, without a loop
            path = parts[0] + segment(self, self.path_params[0], path_args[0]) + parts[2]
        elif path_args:
            out = [parts[0]]
            for i, arg in enumerate(path_args):
                out.append(segment(self, self.path_params[i], arg))
                out.append(parts[2 * i + 2])
            path = "".join(out)
        else:
            path = parts[0]
        needs = self._needs
        needed_by = ""
        params: list[tuple[str, str]] | None = None
        if query:
            params = []
            known = self._query
            for name, value in query.items():
                if value is None:
                    continue
                param = known.get(name)
                if param is None:
                    raise TypeError(f"{self.id} has no query parameter {name!r}")
                default = param.default
                if default is not None and value == default and type(value) is type(default):
                    continue
                if param.since > BASE_VERSION and (needs is None or param.since > needs):
                    needs, needed_by = param.since, f"the parameter {name!r}"
                encode_param(params, param.wire, value, param.multi)
        if needs is not None and not needed_by:
            needed_by = self.python or self.id
        return Request(self.method, path, params or None, needs, needed_by)
