"""The rows `ps` and `images` print: docker's field names and headers, one Context a row."""

from __future__ import annotations

import datetime as dt
import time
from typing import Any

import msgspec

from ..models import ContainerSummary, ImageSummary
from .formats import human_duration, ports, short_id
from .template import Context

DEFAULT_PS = (
    "table {{.ID}}\t{{.Image}}\t{{.Command}}\t{{.RunningFor}}\t{{.Status}}\t{{.Ports}}\t{{.Names}}"
)
DEFAULT_IMAGES = "table {{.Repository}}\t{{.Tag}}\t{{.ID}}\t{{.CreatedSince}}\t{{.Size}}"
DEFAULT_IMAGES_DIGESTS = (
    "table {{.Repository}}\t{{.Tag}}\t{{.Digest}}\t{{.ID}}\t{{.CreatedSince}}\t{{.Size}}"
)

PS_HEADERS = {
    "ID": "CONTAINER ID",
    "Names": "NAMES",
    "Image": "IMAGE",
    "Command": "COMMAND",
    "CreatedAt": "CREATED AT",
    "RunningFor": "CREATED",
    "Ports": "PORTS",
    "State": "STATE",
    "Status": "STATUS",
    "Size": "SIZE",
    "Labels": "LABELS",
    "Mounts": "MOUNTS",
    "LocalVolumes": "LOCAL VOLUMES",
    "Networks": "NETWORKS",
    "Platform": "PLATFORM",
    "Host": "HOST",
}
IMAGE_HEADERS = {
    "ID": "IMAGE ID",
    "Repository": "REPOSITORY",
    "Tag": "TAG",
    "Digest": "DIGEST",
    "CreatedSince": "CREATED",
    "CreatedAt": "CREATED AT",
    "Size": "SIZE",
    "Containers": "CONTAINERS",
    "SharedSize": "SHARED SIZE",
    "UniqueSize": "UNIQUE SIZE",
    "VirtualSize": "SIZE",
    "Host": "HOST",
}


def header_label(name: str) -> str:
    """What `{{.Label "a.b-c"}}` is in a header row: the last dotted part, `-`/`_` as spaces."""
    return name.rsplit(".", 1)[-1].replace("-", " ").replace("_", " ")


def header_context(kind: str, headers: dict[str, str]) -> Context:
    return Context(kind, {**headers, "Label": header_label}, [])


def size(value: float, precision: int = 3) -> str:
    """Bytes as the docker CLI prints them (go-units: powers of 1000, `precision` digits)."""
    units = ("B", "kB", "MB", "GB", "TB", "PB", "EB")
    unit = 0
    while value >= 1000 and unit < len(units) - 1:
        value /= 1000
        unit += 1
    return f"{value:.{precision}g}{units[unit]}"


def go_time(timestamp: int | None) -> str:
    """A Unix time as Go's time.String() prints it in local time."""
    when = dt.datetime.fromtimestamp(timestamp or 0).astimezone()
    return when.strftime("%Y-%m-%d %H:%M:%S %z %Z")


