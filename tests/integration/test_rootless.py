"""Rootless containers through the library, run by a real unprivileged user.

Each test runs a small program as a user the test created (see ``rootless_env.py``): with
the library's defaults, as such a user gets them (the state root under its
``XDG_RUNTIME_DIR``, ``newuidmap`` found on ``PATH``, no cgroups it may not have), and
asserts from inside the container (``/proc/self/uid_map``) and from the host.
"""

from __future__ import annotations

import os
import shutil
import stat
from pathlib import Path
from typing import Any

import pytest
from rootless_env import SUB_COUNT, RootlessUser, delegated
from testrun import unique_name

pytestmark = pytest.mark.root

PRELUDE = """
import json, os, signal, subprocess, sys, time
import attrs
import specconv
from libcontainer import Factory, Process
from libcontainer.errors import LibcontainerError
bundle = {bundle!r}
spec = specconv.load_spec(bundle + "/config.json")
config = specconv.create_config(spec, bundle=bundle)
factory = Factory()
cid = {cid!r}
out = {{"root": str(factory.root)}}
"""
EPILOGUE = "\nprint(json.dumps(out))\n"


@pytest.fixture
def user(rootless_user: RootlessUser) -> RootlessUser:
    """The session's unprivileged user."""
    return rootless_user


def program(user: RootlessUser, body: str, cid: str = "") -> str:
    """A user-side program: the prelude (spec, config, default Factory), ``body``, the
    JSON result."""
    head = PRELUDE.format(bundle=str(user.bundle), cid=cid or unique_name("rl"))
    return head + body + EPILOGUE


def run_one(user: RootlessUser, process: str) -> dict[str, Any]:
    """Run ``process`` (a ``Process(...)`` expression with ``stdout=PIPE``) in a container
    of the user's bundle; its output (``text``) and exit status (``code``)."""
    body = f"""
c = factory.create(cid, config)
p = {process}
try:
    c.run(p)
    out["text"] = p.stdout.read().decode()
    out["code"] = p.wait()
finally:
    c.destroy()
"""
    result: dict[str, Any] = user.python_json(program(user, body))
    return result


def map_lines(text: str) -> list[list[int]]:
    """The lines of a uid_map/gid_map as lists of numbers."""
    return [[int(x) for x in line.split()] for line in text.strip().splitlines()]


def test_run_exec_and_destroy_without_cgroups(
    user: RootlessUser, rootless_spec: dict[str, Any]
) -> None:
    """The library's defaults for an unprivileged user: a user namespace mapping it to
    root, state under $XDG_RUNTIME_DIR/pyrunc (0700 + sticky, as runc's), the init and an
    exec'd process see the map from inside, and nothing stays behind."""
    rootless_spec["linux"]["namespaces"].append({"type": "network"})
    user.write_config(rootless_spec)
    out = user.python_json(
        program(
            user,
            """
c = factory.create(cid, config)
out["rootless"] = [c.config.rootless_euid, c.config.cgroups.rootless]
init = Process(["sh", "-c", "cat /proc/self/uid_map; id -u; sleep 30"], stdout=subprocess.PIPE)
c.start(init)
out["created"] = c.status().value
c.exec()
out["running"] = c.status().value
exec_ = Process(["sh", "-c", "cat /proc/self/uid_map /proc/self/setgroups; "
                "sed -n '3,$p' /proc/self/net/dev | cut -d: -f1 | tr -d ' '"],
                stdout=subprocess.PIPE, init=False)
c.start(exec_)
out["exec"] = exec_.stdout.read().decode()
exec_.wait()
out["processes"] = c.processes() == [init.pid]
try:
    c.pause()
except LibcontainerError as e:
    out["pause"] = [type(e).__name__, str(e)]
st = os.stat(factory.root)
out["root_mode"] = st.st_mode
out["state_dir"] = os.path.isdir(c.root)
c.signal(signal.SIGKILL)
out["init"] = init.stdout.read().decode()
out["code"] = init.wait()
c.destroy()
out["after"] = os.path.exists(c.root)
""",
        ),
    )
    assert out["root"] == str(user.state_root)
    assert stat.S_IMODE(out["root_mode"]) == 0o1700  # runc's XDG root: 0700 + sticky
    assert out["rootless"] == [True, True]
    assert (out["created"], out["running"]) == ("created", "running")
    assert map_lines(out["init"].splitlines()[0]) == [[0, user.uid, 1]]
    assert out["init"].splitlines()[1] == "0"
    exec_map, setgroups, links = out["exec"].splitlines()
    assert map_lines(exec_map) == [[0, user.uid, 1]]
    assert setgroups == "deny"  # the kernel's condition for an unprivileged gid_map
    assert links == "lo"  # a network namespace of its own, owned by the user's
    assert out["processes"]
    assert out["pause"][0] == "CgroupError" and "freezer" in out["pause"][1]
    assert out["code"] == -9
    assert out["state_dir"] and not out["after"]


