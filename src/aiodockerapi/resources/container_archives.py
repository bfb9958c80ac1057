"""docker.containers.export, archive_info, get_archive and put_archive: a container's files
as tar archives (what `docker export` and `docker cp` use), mixed into Containers."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from typing import TYPE_CHECKING

from .. import operations as ops
from ..bodies.download import Download, header_of
from ..models import PathStat
from .base import Resource

if TYPE_CHECKING:  # tar building (tarfile, anyio) loads with the first put_archive
    from ..bodies.build_context import BuildContext

__all__ = ["ContainerArchives"]

PATH_STAT = "X-Docker-Container-Path-Stat"
"""The header that holds a path's PathStat, as base64 JSON."""


class ContainerArchives(Resource):
    """Files copied out of and into containers, as tar archives (part of Containers)."""

    def export(self, id: str) -> AsyncGenerator[bytes, None]:
        """GET /containers/{id}/export: the filesystem as a tar, in chunks.

        Args:
            id: the container's id, id prefix or name.
        """
        return self._t.stream_bytes(ops.ContainerExport(id))

    async def archive_info(self, id: str, *, path: str) -> PathStat:
        """HEAD /containers/{id}/archive: what is at `path` in the container.

        Args:
            id: the container's id, id prefix or name.
            path: a path in the container's filesystem.
        """
        req = ops.ContainerArchiveInfo(id, path=path)
        return await header_of(self._t.open_stream(req), PathStat, PATH_STAT)

    def get_archive(self, id: str, *, path: str) -> Download[PathStat]:
        """GET /containers/{id}/archive: a tar of `path`, in chunks; `async with` it to read
        the path's PathStat as `.meta` first.

        Args:
            id: the container's id, id prefix or name.
            path: the file or directory in the container to archive.
        """
        return Download(
            self._t.open_stream(ops.ContainerArchive(id, path=path)), PathStat, PATH_STAT
        )

    async def put_archive(
        self,
        id: str,
        archive: BuildContext,
        *,
        path: str,
        no_overwrite_dir_non_dir: bool | None = None,
        copy_uidgid: bool | None = None,
    ) -> None:
        """PUT /containers/{id}/archive: extract a tar into the directory `path`.

        Args:
            id: the container's id, id prefix or name.
            archive: the tar: bytes, a tar file's path, a directory (tarred on the fly), a binary
                file object or an async iterable of bytes.
            path: the directory in the container to extract into; it must exist.
            no_overwrite_dir_non_dir: refuse to replace a directory by a file, or the reverse.
            copy_uidgid: give the files the tar's owners instead of the container's root user.
        """
        from ..bodies.build_context import TAR_HEADERS, open_context

        req = ops.PutContainerArchive(
            id,
            path=path,
            no_overwrite_dir_non_dir=no_overwrite_dir_non_dir,
            copy_uidgid=copy_uidgid,
        )
        await self._t.call(
            req,
            data=open_context(archive),
            headers=TAR_HEADERS,
            timeout=None,
        )
