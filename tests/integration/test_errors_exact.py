"""Errors typed and exact: misuse, NUL bytes, hooks, fds and huge numbers (issue 9, part 5)."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

import attrs
import pytest
from ctutil import Factories, unique_id

import specconv
from libcontainer import Factory, Process
from libcontainer.configs import Command, FuncHook, Hooks
from libcontainer.errors import (
    ConfigError,
    ContainerNotExistsError,
    LibcontainerError,
    StateFileError,
)

pytestmark = pytest.mark.root


def test_misuse_is_a_typed_error_with_a_sentence(
    containers: Factories, make_config: Any, state_root: Path
) -> None:
    factory = containers.factory
    with pytest.raises(ConfigError, match=r"^config: Factory.create needs a libcontainer"):
        factory.create(unique_id(), None)  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match=r"Container\.start takes a libcontainer\.Process"):
        containers.create(make_config()).start(["true"])  # type: ignore[arg-type]
    c = containers.create(make_config())
    c.destroy()
    for misuse in (
        lambda: c.run(Process(["true"])),
        lambda: c.exec(),
        lambda: c.signal(9),
        lambda: c.pause(),
        lambda: c.set(c.config),
        lambda: c.stats(),
    ):
        with pytest.raises(ContainerNotExistsError, match="has been destroyed"):
            misuse()
    c.destroy()  # still idempotent
    assert sorted(os.listdir(state_root)) == sorted(x.id for x in containers.containers[:-1])


@pytest.mark.parametrize(
    ("edit", "field"),
    [
        (lambda s: s.update(hostname="a\0b"), "hostname"),
        (
            lambda s: s["mounts"].append({"destination": "/x\0", "type": "tmpfs"}),
            "mounts[7].destination",
        ),
        (lambda s: s["linux"]["maskedPaths"].append("/proc/k\0"), "mask_paths[10]"),
    ],
)
def test_nul_bytes_in_a_config_name_the_field(
    make_config: Any, state_root: Path, edit: Any, field: str
) -> None:
    factory = Factory(state_root)
    cid = unique_id()
    with pytest.raises(ConfigError, match="^" + re.escape(field) + ": .*NUL byte"):
        factory.create(cid, make_config(edit))  # the spec's conversion or the factory says so
    assert not (state_root / cid).exists()


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"args": ["sh", "-c", "echo\0hi"]}, r"process\.args\[2\]"),
        ({"env": ["PATH=/bin", "A=1", "B=2", "X=\0"]}, r"process\.env\[3\]"),
        ({"cwd": "/tmp\0/x"}, r"process\.cwd"),
        ({"user": "0\0:0"}, r"process\.user"),
    ],
)
def test_nul_bytes_in_a_process_name_the_field(
    containers: Factories, make_config: Any, kwargs: dict[str, Any], field: str
) -> None:
    c = containers.create(make_config())
    args = kwargs.pop("args", ["true"])
    with pytest.raises(ConfigError, match=rf"^{field}: contains a NUL byte"):
        c.run(Process(args, **kwargs))
    assert not (c.root / "exec.fifo").exists()
    assert json.loads((c.root / "state.json").read_text())["init_process_pid"] == 0


def test_a_missing_preserved_fd_is_named(containers: Factories, make_config: Any) -> None:
    r, w = os.pipe()
    os.close(r)
    os.close(w)  # w is a number nothing is open on now
    c = containers.create(make_config())
    with pytest.raises(ConfigError, match=rf"process\.pass_fds\[0\]: fd {w} is not an open"):
        c.run(Process(["true"], pass_fds=[w]))


def test_python_hooks_work_with_the_default_spawner(
    containers: Factories, make_config: Any, tmp_path: Path
) -> None:
    """A lambda cannot be pickled to the spawner helper: hooks that run in the caller stay
    in the caller (only what the init needs travels)."""
    seen: list[tuple[str, str]] = []
    config = make_config()
    hooks = Hooks(
        prestart=(FuncHook(lambda s: seen.append(("prestart", s["status"]))),),
        poststart=(FuncHook(lambda s: seen.append(("poststart", s["status"]))),),
        poststop=(FuncHook(lambda s: seen.append(("poststop", s["status"]))),),
    )
    c = containers.create(attrs.evolve(config, hooks=hooks))
    proc = Process(["true"])
    c.run(proc)
    assert proc.wait() == 0
    c.destroy()
    assert seen == [("prestart", "creating"), ("poststart", "running"), ("poststop", "stopped")]


def test_a_function_hook_inside_the_container_is_refused(
    containers: Factories, make_config: Any
) -> None:
    hooks = Hooks(create_container=(FuncHook(print),))
    with pytest.raises(ConfigError, match=r"hooks\.create_container\[0\]: runs inside"):
        containers.create(attrs.evolve(make_config(), hooks=hooks))


@pytest.mark.parametrize("timeout", [0, -1])
def test_a_hook_timeout_must_be_positive(
    containers: Factories, make_config: Any, timeout: float
) -> None:
    hooks = Hooks(poststop=(Command(path="/bin/true", timeout=timeout),))
    with pytest.raises(ConfigError, match=r"hooks\.poststop\[0\]\.timeout: must be greater"):
        containers.create(attrs.evolve(make_config(), hooks=hooks))
    spec = json.loads(specconv.dump_spec(specconv.example()))
    spec["hooks"] = {"poststop": [{"path": "/bin/true", "timeout": timeout}]}
    with pytest.raises(ConfigError):
        config = specconv.create_config(specconv.parse_spec(spec), bundle="/b", cgroup_name="c")
        containers.create(config)


def test_huge_numbers_get_a_bounded_message(
    containers: Factories, make_config: Any, state_root: Path
) -> None:
    huge = 10**5000
    spec = json.loads(specconv.dump_spec(specconv.example()))
    spec["process"]["user"]["uid"] = huge
    with pytest.raises(ConfigError) as spec_error:
        specconv.parse_spec(spec)
    assert "5001 digits" in str(spec_error.value) and len(str(spec_error.value)) < 300
    with pytest.raises(LibcontainerError) as config_error:
        containers.create(attrs.evolve(make_config(), oom_score_adj=huge))
    assert len(str(config_error.value)) < 300
    c = containers.create(make_config())
    state_file = c.root / "state.json"
    state_file.write_text(
        state_file.read_text().replace('"init_process_pid":0', '"init_process_pid":' + "9" * 5000)
    )
    with pytest.raises(StateFileError) as state_error:
        containers.factory.load(c.id).oci_state()
    assert len(str(state_error.value)) < 400, str(state_error.value)
