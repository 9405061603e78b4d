"""Never touch what is not the container's own (issue: a destroy that killed host processes).

Each dangerous scenario runs in :mod:`sacrifice`'s small world, so that if the protection
regressed, the harm would fall on the test's own bystander and cgroups, where the test sees
it, and nowhere else.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from ctutil import Factories, unique_id
from sacrifice import Sacrifice
from test_cli_helpers import pyrunc_binary
from testrun import unique_name

from libcontainer import Process
from libcontainer.cgroups.owned import ContainerCgroups
from libcontainer.configs import config_to_json
from libcontainer.errors import ConfigError, OwnershipError

pytestmark = pytest.mark.root


@pytest.fixture
def sacrifice() -> Iterator[Sacrifice]:
    s = Sacrifice()
    try:
        yield s
    finally:
        s.close()


def _config_json(make_config: Any, tmp_path: Path, **kwargs: Any) -> Path:
    path = tmp_path / "config.json.lib"
    path.write_text(config_to_json(make_config(**kwargs)))
    return path


LOAD_CONFIG = "from libcontainer.configs import config_from_json\n"


def test_unnamed_cgroup_gets_runcs_default_and_destroy_spares_the_caller(
    sacrifice: Sacrifice, bundle: Path, state_root: Path
) -> None:
    """``create_config`` without ``cgroup_name`` once gave the hierarchy roots (here: the
    caller's own cgroups); destroying the never-started container then killed everything
    in them. Now the factory names it ``/<id>``, and destroy spares the caller."""
    from ctutil import example_spec_dict

    spec = example_spec_dict(["sleep", "1000"])
    spec["root"]["readonly"] = False
    (bundle / "config.json").write_text(json.dumps(spec))
    ids = [unique_id(), unique_id()]
    script = textwrap.dedent(
        f"""
        import json, specconv
        from libcontainer import Factory, Process
        spec = specconv.load_spec({str(bundle / "config.json")!r})
        config = specconv.create_config(spec, bundle={str(bundle)!r})  # no cgroup_name
        factory = Factory({str(state_root)!r})
        never = factory.create({ids[0]!r}, config)
        ran = factory.create({ids[1]!r}, config)
        ran.run(Process(["sleep", "1000"]))
        out = {{"path": never.config.cgroups.path, "paths": ran.cgroup_manager.get_paths()}}
        never.destroy()
        ran.destroy()
        print(json.dumps(out))
        """
    )
    result = sacrifice.run_python(script)
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout)
    assert out["path"] == "/" + ids[0]
    assert out["paths"]["memory"] == f"/sys/fs/cgroup/memory/{ids[1]}"
    assert sacrifice.bystander_alive()
    assert sacrifice.intact()
    assert not any(os.path.exists(p) for p in out["paths"].values())


@pytest.mark.parametrize("path", ["/", "..", "/a/../.."])
def test_a_cgroup_at_a_hierarchy_root_is_refused(
    containers: Factories, make_config: Any, path: str
) -> None:
    import attrs

    config = make_config()
    config = attrs.evolve(config, cgroups=attrs.evolve(config.cgroups, name="", path=path))
    cid = unique_id()
    with pytest.raises(ConfigError, match=r"^cgroups\.path: .*hierarchy's root"):
        containers.factory.create(cid, config)
    assert not (containers.factory.root / cid).exists()


FORGE = """
import json, os
from libcontainer import Factory, Process
from libcontainer.errors import OwnershipError
factory = Factory(ROOT)
c = factory.create(CID, config_from_json(open(CONFIG).read()))
# The init gets no stdio of ours: our stdout must reach EOF when we exit, whatever happens.
c.run(Process(["sleep", "1000"], stdin=-3, stdout=-3, stderr=-3))
state_file = os.path.join(ROOT, CID, "state.json")
good = open(state_file).read()
state = json.loads(good)
report = {}
try:
BODY
finally:
    open(state_file, "w").write(good)
    factory.load(CID).destroy()
print(json.dumps(report))
"""


def _forge(make_config: Any, tmp_path: Path, state_root: Path, body: str) -> str:
    script = LOAD_CONFIG + FORGE.replace("BODY", textwrap.indent(textwrap.dedent(body), "    "))
    script = script.replace("ROOT", repr(str(state_root))).replace("CID", repr(unique_id()))
    return script.replace("CONFIG", repr(str(_config_json(make_config, tmp_path))))


def test_forged_state_naming_hierarchy_roots_fails_before_touching_anything(
    sacrifice: Sacrifice, make_config: Any, tmp_path: Path, state_root: Path
) -> None:
    """A hand-edited state.json whose cgroup paths are the hierarchies' roots: destroy and
    ``pyrunc delete`` fail with a clear error and remove or signal nothing. (Run where the
    roots are bind mounts of the test's own cgroups: a regression would hit only those.)"""
    body = f"""
    state["cgroup_paths"] = {{k: "/sys/fs/cgroup/" + (k.split("=")[-1] if k else "unified")
                             for k in state["cgroup_paths"]}}
    open(state_file, "w").write(json.dumps(state))
    try:
        factory.load(CID).destroy()
    except OwnershipError as e:
        report["library"] = str(e)
    import subprocess
    cli = subprocess.run([{pyrunc_binary()!r}, "--root", ROOT, "delete", "--force", CID],
                         capture_output=True, text=True)
    report["cli"] = [cli.returncode, cli.stderr]
    report["still_there"] = os.path.exists(state_file)
    """
    result = sacrifice.run_python(_forge(make_config, tmp_path, state_root, body), bind_roots=True)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert "refusing to use cgroup path" in report["library"]
    assert "hierarchy's root" in report["library"]
    code, stderr = report["cli"]
    assert code == 1 and "hierarchy's root" in stderr and stderr.count("\n") == 1, stderr
    assert report["still_there"]
    assert sacrifice.bystander_alive()
    assert sacrifice.intact()


def test_forged_pid_of_another_process_is_never_signalled(
    sacrifice: Sacrifice, make_config: Any, tmp_path: Path, state_root: Path
) -> None:
    """state.json names a live process of the host (right pid, right start time): it is
    not in the container's cgroups, so destroy and kill refuse it."""
    bystander = sacrifice.bystander.pid
    start = Path(f"/proc/{bystander}/stat").read_bytes().rsplit(b")", 1)[1].split()[19]
    body = f"""
    state["init_process_pid"] = {bystander}
    state["init_process_start"] = {int(start)}
    open(state_file, "w").write(json.dumps(state))
    for verb in ("destroy", "signal"):
        try:
            c = factory.load(CID)
            c.destroy() if verb == "destroy" else c.signal(9)
        except OwnershipError as e:
            report[verb] = str(e)
    """
    result = sacrifice.run_python(_forge(make_config, tmp_path, state_root, body))
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    for verb in ("destroy", "signal"):
        assert f"refusing to signal pid {bystander}" in report[verb]
    assert sacrifice.bystander_alive()


@pytest.mark.parametrize(
    "forged",
    ["{tmp}/not-a-cgroup", "/sys/fs/cgroup/memory/../../../{tmp}", "relative/path"],
)
def test_forged_paths_outside_the_cgroup_mounts(
    containers: Factories, make_config: Any, tmp_path: Path, forged: str
) -> None:
    victim = tmp_path / "not-a-cgroup"
    victim.mkdir()
    (victim / "keep").write_text("mine")
    c = containers.create(make_config())
    c.run(Process(["sleep", "1000"]))
    state_file = c.root / "state.json"
    good = state_file.read_text()
    state = json.loads(good)
    state["cgroup_paths"]["memory"] = forged.format(tmp=tmp_path)
    state_file.write_text(json.dumps(state))
    loaded = containers.factory.load(c.id)
    with pytest.raises(OwnershipError, match="refusing to use cgroup path"):
        loaded.destroy()
    assert (victim / "keep").read_text() == "mine"
    assert c.status().value == "running"  # nothing was killed either
    state_file.write_text(good)


def test_a_cgroup_the_container_did_not_create_is_joined_never_removed(
    containers: Factories, make_config: Any, bundle: Path
) -> None:
    """A config naming an existing cgroup (with a sub-cgroup and a process of someone else
    in it): the container joins it; destroy leaves the tree and the process alone."""
    name = unique_name("shared")
    controllers = ("memory", "pids", "freezer", "cpu")
    made = [f"/sys/fs/cgroup/{ctrl}/{name}/sub" for ctrl in controllers]
    for path in made:
        os.makedirs(path)
    other = subprocess.Popen(["sleep", "1000"])
    try:
        for path in made:
            Path(path, "cgroup.procs").write_text(str(other.pid))

        def edit(spec: dict[str, Any]) -> None:
            # No PID namespace of its own: runc's destroy signals "all" through the cgroup.
            spec["linux"]["namespaces"] = [
                ns for ns in spec["linux"]["namespaces"] if ns["type"] != "pid"
            ]
            spec["linux"]["cgroupsPath"] = "/" + name

        c = containers.create(make_config(edit, cgroup_name=""))
        init = Process(["sleep", "1000"])
        c.run(init)
        c.destroy()
        assert init.returncode == -signal.SIGKILL
        assert other.poll() is None, "a process the container did not own was killed"
        assert all(os.path.isdir(p) for p in made)
    finally:
        other.kill()
        other.wait()
        for path in made:
            for d in (path, os.path.dirname(path)):
                deadline = time.monotonic() + 5
                while os.path.isdir(d) and time.monotonic() < deadline:
                    try:
                        os.rmdir(d)
                    except OSError:
                        time.sleep(0.01)


def _spy_signal_all(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    calls: list[int] = []
    real = ContainerCgroups.signal_all

    def spy(self: ContainerCgroups, sig: int) -> list[int]:
        calls.append(sig)
        return real(self, sig)

    monkeypatch.setattr(ContainerCgroups, "signal_all", spy)
    return calls


@pytest.mark.parametrize("own_pid_namespace", [True, False])
def test_signalling_all_through_the_cgroup_only_where_runc_does(
    containers: Factories,
    make_config: Any,
    monkeypatch: pytest.MonkeyPatch,
    own_pid_namespace: bool,
) -> None:
    """With a PID namespace of its own, killing the init ends the container and is all
    destroy does; without one, destroy kills the rest through the container's cgroup."""

    def edit(spec: dict[str, Any]) -> None:
        if not own_pid_namespace:
            spec["linux"]["namespaces"] = [
                ns for ns in spec["linux"]["namespaces"] if ns["type"] != "pid"
            ]

    c = containers.create(make_config(edit))
    init = Process(["sleep", "1000"])
    c.run(init)
    side = Process(["sleep", "1000"], init=False)
    c.start(side)
    calls = _spy_signal_all(monkeypatch)
    c.signal(signal.SIGCONT)  # the init only, either way
    assert calls == []
    c.destroy()
    assert (calls != []) is (not own_pid_namespace), calls
    assert init.wait() == -signal.SIGKILL
    assert side.wait() == -signal.SIGKILL


def test_kill_all_goes_through_the_own_cgroup(containers: Factories, make_config: Any) -> None:
    c = containers.create(make_config())
    init = Process(["sleep", "1000"])
    c.run(init)
    side = Process(["sleep", "1000"], init=False)
    c.start(side)
    c.signal(signal.SIGKILL, all=True)
    assert side.wait() == -signal.SIGKILL
    assert init.wait() == -signal.SIGKILL


def test_a_sandbox_placement_sweeps_only_its_own_cgroups(tmp_path: Path) -> None:
    """``Placement.sweep`` (what the pytest plugin runs after a test) kills and removes only
    in cgroups its own containers made; a hierarchy root is refused as a placement."""
    from libcontainer.sandbox.location import Placement

    with pytest.raises(ConfigError, match="not the root itself"):
        Placement(root=str(tmp_path / "p"), cgroup_parent="/")
    parent = "/" + unique_name("placement")
    place = Placement(root=str(tmp_path / "p"), cgroup_parent=parent)
    stranger = f"/sys/fs/cgroup/pids{parent}/someone-else"
    os.makedirs(stranger)
    other = subprocess.Popen(["sleep", "1000"])
    try:
        Path(stranger, "cgroup.procs").write_text(str(other.pid))
        place.sweep()
        assert other.poll() is None, "sweep killed a process it does not own"
        assert os.path.isdir(stranger)
    finally:
        other.kill()
        other.wait()
        for d in (stranger, os.path.dirname(stranger)):
            with contextlib.suppress(OSError):
                os.rmdir(d)