def ellipsis(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def familiar(ref: str) -> str:
    """A reference without docker.io/library/ (or docker.io/) in front."""
    for prefix in ("docker.io/library/", "docker.io/"):
        if ref.startswith(prefix):
            return ref[len(prefix) :]
    return ref


def _image_column(c: ContainerSummary, trunc: bool) -> str:
    image = c.image or ""
    if not image:
        return "<no image>"
    if not trunc:
        return image
    if image.startswith("sha256:") or short_id(c.image_id) == short_id(image):
        return short_id(image)
    name, _, _digest = image.partition("@")
    return familiar(name)


def _platform(c: ContainerSummary) -> dict[str, Any] | None:
    descriptor = c.image_manifest_descriptor
    if descriptor is None or descriptor.platform is None:
        return None
    return dict(msgspec.to_builtins(descriptor.platform))


def container_context(c: ContainerSummary, *, trunc: bool, host: str, many: bool) -> Context:
    names = [n.removeprefix("/") for n in c.names or ()]
    if trunc:
        names = [n for n in names if "/" not in n][:1]
    labels = c.labels or {}
    mounts = [
        ellipsis(m.name or m.source or "", 15) if trunc else m.name or m.source or ""
        for m in c.mounts or ()
    ]
    networks = c.network_settings.networks if c.network_settings is not None else None
    size_text = size(c.size_rw or 0)
    if c.size_root_fs:
        size_text += f" (virtual {size(c.size_root_fs)})"
    command = c.command or ""
    fields: dict[str, Any] = {
        "ID": short_id(c.id, not trunc),
        "Names": ",".join(names),
        "Image": _image_column(c, trunc),
        "Command": msgspec.json.encode(ellipsis(command, 20) if trunc else command).decode(),
        "CreatedAt": go_time(c.created),
        "RunningFor": human_duration(time.time() - (c.created or 0)) + " ago",
        "Ports": ports(c.ports),
        "State": c.state or "",
        "Status": c.status or "",
        "Size": size_text,
        "Labels": ",".join(sorted(f"{k}={v}" for k, v in labels.items())),
        "Mounts": ",".join(mounts),
        "LocalVolumes": str(sum(1 for m in c.mounts or () if m.driver == "local")),
        "Networks": ",".join(sorted(networks or {})),
        "Platform": _platform(c),
        "Host": host,
    }
    json_fields = [k for k in fields if k != "Host" or many]
    fields["Label"] = lambda name: labels.get(name, "")
    return Context("container", fields, json_fields)


def image_contexts(
    image: ImageSummary, *, trunc: bool, digests: bool, host: str, many: bool
) -> list[Context]:
    """One row a tag (a row per digest with `digests`), as `docker images` lists them."""
    tags: dict[str, list[str]] = {}
    by_repo: dict[str, list[str]] = {}
    for ref in image.repo_tags or ():
        repo, sep, tag = ref.rpartition(":")
        if sep and "/" not in tag and ref != "<none>:<none>":
            tags.setdefault(familiar(repo), []).append(tag)
    for ref in image.repo_digests or ():
        repo, sep, digest = ref.partition("@")
        if sep and ref != "<none>@<none>":
            by_repo.setdefault(familiar(repo), []).append(digest)
    rows: list[tuple[str, str, str]] = []
    if not tags and not by_repo:
        rows.append(("<none>", "<none>", "<none>"))
    for repo, repo_tags in tags.items():
        repo_digests = by_repo.pop(repo, []) if digests else (by_repo.pop(repo, None) and [])
        for tag in repo_tags:
            rows.extend((repo, tag, d) for d in repo_digests or ["<none>"])
    for repo, repo_digests in by_repo.items():
        if digests:
            rows.extend((repo, "<none>", d) for d in repo_digests)
        else:
            rows.append((repo, "<none>", ""))
    shared = image.shared_size
    common: dict[str, Any] = {
        "ID": short_id(image.id, not trunc) if trunc else image.id,
        "CreatedSince": human_duration(time.time() - image.created) + " ago"
        if image.created
        else "",
        "CreatedAt": go_time(image.created),
        "Size": size(image.size),
        "Containers": "N/A" if image.containers == -1 else str(image.containers),
        "SharedSize": "N/A" if shared == -1 else size(shared, 4),
        "UniqueSize": "N/A" if shared == -1 or image.size == -1 else size(image.size - shared, 4),
        # Daemons since API 1.44 leave VirtualSize out; docker then shows Size.
        "VirtualSize": size(image.size if image.virtual_size is None else image.virtual_size, 4),
        "Host": host,
    }
    out = []
    for repo, tag, digest in rows:
        fields = {**common, "Repository": repo, "Tag": tag, "Digest": digest}
        out.append(Context("image", fields, [k for k in fields if k != "Host" or many]))
    return out