@pytest.mark.skipif(shutil.which("newuidmap") is None, reason="needs newuidmap (uidmap)")
def test_multi_range_mapping_through_newuidmap(
    user: RootlessUser, rootless_spec: dict[str, Any]
) -> None:
    """With the user's /etc/subuid and /etc/subgid ranges, newuidmap/newgidmap (found on
    PATH) map 65537 ids; a process runs as container uid 1000 with supplementary groups
    (setgroups is allowed then)."""
    maps = [
        {"containerID": 0, "hostID": user.uid, "size": 1},
        {"containerID": 1, "hostID": user.sub_start, "size": SUB_COUNT},
    ]
    rootless_spec["linux"]["uidMappings"] = maps
    rootless_spec["linux"]["gidMappings"] = [
        dict(m, hostID=user.gid) if i == 0 else m for i, m in enumerate(maps)
    ]
    rootless_spec["process"]["user"] = {"uid": 1000, "gid": 1000, "additionalGids": [29]}
    rootless_spec["process"]["args"] = [
        "sh",
        "-c",
        "cat /proc/self/uid_map /proc/self/gid_map /proc/self/setgroups; id",
    ]
    user.write_config(rootless_spec)
    out = run_one(
        user,
        'Process(list(spec.process.args), user="1000:1000", additional_groups=["29"],'
        " stdout=subprocess.PIPE)",
    )
    lines = out["text"].splitlines()
    assert map_lines("\n".join(lines[0:2])) == [[0, user.uid, 1], [1, user.sub_start, SUB_COUNT]]
    assert map_lines("\n".join(lines[2:4])) == [[0, user.gid, 1], [1, user.sub_start, SUB_COUNT]]
    assert lines[4] == "allow"
    assert lines[5] == "uid=1000(alice) gid=1000(alice) groups=29(audio)"
    assert out["code"] == 0


@pytest.mark.skipif(shutil.which("newuidmap") is None, reason="needs newuidmap (uidmap)")
def test_root_mapped_to_a_subordinate_uid(
    user: RootlessUser, rootless_spec: dict[str, Any]
) -> None:
    """Container root is a subordinate uid, which the user can neither chown exec.fifo
    nor its stdio pipes to (runc fails on both): the container runs, writes to its stdout
    pipe and can even reopen it (/dev/stdout), as the user made the pipe reopenable."""
    maps = [{"containerID": 0, "hostID": user.sub_start, "size": SUB_COUNT}]
    rootless_spec["linux"]["uidMappings"] = maps
    rootless_spec["linux"]["gidMappings"] = maps
    user.write_config(rootless_spec)
    out = run_one(
        user,
        'Process(["sh", "-c", "echo via-fd; echo reopened > /dev/stdout; cat /proc/self/uid_map"],'
        " stdout=subprocess.PIPE)",
    )
    lines = out["text"].splitlines()
    assert lines[:2] == ["via-fd", "reopened"]
    assert map_lines(lines[2]) == [[0, user.sub_start, SUB_COUNT]]
    assert out["code"] == 0


