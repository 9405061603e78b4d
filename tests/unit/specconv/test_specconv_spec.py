"""The spec models: runc's example, rootless variant, JSON round trips and dump format."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import attrs
import pytest

import specconv
from libcontainer.jsontext import marshal_indent as go_marshal_indent
from specconv import dump_spec, example, load_spec, parse_spec, spec_to_dict, to_rootless
from specconv.spec import (
    Hook,
    Hooks,
    Linux,
    LinuxIDMapping,
    LinuxResources,
    LinuxSeccomp,
    LinuxSeccompArg,
    LinuxSyscall,
    Mount,
    Process,
    Root,
    Spec,
)

FixturePath = Callable[[str], Path]


def test_example_equals_runc_spec_output(runc_fixture: FixturePath) -> None:
    expected = runc_fixture("runc-1.1.5-spec-default.json").read_text()
    assert json.loads(dump_spec(example(cgroup_ns=False))) == json.loads(expected)
    # Byte for byte, as `runc spec` writes it (tabs, no final newline).
    assert dump_spec(example(cgroup_ns=False)) == expected


def test_example_adds_cgroup_namespace_on_cgroup_v2() -> None:
    spec = example(cgroup_ns=True)
    assert spec.linux is not None
    assert [ns.type for ns in spec.linux.namespaces][-1] == "cgroup"


def test_to_rootless_equals_runc_spec_rootless(runc_fixture: FixturePath) -> None:
    expected = json.loads(runc_fixture("runc-1.1.5-spec-rootless.json").read_text())
    host_uid = expected["linux"]["uidMappings"][0]["hostID"]
    host_gid = expected["linux"]["gidMappings"][0]["hostID"]
    rootless = to_rootless(example(cgroup_ns=False), uid=host_uid, gid=host_gid)
    assert json.loads(dump_spec(rootless)) == expected
    assert dump_spec(rootless) == runc_fixture("runc-1.1.5-spec-rootless.json").read_text()


def test_to_rootless_uses_effective_ids_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("os.geteuid", lambda: 1000)
    monkeypatch.setattr("os.getegid", lambda: 1001)
    linux = to_rootless(example(cgroup_ns=False)).linux
    assert linux is not None
    assert linux.uid_mappings == (LinuxIDMapping(container_id=0, host_id=1000, size=1),)
    assert linux.gid_mappings == (LinuxIDMapping(container_id=0, host_id=1001, size=1),)


def test_to_rootless_replaces_user_namespace_and_drops_uid_options() -> None:
    spec = parse_spec(
        {
            "mounts": [
                {"destination": "/x", "type": "tmpfs", "options": ["uid=1", "gid=2", "mode=1"]}
            ],
            "linux": {"namespaces": [{"type": "user", "path": "/p"}, {"type": "network"}]},
        }
    )
    out = to_rootless(spec, uid=5, gid=6)
    assert out.linux is not None
    assert [(n.type, n.path) for n in out.linux.namespaces] == [("user", "")]
    assert out.mounts[0].options == ("mode=1",)


def test_to_rootless_without_linux_section() -> None:
    out = to_rootless(Spec(), uid=1, gid=1)
    assert out.linux is not None
    assert out.linux.resources is None


@pytest.mark.parametrize(
    "name",
    ["runc-1.1.5-spec-default.json", "runc-1.1.5-spec-rootless.json"],
)
def test_fixture_round_trip(name: str, runc_fixture: FixturePath) -> None:
    text = runc_fixture(name).read_text()
    spec = parse_spec(text)
    assert dump_spec(spec) == text
    assert parse_spec(dump_spec(spec)) == spec


def test_load_spec_from_file_and_bundle(tmp_path: Path) -> None:
    (tmp_path / "config.json").write_text(dump_spec(example(cgroup_ns=False)))
    assert load_spec(tmp_path) == example(cgroup_ns=False)
    assert load_spec(tmp_path / "config.json") == example(cgroup_ns=False)
    with pytest.raises(FileNotFoundError):
        load_spec(tmp_path / "nope.json")


def test_every_field_round_trips(full_spec: dict[str, Any]) -> None:
    spec = parse_spec(full_spec)
    expected = dict(full_spec)
    # Go writes map keys sorted.
    expected["annotations"] = {"a": "1", "b": "2"}
    assert spec_to_dict(spec) == expected
    assert list(spec_to_dict(spec)["annotations"]) == ["a", "b"]
    assert parse_spec(dump_spec(spec)) == spec


def test_every_model_field_is_exercised_by_the_full_spec(full_spec: dict[str, Any]) -> None:
    # Guards the full spec against models growing fields the round trip test does not cover.
    def keys(data: object) -> set[str]:
        found: set[str] = set()
        if isinstance(data, dict):
            for key, value in data.items():
                found.add(key)
                found |= keys(value)
        elif isinstance(data, list):
            for item in data:
                found |= keys(item)
        return found

    def model_keys(cl: type) -> set[str]:
        from specconv._fields import json_name

        found: set[str] = set()
        for field in attrs.fields(cl):
            found.add(json_name(field))
        return found

    import specconv.spec as models

    all_keys: set[str] = set()
    for name in models.__all__:
        all_keys |= model_keys(getattr(models, name))
    assert all_keys <= keys(full_spec) | {"mlx"}


def test_python_field_names_map_to_camel_case_keys(full_spec: dict[str, Any]) -> None:
    spec = parse_spec(full_spec)
    assert spec.oci_version == "1.0.2"
    assert spec.process is not None and spec.process.oom_score_adj == -500
    assert spec.linux is not None and spec.linux.uid_mappings[0].host_id == 1000
    assert spec.linux.resources is not None
    assert spec.linux.resources.block_io is not None
    assert spec.linux.resources.block_io.throttle_read_iops_device[0].rate == 3
    assert spec.linux.intel_rdt is not None and spec.linux.intel_rdt.clos_id == "c"


def test_unknown_keys_are_ignored() -> None:
    spec = parse_spec(
        {
            "ociVersion": "1.0.2",
            "solaris": {"milestone": "x"},
            "windows": {"layerFolders": []},
            "vm": 1,
            "process": {"cwd": "/", "commandLine": "x", "future": {"a": [1]}},
            "linux": {"timeOffsets": {"monotonic": {"secs": 1}}, "resources": {"cpu": {"idle": 1}}},
        }
    )
    assert spec_to_dict(spec) == {
        "ociVersion": "1.0.2",
        "process": {"user": {"uid": 0, "gid": 0}, "cwd": "/"},
        "linux": {"resources": {"cpu": {}}},
    }


def test_null_members_mean_absent() -> None:
    spec = parse_spec(
        {"ociVersion": None, "process": {"args": None, "user": None, "cwd": None}, "linux": None}
    )
    assert spec == Spec(process=Process())


def test_omitempty_follows_specs_go() -> None:
    data = spec_to_dict(
        Spec(
            root=Root(),
            process=Process(),
            hooks=Hooks(prestart=[Hook()]),
            linux=Linux(
                resources=LinuxResources(),
                seccomp=LinuxSeccomp(syscalls=[LinuxSyscall(args=[LinuxSeccompArg()])]),
            ),
        )
    )
    assert data == {
        "ociVersion": "",
        "process": {"user": {"uid": 0, "gid": 0}, "cwd": ""},
        "root": {"path": ""},
        "hooks": {"prestart": [{"path": ""}]},
        "linux": {
            "resources": {},
            "seccomp": {
                "defaultAction": "",
                "syscalls": [
                    {"names": [], "action": "", "args": [{"index": 0, "value": 0, "op": ""}]}
                ],
            },
        },
    }


def test_models_are_frozen_and_take_lists() -> None:
    mount = Mount(destination="/x", options=["ro"])
    assert mount.options == ("ro",)
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        mount.destination = "/y"  # type: ignore[misc]


@pytest.mark.parametrize(
    ("value", "text"),
    [
        ("a<b>&c", '"a\\u003cb\\u003e\\u0026c"'),
        ('q"\\', '"q\\"\\\\"'),
        ("\n\r\t", '"\\n\\r\\t"'),
        ("\b\f\x01\x1f", '"\\u0008\\u000c\\u0001\\u001f"'),
        ("\u2028\u2029", '"\\u2028\\u2029"'),
        ("héllo ☃ \x7f", '"héllo ☃ \x7f"'),
        ({}, "{}"),
        ([], "[]"),
        ({"a": [1, True, None]}, '{\n\t"a": [\n\t\t1,\n\t\ttrue,\n\t\tnull\n\t]\n}'),
    ],
)
def test_dump_escapes_like_go(value: object, text: str) -> None:
    assert go_marshal_indent(value) == text


def test_dump_output_is_valid_json_for_odd_strings() -> None:
    odd = "".join(chr(c) for c in range(0, 0x3000, 7))
    spec = Spec(hostname=odd, annotations={odd: odd})
    assert parse_spec(dump_spec(spec)) == spec


def test_public_api_is_exported() -> None:
    for name in specconv.__all__:
        assert getattr(specconv, name) is not None
    with pytest.raises(AttributeError):
        specconv.nope  # noqa: B018
