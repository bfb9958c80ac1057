"""Tests for the generated Engine API models and for tools/genmodels.py."""

from __future__ import annotations

import importlib.util
import sys
import types
from pathlib import Path
from typing import Any

import msgspec
import pytest

from aiodockerapi.models import generated as models

REPO_ROOT = Path(__file__).resolve().parents[1]
GENERATOR_PATH = REPO_ROOT / "tools" / "genmodels.py"


def _load_generator() -> types.ModuleType:
    spec = importlib.util.spec_from_file_location("_genmodels_under_test", GENERATOR_PATH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


genmodels = _load_generator()


def _struct_classes() -> list[type[msgspec.Struct]]:
    found = []
    for name in models.__all__:
        obj = getattr(models, name)
        if isinstance(obj, type) and issubclass(obj, msgspec.Struct):
            found.append(obj)
    return found


# ---------------------------------------------------------------------------
# The committed module is what the generator produces
# ---------------------------------------------------------------------------


def test_generated_module_is_up_to_date() -> None:
    spec_path: Path = genmodels.DEFAULT_SPEC
    if not spec_path.is_file():
        pytest.fail(
            f"Engine API spec not found at {spec_path}; the shared/ folder must sit next to "
            "the repository checkout so the generated models can be verified"
        )
    fresh = genmodels.generate_from_path(spec_path)
    committed = (REPO_ROOT / "aiodockerapi" / "models" / "generated.py").read_text("utf-8")
    assert committed == fresh, "generated.py is stale: run `python tools/genmodels.py`"


def test_check_mode_exit_codes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    spec_path: Path = genmodels.DEFAULT_SPEC
    if not spec_path.is_file():
        pytest.fail(f"Engine API spec not found at {spec_path}")
    target = tmp_path / "generated.py"
    assert genmodels.main(["--spec", str(spec_path), "--output", str(target)]) == 0
    assert genmodels.main(["--spec", str(spec_path), "--output", str(target), "--check"]) == 0
    target.write_text(target.read_text("utf-8") + "# edited by hand\n", "utf-8")
    assert genmodels.main(["--spec", str(spec_path), "--output", str(target), "--check"]) == 1
    assert "out of date" in capsys.readouterr().err


# ---------------------------------------------------------------------------
# Every class decodes and encodes
# ---------------------------------------------------------------------------


def test_all_lists_every_public_name() -> None:
    public = {
        name
        for name, obj in vars(models).items()
        if isinstance(obj, type) and issubclass(obj, msgspec.Struct) and obj is not msgspec.Struct
    }
    assert public <= set(models.__all__)
    assert len(models.__all__) == len(set(models.__all__))
    assert len(_struct_classes()) > 150


@pytest.mark.parametrize("cls", _struct_classes(), ids=lambda c: c.__name__)
def test_every_struct_round_trips_empty_object(cls: type[msgspec.Struct]) -> None:
    decoder = msgspec.json.Decoder(cls)
    value = decoder.decode(b"{}")
    assert value == cls()
    assert msgspec.json.encode(value) == b"{}"
    assert all(getattr(value, name) is None for name in cls.__struct_fields__)


def test_type_aliases_build_decoders() -> None:
    for name in models.__all__:
        obj = getattr(models, name)
        if not (isinstance(obj, type) and issubclass(obj, msgspec.Struct)):
            msgspec.json.Decoder(obj)
    ports = msgspec.json.decode(
        b'{"80/tcp": [{"HostIp": "", "HostPort": "8080"}], "53/udp": null}', type=models.PortMap
    )
    assert ports["80/tcp"] == [models.PortBinding(host_ip="", host_port="8080")]
    assert ports["53/udp"] is None


def test_structs_are_plain_data() -> None:
    for cls in _struct_classes():
        own = {k for k in vars(cls) if not k.startswith("__")}
        assert own <= set(cls.__struct_fields__), (cls.__name__, own)
        assert cls.__struct_config__.omit_defaults
        if cls.__struct_fields__:
            with pytest.raises(TypeError):
                cls(None)  # kw_only: positional arguments are rejected


# ---------------------------------------------------------------------------
# Realistic payloads
# ---------------------------------------------------------------------------


CONTAINER_LIST = b"""
[
  {
    "Id": "4b1e3c0d9a7f",
    "Names": ["/tender_lamport"],
    "Image": "busybox:1.36",
    "ImageID": "sha256:9e3f0b5c",
    "Command": "sleep 600",
    "Created": 1714003200,
    "Ports": [{"IP": "192.0.2.7", "PrivatePort": 80, "PublicPort": 8081, "Type": "tcp"}],
    "Labels": {"com.example.owner": "platform", "tier": "web"},
    "State": "running",
    "Status": "Up 12 minutes",
    "HostConfig": {"NetworkMode": "default"},
    "NetworkSettings": {
      "Networks": {
        "bridge": {"IPAddress": "192.0.2.20", "IPPrefixLen": 24, "NetworkID": "n1"}
      }
    },
    "Mounts": [
      {"Type": "volume", "Name": "cache", "Destination": "/cache", "RW": true}
    ],
    "FieldFromTheFuture": {"nested": [1, 2, 3]}
  },
  {"Id": "77aa", "Names": ["/idle"], "State": "exited", "Labels": null}
]
"""


def test_container_summary() -> None:
    first, second = msgspec.json.decode(CONTAINER_LIST, type=list[models.ContainerSummary])
    assert first.id == "4b1e3c0d9a7f"
    assert first.names == ["/tender_lamport"]
    assert first.image_id == "sha256:9e3f0b5c"
    assert first.created == 1714003200
    assert first.state == "running"
    assert first.status == "Up 12 minutes"
    assert first.labels == {"com.example.owner": "platform", "tier": "web"}
    assert first.ports == [
        models.Port(ip="192.0.2.7", private_port=80, public_port=8081, type="tcp")
    ]
    assert first.host_config is not None and first.host_config.network_mode == "default"
    assert first.network_settings is not None
    networks = first.network_settings.networks
    assert networks is not None
    assert networks["bridge"].ip_address == "192.0.2.20"
    assert networks["bridge"].ip_prefix_len == 24
    assert first.mounts is not None and first.mounts[0].rw is True
    assert second.labels is None and second.ports is None and second.state == "exited"


def test_system_info() -> None:
    payload = b"""
    {
      "ID": "QX3A:7YRM",
      "Containers": 9,
      "ContainersRunning": 4,
      "ContainersPaused": 1,
      "ContainersStopped": 4,
      "Images": 31,
      "Driver": "overlay2",
      "DriverStatus": [["Backing Filesystem", "xfs"], ["Supports d_type", "true"]],
      "MemTotal": 25769803776,
      "NCPU": 2,
      "OSType": "linux",
      "KernelVersion": "6.1.0-18-amd64",
      "ServerVersion": "20.10.24",
      "IPv4Forwarding": true,
      "CgroupVersion": "2",
      "Runtimes": {"runc": {"path": "runc"}, "crun": {"path": "/usr/bin/crun"}},
      "Swarm": {"LocalNodeState": "thawing", "NodeID": "", "ControlAvailable": false},
      "RegistryConfig": {
        "IndexConfigs": {"docker.io": {"Name": "docker.io", "Secure": true, "Official": true}},
        "InsecureRegistryCIDRs": ["127.0.0.0/8"]
      },
      "ContainerdCommit": {"ID": "abc123", "Expected": "abc123"},
      "SecurityOptions": ["name=seccomp,profile=builtin", "name=cgroupns"],
      "NotInTheSpecYet": 42
    }
    """
    info = msgspec.json.decode(payload, type=models.SystemInfo)
    assert info.id == "QX3A:7YRM"
    assert info.containers == 9
    assert info.containers_running == 4
    assert info.containers_paused == 1
    assert info.containers_stopped == 4
    assert info.driver_status == [["Backing Filesystem", "xfs"], ["Supports d_type", "true"]]
    assert info.mem_total == 25769803776
    assert info.ncpu == 2
    assert info.os_type == "linux"
    assert info.ipv4_forwarding is True
    assert info.runtimes is not None and info.runtimes["crun"].path == "/usr/bin/crun"
    # "thawing" is not one of the spec's LocalNodeState values: enums stay open.
    assert info.swarm is not None and info.swarm.local_node_state == "thawing"
    assert info.registry_config is not None
    assert info.registry_config.insecure_registry_cidrs == ["127.0.0.0/8"]
    assert info.registry_config.index_configs is not None
    assert info.registry_config.index_configs["docker.io"].official is True
    assert info.containerd_commit == models.Commit(id="abc123", expected="abc123")
    assert info.security_options is not None and len(info.security_options) == 2


def test_system_version() -> None:
    payload = b"""
    {
      "Platform": {"Name": "Docker Engine - Community"},
      "Components": [
        {"Name": "Engine", "Version": "20.10.24", "Details": {"GitCommit": "5d6db84"}}
      ],
      "Version": "20.10.24",
      "ApiVersion": "1.41",
      "MinAPIVersion": "1.12",
      "GitCommit": "5d6db84",
      "GoVersion": "go1.19.7",
      "Os": "linux",
      "Arch": "amd64",
      "KernelVersion": "6.1.0",
      "Experimental": false,
      "BuildTime": "2023-04-04T08:18:10.000000000+00:00"
    }
    """
    version = msgspec.json.decode(payload, type=models.SystemVersion)
    assert version.api_version == "1.41"
    assert version.min_api_version == "1.12"
    assert version.version == "20.10.24"
    assert version.go_version == "go1.19.7"
    assert version.os == "linux"
    assert version.arch == "amd64"
    assert version.experimental is False
    assert version.build_time == "2023-04-04T08:18:10.000000000+00:00"
    assert version.platform is not None and version.platform.name == "Docker Engine - Community"
    assert version.components is not None
    assert version.components[0].details == {"GitCommit": "5d6db84"}


def test_system_events_response_with_legacy_fields() -> None:
    payload = b"""
    {
      "status": "die",
      "id": "0f9e8d7c6b5a",
      "from": "alpine:3.19",
      "Type": "container",
      "Action": "die",
      "Actor": {
        "ID": "0f9e8d7c6b5a",
        "Attributes": {"exitCode": "0", "image": "alpine:3.19", "name": "worker-1"}
      },
      "scope": "local",
      "time": 1714003300,
      "timeNano": 1714003300123456789
    }
    """
    event = msgspec.json.decode(payload, type=models.SystemEventsResponse)
    assert event.type == "container"
    assert event.action == "die"
    assert event.actor is not None
    assert event.actor.id == "0f9e8d7c6b5a"
    assert event.actor.attributes == {"exitCode": "0", "image": "alpine:3.19", "name": "worker-1"}
    assert event.time == 1714003300
    assert event.time_nano == 1714003300123456789
    assert event.status == "die"
    assert event.id == "0f9e8d7c6b5a"
    assert event.from_ == "alpine:3.19"
    again = msgspec.json.decode(msgspec.json.encode(event), type=models.SystemEventsResponse)
    assert again == event
    # An unknown event type / action is just a string.
    odd = msgspec.json.decode(b'{"Type": "quantum", "Action": "tunnel"}', type=type(event))
    assert (odd.type, odd.action, odd.actor) == ("quantum", "tunnel", None)


def test_image_summary() -> None:
    payload = b"""
    [
      {
        "Id": "sha256:1d34ffeaf190",
        "ParentId": "",
        "RepoTags": ["alpine:3.19", "alpine:latest"],
        "RepoDigests": ["alpine@sha256:c5b1261d"],
        "Created": 1706659200,
        "Size": 7377675,
        "SharedSize": -1,
        "VirtualSize": 7377675,
        "Labels": null,
        "Containers": -1
      }
    ]
    """
    (image,) = msgspec.json.decode(payload, type=list[models.ImageSummary])
    assert image.id == "sha256:1d34ffeaf190"
    assert image.parent_id == ""
    assert image.repo_tags == ["alpine:3.19", "alpine:latest"]
    assert image.repo_digests == ["alpine@sha256:c5b1261d"]
    assert image.shared_size == -1
    assert image.labels is None


def test_container_create_response() -> None:
    created = msgspec.json.decode(
        b'{"Id": "e90e34656806", "Warnings": ["memory limit ignored"]}',
        type=models.ContainerCreateResponse,
    )
    assert created.id == "e90e34656806"
    assert created.warnings == ["memory limit ignored"]


def test_container_wait_response() -> None:
    killed = msgspec.json.decode(
        b'{"StatusCode": 137, "Error": {"Message": "container was killed"}}',
        type=models.ContainerWaitResponse,
    )
    assert killed.status_code == 137
    assert killed.error == models.ContainerWaitResponseError(message="container was killed")
    clean = msgspec.json.decode(
        b'{"StatusCode": 0, "Error": null}', type=models.ContainerWaitResponse
    )
    assert clean.status_code == 0 and clean.error is None


def test_container_prune_response() -> None:
    pruned = msgspec.json.decode(
        b'{"ContainersDeleted": ["aa11", "bb22"], "SpaceReclaimed": 1048576}',
        type=models.ContainerPruneResponse,
    )
    assert pruned.containers_deleted == ["aa11", "bb22"]
    assert pruned.space_reclaimed == 1048576
    nothing = msgspec.json.decode(
        b'{"ContainersDeleted": null, "SpaceReclaimed": 0}', type=models.ContainerPruneResponse
    )
    assert nothing.containers_deleted is None and nothing.space_reclaimed == 0


def test_build_info_stream_items() -> None:
    decoder = msgspec.json.Decoder(models.BuildInfo)
    lines = [
        b'{"stream": "Step 1/3 : FROM alpine:3.19\\n"}',
        b'{"aux": {"ID": "sha256:77c1a5e0"}}',
        b'{"stream": "Successfully built 77c1a5e0\\n"}',
        b'{"errorDetail": {"code": 2, "message": "no such file"}, "error": "no such file"}',
        b'{"status": "Pulling fs layer", "progressDetail": {"current": 10, "total": 99},'
        b' "id": "layer0"}',
    ]
    step, aux, done, failure, pulling = (decoder.decode(line) for line in lines)
    assert step.stream == "Step 1/3 : FROM alpine:3.19\n"
    assert aux.aux == models.ImageID(id="sha256:77c1a5e0")
    assert done.stream is not None and done.stream.startswith("Successfully built")
    assert failure.error == "no such file"
    assert failure.error_detail == models.ErrorDetail(code=2, message="no such file")
    assert pulling.progress_detail == models.ProgressDetail(current=10, total=99)
    assert pulling.id == "layer0"


def test_container_inspect_with_unknown_enum_and_null_ports() -> None:
    payload = b"""
    {
      "Id": "c0ffee",
      "Name": "/db",
      "State": {"Status": "hibernating", "Running": false, "Pid": 0, "Health": null},
      "HostConfig": {
        "NanoCpus": 1500000000,
        "PortBindings": {"5432/tcp": [{"HostIp": "127.0.0.1", "HostPort": "15432"}]},
        "RestartPolicy": {"Name": "on-failure", "MaximumRetryCount": 3}
      },
      "NetworkSettings": {"Ports": {"5432/tcp": null}},
      "Mounts": [{"Type": "tmpfs", "Destination": "/run", "Propagation": "rprivate"}]
    }
    """
    inspected = msgspec.json.decode(payload, type=models.ContainerInspectResponse)
    assert inspected.state is not None and inspected.state.status == "hibernating"
    assert inspected.state.health is None
    assert inspected.host_config is not None
    assert inspected.host_config.nano_cpus == 1500000000
    assert inspected.host_config.port_bindings == {
        "5432/tcp": [models.PortBinding(host_ip="127.0.0.1", host_port="15432")]
    }
    assert inspected.host_config.restart_policy == models.RestartPolicy(
        name="on-failure", maximum_retry_count=3
    )
    assert inspected.network_settings is not None
    assert inspected.network_settings.ports == {"5432/tcp": None}


def test_number_fields_accept_integers() -> None:
    update = msgspec.json.decode(
        b'{"Parallelism": 2, "MaxFailureRatio": 0}', type=models.ServiceSpecUpdateConfig
    )
    assert update.max_failure_ratio == 0.0 and isinstance(update.max_failure_ratio, float)


def test_container_create_body_encodes_only_set_fields() -> None:
    body = models.ContainerCreateBody(
        image="alpine:3.19",
        cmd=["echo", "hello"],
        labels={"com.example.job": "smoke"},
        host_config=models.HostConfig(auto_remove=True, nano_cpus=500_000_000, cpu_shares=512),
        networking_config=models.NetworkingConfig(
            endpoints_config={"backend": models.EndpointSettings(aliases=["db"])}
        ),
    )
    wire = msgspec.json.decode(msgspec.json.encode(body))
    assert wire == {
        "Image": "alpine:3.19",
        "Cmd": ["echo", "hello"],
        "Labels": {"com.example.job": "smoke"},
        "HostConfig": {"AutoRemove": True, "NanoCpus": 500_000_000, "CpuShares": 512},
        "NetworkingConfig": {"EndpointsConfig": {"backend": {"Aliases": ["db"]}}},
    }
    assert msgspec.json.encode(models.ContainerCreateBody()) == b"{}"


def test_missing_fields_take_defaults() -> None:
    partial = msgspec.json.decode(b'{"Names": ["/x"]}', type=models.ContainerSummary)
    assert partial.names == ["/x"]
    assert partial.id is None and partial.labels is None and partial.mounts is None


# ---------------------------------------------------------------------------
# Generator behaviour on small specs
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("wire", "attr"),
    [
        ("Id", "id"),
        ("ID", "id"),
        ("RepoTags", "repo_tags"),
        ("ContainersRunning", "containers_running"),
        ("ApiVersion", "api_version"),
        ("MinAPIVersion", "min_api_version"),
        ("timeNano", "time_nano"),
        ("IPv4Address", "ipv4_address"),
        ("GlobalIPv6PrefixLen", "global_ipv6_prefix_len"),
        ("CPUShares", "cpu_shares"),
        ("CpuShares", "cpu_shares"),
        ("NanoCPUs", "nano_cpus"),
        ("NanoCpus", "nano_cpus"),
        ("OomKillDisable", "oom_kill_disable"),
        ("OOMKilled", "oom_killed"),
        ("IPAMConfig", "ipam_config"),
        ("HostConfig", "host_config"),
        ("NCPU", "ncpu"),
        ("InsecureRegistryCIDRs", "insecure_registry_cidrs"),
        ("BlkioDeviceReadIOps", "blkio_device_read_iops"),
        ("BridgeNfIp6tables", "bridge_nf_ip6tables"),
        ("is_official", "is_official"),
        ("errorDetail", "error_detail"),
        ("from", "from_"),
        ("class", "class_"),
        ("str", "str_"),
        ("com.docker.compose.project", "com_docker_compose_project"),
        ("dash-separated-name", "dash_separated_name"),
        ("3rdParty", "f_3rd_party"),
    ],
)
def test_snake_case(wire: str, attr: str) -> None:
    assert genmodels.snake_case(wire) == attr