def test_limits_need_delegation(user: RootlessUser, rootless_spec: dict[str, Any]) -> None:
    """Without a delegated cgroup, a limit is refused before anything is made: a
    RootlessError that names the limit and the directory, no state dir, no cgroup."""
    rootless_spec["linux"]["resources"] = {"memory": {"limit": 64 << 20}, "pids": {"limit": 20}}
    user.write_config(rootless_spec)
    out = user.python_json(
        program(
            user,
            """
try:
    factory.create(cid, config)
except LibcontainerError as e:
    out["error"] = [type(e).__name__, str(e)]
out["left"] = os.listdir(factory.root)
""",
        ),
    )
    kind, message = out["error"]
    assert kind == "RootlessError"
    assert "memory (memory)" in message and "pids (pids_limit)" in message
    assert "delegated" in message
    assert out["left"] == []


def test_what_a_user_cannot_have_is_refused_before_create(
    user: RootlessUser, rootless_spec: dict[str, Any]
) -> None:
    """Mappings outside the user's subordinate ranges, mappings without newuidmap, a
    non-rootless config, rlimits above the user's own: each a RootlessError from create,
    with nothing made."""
    rootless_spec["linux"]["uidMappings"] = [
        {"containerID": 0, "hostID": user.uid, "size": 1},
        {"containerID": 1, "hostID": 100, "size": 10},
    ]
    user.write_config(rootless_spec)
    out = user.python_json(
        program(
            user,
            """
def attempt(name, cfg, f=factory):
    try:
        f.create(cid, cfg)
    except LibcontainerError as e:
        out[name] = [type(e).__name__, str(e)]
    out[name + "_left"] = os.listdir(f.root)
attempt("outside", config)
attempt("no_tool", config, Factory(newuidmap="/nonexistent/newuidmap"))
attempt("not_rootless", attrs.evolve(config, rootless_euid=False))
import resource
hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
from libcontainer.configs import Rlimit
single = attrs.evolve(config, uid_mappings=config.uid_mappings[:1])
attempt("rlimit", attrs.evolve(single, rlimits=(
    Rlimit(type=resource.RLIMIT_NOFILE, soft=hard, hard=hard + 1),)))
""",
        ),
    )
    assert out["outside"][0] == "RootlessError"
    assert (
        "cannot map host uids 100-109" in out["outside"][1] and "/etc/subuid" in out["outside"][1]
    )
    assert out["no_tool"][0] == "RootlessError" and "newuidmap" in out["no_tool"][1]
    assert out["not_rootless"][0] == "RootlessError" and "rootless_euid" in out["not_rootless"][1]
    assert out["rlimit"][0] == "RootlessError" and "hard limit" in out["rlimit"][1]
    for name in ("outside", "no_tool", "not_rootless", "rlimit"):
        assert out[name + "_left"] == [], name


def _owner_marks(path: str) -> dict[str, str]:
    marks = {}
    for name in ("trusted.pylibcontainer.owner", "user.pylibcontainer.owner"):
        try:
            marks[name] = os.getxattr(path, name).decode()
        except OSError:
            pass
    return marks


