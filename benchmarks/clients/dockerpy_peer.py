"""docker-py's low-level APIClient (blocking: threads for concurrency)."""

from __future__ import annotations

import docker  # type: ignore[import-untyped]

from ..job import Job, threaded


class Client:
    def __init__(self, job: Job) -> None:
        self.job = job
        self.api = docker.APIClient(
            base_url=job.host, version=job.api_version, max_pool_size=max(10, job.in_flight)
        )

    def open(self) -> None:
        self.api.version()

    def close(self) -> None:
        self.api.close()

    def events(self) -> int:
        return sum(1 for _ in self.api.events(decode=True))

    def warmup_list(self) -> None:
        self.api.containers(all=True)

    def list(self) -> int:
        return sum(len(self.api.containers(all=True)) for _ in range(self.job.lists))

    def warmup_inspect(self) -> None:
        threaded(self.job.inspect_ids()[:200], self.job.in_flight, self.api.inspect_container)

    def inspect(self) -> int:
        return threaded(self.job.inspect_ids(), self.job.in_flight, self.api.inspect_container)

    def logs(self) -> int:
        # APIClient.logs has no demux option: the stream yields each frame's payload.
        return sum(len(chunk) for chunk in self.api.logs(self.job.logs_container, stream=True))

    def build(self) -> int:
        stream = self.api.build(
            path=self.job.context_dir,
            tag=f"{self.job.image}-built-dockerpy",
            labels={"aiodockerapi.bench": self.job.label},
            rm=True,
            decode=True,
        )
        return sum(1 for _ in stream)

    def archive(self) -> int:
        stream, _ = self.api.get_archive(self.job.archive_container, self.job.archive_path)
        return sum(len(chunk) for chunk in stream)

    def warmup_cycle(self) -> None:
        self._cycle(0)

    def cycle(self) -> int:
        return threaded(range(self.job.cycles), self.job.in_flight, self._cycle)

    def _cycle(self, _: int) -> None:
        config = self.job.container_config()
        host_config = self.api.create_host_config(network_mode="none")
        created = self.api.create_container(
            config["Image"], config["Cmd"], labels=config["Labels"], host_config=host_config
        )
        self.api.start(created["Id"])
        self.api.wait(created["Id"])
        self.api.remove_container(created["Id"])