def _exec_module(source: str, name: str, monkeypatch: pytest.MonkeyPatch) -> types.ModuleType:
    module = types.ModuleType(name)
    monkeypatch.setitem(sys.modules, name, module)
    # dont_inherit: this test module's own __future__ imports must not leak in.
    exec(compile(source, f"<{name}>", "exec", dont_inherit=True), module.__dict__)
    return module


MINI_SPEC: dict[str, Any] = {
    "swagger": "2.0",
    "info": {"version": "9.99"},
    "definitions": {
        "Base": {"type": "object", "properties": {"Name": {"type": "string"}}},
        "Thing": {
            "allOf": [
                {"$ref": "#/definitions/Base"},
                {
                    "type": "object",
                    "properties": {
                        "Id": {"type": "string"},
                        "ID": {"type": "string"},
                        "status": {"type": "string"},
                        "Status": {"type": "string", "enum": ["on", "off"]},
                        "from": {"type": "string"},
                        "com.example.key": {"type": "integer"},
                        "Inner": {
                            "type": "object",
                            "properties": {"Deep": {"type": "object", "properties": {}}},
                        },
                        "Parts": {
                            "type": "array",
                            "items": {"type": "object", "properties": {"N": {"type": "number"}}},
                        },
                        "Titled": {
                            "type": "object",
                            "title": "Shared",
                            "properties": {"A": {"type": "string"}},
                        },
                        "Other": {
                            "type": "object",
                            "title": "Shared",
                            "properties": {"B": {"type": "string"}},
                        },
                        "Bag": {"type": "object", "additionalProperties": True},
                    },
                },
            ]
        },
        "Mode": {"type": "string", "enum": ["a", "b"]},
        "Many": {
            "type": "array",
            "items": {"type": "object", "properties": {"K": {"type": "boolean"}}},
        },
    },
    "paths": {
        "/things": {
            "post": {
                "operationId": "ThingCreate",
                "parameters": [
                    {
                        "in": "body",
                        "name": "body",
                        "schema": {
                            "allOf": [
                                {"$ref": "#/definitions/Base"},
                                {
                                    "type": "object",
                                    "properties": {"Mode": {"$ref": "#/definitions/Mode"}},
                                },
                            ]
                        },
                    }
                ],
                "responses": {
                    "201": {"schema": {"type": "object", "properties": {"Id": {"type": "string"}}}},
                    "409": {
                        "schema": {"type": "object", "properties": {"message": {"type": "string"}}}
                    },
                },
            },
            "get": {
                "operationId": "ThingList",
                "responses": {
                    "200": {"schema": {"type": "array", "items": {"$ref": "#/definitions/Many"}}},
                },
            },
        }
    },
}


