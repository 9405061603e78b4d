"""Property tests: whatever JSON comes in, only ConfigError comes out.

Random JSON documents, and the example and full specs with keys deleted, values replaced by
random JSON or random strings, go through parse_spec, create_config and process_args. Any
spec that loads must also survive dump_spec and load again unchanged.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from libcontainer.errors import ConfigError
from specconv import create_config, dump_spec, example, parse_spec, process_args, spec_to_dict
from specconv.tables import CAPABILITIES, SECCOMP_ACTIONS, known_mount_options

SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# Keys and values the spec knows, so random documents often reach deep into the models.
SPEC_WORDS = [
    "ociVersion", "process", "root", "path", "mounts", "destination", "type", "source",
    "options", "linux", "namespaces", "resources", "devices", "memory", "limit", "seccomp",
    "syscalls", "names", "action", "args", "op", "user", "uid", "gid", "capabilities",
    "bounding", "rlimits", "hooks", "prestart", "timeout", "uidMappings", "containerID",
    "hostID", "size", "cgroupsPath", "rootfsPropagation", "defaultAction", "architectures",
    "cwd", "env", "annotations", "sysctl", "unified", "rdma", "cpu", "shares",
    "network", "user", "pid", "mount", "cgroup", "time", "c", "b", "a", "p", "rwm",
    "/", "/proc", "rootfs", "ro", "rbind", "rro", "SCMP_ACT_ERRNO", "SCMP_CMP_EQ",
    "SCMP_ARCH_X86_64", "RLIMIT_NOFILE", "CAP_KILL", "slice:prefix:name", "rprivate",
]  # fmt: skip

words = st.sampled_from(
    SPEC_WORDS + known_mount_options() + list(CAPABILITIES)[:5] + list(SECCOMP_ACTIONS)
)
texts = st.one_of(words, st.text(max_size=12))
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**65), max_value=2**65),
    st.sampled_from([0, 1, -1, 2**31, 2**32, 2**63, 2**64 - 1, 2**64]),
    st.floats(allow_nan=False, allow_infinity=False),
    texts,
)
json_values = st.recursive(
    scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=4), st.dictionaries(texts, children, max_size=5)
    ),
    max_leaves=25,
)


@pytest.fixture(scope="module")
def bundle_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("bundle")
    (path / "rootfs").mkdir()
    return path


def exercise(data: Any, bundle: Path) -> None:
    """Run the whole pipeline on ``data``; only ConfigError may escape."""
    try:
        spec = parse_spec(data)
    except ConfigError:
        return
    assert parse_spec(dump_spec(spec)) == spec
    assert parse_spec(spec_to_dict(spec)) == spec
    for call in (
        lambda: create_config(spec, bundle=bundle, cgroup_name="c"),
        lambda: create_config(spec, bundle=bundle, use_systemd_cgroup=True, no_pivot_root=True),
        lambda: process_args(spec),
    ):
        try:
            call()
        except ConfigError as exc:
            assert exc.message


def paths_of(doc: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every path (keys and indexes) to a value inside a JSON document, the root included."""
    found = [prefix]
    if isinstance(doc, dict):
        for key, value in doc.items():
            found += paths_of(value, (*prefix, key))
    elif isinstance(doc, list):
        for index, value in enumerate(doc):
            found += paths_of(value, (*prefix, index))
    return found


def mutate(doc: Any, data: st.DataObject) -> Any:
    """Delete a key, or replace a value by random JSON or a random string, somewhere in doc."""
    doc = copy.deepcopy(doc)
    path = data.draw(st.sampled_from(paths_of(doc)))
    kind = data.draw(st.sampled_from(["delete", "json", "text", "wrap", "empty"]))
    if not path:
        return data.draw(json_values)
    parent = doc
    for step in path[:-1]:
        parent = parent[step]
    last = path[-1]
    if kind == "delete":
        del parent[last]
    elif kind == "json":
        parent[last] = data.draw(json_values)
    elif kind == "text":
        parent[last] = data.draw(texts)
    elif kind == "wrap":
        parent[last] = [parent[last]]
    else:
        parent[last] = type(parent[last])() if isinstance(parent[last], list | dict) else None
    return doc


@SETTINGS
@given(doc=json_values)
def test_random_json_documents(doc: Any, bundle_dir: Path) -> None:
    exercise(doc, bundle_dir)


@SETTINGS
@given(doc=st.dictionaries(words, json_values, max_size=6))
def test_random_json_objects(doc: dict[str, Any], bundle_dir: Path) -> None:
    exercise(doc, bundle_dir)


@SETTINGS
@given(text=st.one_of(st.text(max_size=40), json_values.map(json.dumps)))
def test_random_json_text(text: str, bundle_dir: Path) -> None:
    exercise(text, bundle_dir)


@SETTINGS
@given(data=st.data(), rounds=st.integers(min_value=1, max_value=4))
def test_mutated_example_spec(data: st.DataObject, rounds: int, bundle_dir: Path) -> None:
    doc: Any = spec_to_dict(example(cgroup_ns=False))
    for _ in range(rounds):
        doc = mutate(doc, data)
    exercise(doc, bundle_dir)


@SETTINGS
@given(data=st.data(), rounds=st.integers(min_value=1, max_value=4))
def test_mutated_full_spec(
    data: st.DataObject, rounds: int, bundle_dir: Path, full_spec: dict[str, Any]
) -> None:
    doc: Any = full_spec
    for _ in range(rounds):
        doc = mutate(doc, data)
    exercise(doc, bundle_dir)


def test_unmutated_seeds_convert(bundle_dir: Path, full_spec: dict[str, Any]) -> None:
    for doc in (spec_to_dict(example(cgroup_ns=False)), full_spec):
        spec = parse_spec(doc)
        create_config(spec, bundle=bundle_dir)
        process_args(spec)


variant_texts = st.one_of(
    st.text(max_size=20),
    st.builds(
        lambda kw, v: f"{kw} {v}",
        st.sampled_from(["", "uint64", "@t", "double", "@as", "byte", "string"]),
        st.one_of(st.integers().map(str), st.floats().map(str), texts),
    ),
    st.lists(st.one_of(st.integers().map(str), texts.map(repr)), max_size=3).map(
        lambda items: "[" + ", ".join(items) + "]"
    ),
)


@SETTINGS
@given(
    name=st.one_of(st.sampled_from(["TimeoutStopSec", "CollectMode", "CPUQuotaSec"]), texts),
    value=variant_texts,
)
def test_random_systemd_properties(name: str, value: str, bundle_dir: Path) -> None:
    spec = parse_spec(
        {"root": {"path": "rootfs"}, "annotations": {f"org.systemd.property.{name}": value}}
    )
    try:
        config = create_config(spec, bundle=bundle_dir, use_systemd_cgroup=True)
    except ConfigError as exc:
        assert exc.field == f'annotations["org.systemd.property.{name}"]'
    else:
        assert config.cgroups is not None and len(config.cgroups.systemd_props) == 1