def test_delegated_cgroups_limits_pause_and_owner_marks(
    user: RootlessUser, rootless_spec: dict[str, Any]
) -> None:
    """Started from inside a cgroup subtree delegated to the user: the container's cgroups
    are made below it (runc's default: relative to the caller's own), get their limits,
    carry user.* owner marks (this kernel keeps them on v1 too), pause and resume through
    the freezer, and are removed by destroy; the delegated cgroups themselves stay."""
    rootless_spec["linux"]["resources"] = {"memory": {"limit": 64 << 20}, "pids": {"limit": 32}}
    user.write_config(rootless_spec)
    body = """
c = factory.create(cid, config)
init = Process(["sleep", "60"])
try:
    c.run(init)
    out["paths"] = dict(c.state().cgroup_paths)
    out["dir"] = str(c.root)
    c.pause()
    out["paused"] = c.status().value
    freezer = out["paths"].get("freezer")
    out["freezer_state"] = open(freezer + "/freezer.state").read().strip() if freezer else ""
    c.resume()
    out["resumed"] = c.status().value
    p = Process(["cat", "/proc/self/cgroup"], stdout=subprocess.PIPE, init=False)
    c.start(p)
    out["exec_cgroup"] = p.stdout.read().decode()
    p.wait()
    out["limits"] = {
        "memory": open(out["paths"]["memory"] + "/memory.limit_in_bytes").read().strip(),
        "pids": open(out["paths"]["pids"] + "/pids.max").read().strip(),
    }
    out["marks_seen_by_user"] = {k: os.getxattr(v, "user.pylibcontainer.owner").decode()
                                 for k, v in out["paths"].items()}
    stats = c.stats()
    out["stats"] = [stats.memory_stats.usage.usage > 0, stats.pids_stats.current]
finally:
    c.destroy()
out["left"] = [p for p in out["paths"].values() if os.path.isdir(p)]
"""
    with delegated(user) as d:
        out = user.python_json(program(user, body), delegation=d)
        assert set(out["paths"]) == set(d.dirs)
        for key, path in out["paths"].items():
            assert path.startswith(d.dirs[key] + "/"), (key, path)
        assert (out["paused"], out["resumed"]) == ("paused", "running")
        assert out["freezer_state"] == "FROZEN"
        assert out["limits"] == {"memory": str(64 << 20), "pids": "32"}
        assert out["stats"] == [True, 1]  # the init alone, and the memory it uses
        assert set(out["marks_seen_by_user"].values()) == {out["dir"]}
        # The exec'd process joined every one of them (v2's line is "0::/...").
        seen = out["exec_cgroup"].splitlines()
        for key, path in out["paths"].items():
            relative = path[len(os.path.dirname(d.dirs[key])) :]
            assert any(line.split(":", 1)[1] == f"{key}:{relative}" for line in seen), key
        assert out["left"] == []
        assert all(os.path.isdir(p) for p in d.dirs.values())  # the delegation stays
        assert all(_owner_marks(p) == {} for p in d.dirs.values())  # and is not ours


def test_delegated_unified_only_pauses_through_cgroup_freeze(
    user: RootlessUser, rootless_spec: dict[str, Any]
) -> None:
    """With only the cgroup v2 hierarchy delegated, the container gets that cgroup alone
    (the v1 ones it cannot have are done without), with a user.* owner mark, and pauses
    through cgroup.freeze; a v1 limit is still refused before create."""
    user.write_config(rootless_spec)
    body = """
c = factory.create(cid, config)
init = Process(["sleep", "60"])
try:
    c.run(init)
    out["paths"] = {k: v for k, v in c.state().cgroup_paths.items() if os.path.isdir(v)}
    c.pause()
    out["paused"] = c.status().value
    out["freeze"] = open(out["paths"][""] + "/cgroup.freeze").read().strip()
    out["mark"] = os.getxattr(out["paths"][""], "user.pylibcontainer.owner").decode()
    c.resume()
    out["resumed"] = c.status().value
    out["pids"] = c.processes() == [init.pid]
finally:
    c.destroy()
limited = attrs.evolve(config, cgroups=attrs.evolve(config.cgroups, resources=attrs.evolve(
    config.cgroups.resources, memory=64 << 20)))
try:
    factory.create(cid + "-limited", limited)
except LibcontainerError as e:
    out["limited"] = type(e).__name__
out["dir"] = str(factory.root / cid)
out["left"] = [p for p in out["paths"].values() if os.path.isdir(p)]
"""
    with delegated(user, only=[""]) as d:
        out = user.python_json(program(user, body), delegation=d)
        assert list(out["paths"]) == [""]
        assert out["paths"][""].startswith(d.dirs[""] + "/")
        assert (out["paused"], out["freeze"], out["resumed"]) == ("paused", "1", "running")
        assert out["mark"] == out["dir"]
        assert out["pids"]
        assert out["limited"] == "RootlessError"
        assert out["left"] == []


def test_readme_rootless_example_runs_as_written(
    user: RootlessUser, rootless_spec: dict[str, Any]
) -> None:
    """The README's rootless example, run as the user from a directory holding its bundle."""
    import re

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    blocks = [b for b in re.findall(r"```python\n(.*?)```", readme, re.S) if "unprivileged" in b]
    assert blocks, "the README lost its rootless example"
    user.write_config(rootless_spec)
    here = user.home / "readme"
    here.mkdir(exist_ok=True)
    link = here / "bundle"
    if not link.is_symlink():
        link.symlink_to(user.bundle)
    done = user.run([user.python, "-c", blocks[0]], cwd=here)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == f"[b'0', b'{user.uid}', b'1'] 0"