def test_generator_rules_on_a_small_spec(monkeypatch: pytest.MonkeyPatch) -> None:
    source = genmodels.generate(MINI_SPEC)
    assert source == genmodels.generate(MINI_SPEC), "output must be deterministic"
    assert "API version 9.99" in source
    mod = _exec_module(source, "_mini_models", monkeypatch)
    expected = {
        "Base",
        "Thing",
        "ThingInner",
        "ThingInnerDeep",
        "ThingPartsItem",
        "Shared",
        "Shared2",
        "Mode",
        "Many",
        "ThingCreateBody",
        "ThingCreateResponse",
        "ThingCreateResponse409",
    }
    assert set(mod.__all__) == expected
    assert mod.Mode is str
    fields = mod.Thing.__struct_fields__
    assert fields[0] == "name"  # allOf: properties of the referenced Base come first
    assert {"id", "id_alt", "status", "status_legacy", "from_", "com_example_key"} <= set(fields)

    thing = msgspec.json.decode(
        b'{"Name": "n", "Id": "new", "ID": "old", "status": "legacy", "Status": "unknown-value",'
        b' "from": "img", "com.example.key": 7, "Inner": {"Deep": {}},'
        b' "Parts": [{"N": 1}], "Titled": {"A": "a"}, "Other": {"B": "b"},'
        b' "Bag": {"x": [1]}, "Extra": true}',
        type=mod.Thing,
    )
    assert (thing.id, thing.id_alt) == ("new", "old")
    assert (thing.status, thing.status_legacy) == ("unknown-value", "legacy")
    assert thing.from_ == "img" and thing.com_example_key == 7
    assert thing.inner == mod.ThingInner(deep=mod.ThingInnerDeep())
    assert thing.parts == [mod.ThingPartsItem(n=1.0)]
    assert thing.titled == mod.Shared(a="a") and thing.other == mod.Shared2(b="b")
    assert thing.bag == {"x": [1]}
    wire = msgspec.json.decode(msgspec.json.encode(thing))
    assert wire["ID"] == "old" and wire["Id"] == "new"
    assert wire["status"] == "legacy" and wire["Status"] == "unknown-value"
    assert "Extra" not in wire

    assert mod.ThingCreateBody.__struct_fields__ == ("name", "mode")
    assert msgspec.json.encode(mod.ThingCreateBody(mode="b")) == b'{"Mode":"b"}'
    many: Any = mod.Many
    items = msgspec.json.decode(b'[{"K": true}, {}]', type=list[many])
    assert items == [mod.Many(k=True), mod.Many()]


def test_generated_mini_module_passes_line_length() -> None:
    source = genmodels.generate(MINI_SPEC)
    assert all(len(line) <= 100 for line in source.splitlines())
    assert source.startswith("# This file is generated by tools/genmodels.py")
